import { spreadsheetSafe } from './csv-export';

describe('CSV export cells', () => {
  it.each(['=HYPERLINK("https://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd'])('makes %j text for a spreadsheet', (cell) => {
    expect(spreadsheetSafe(cell)).toBe(`'${cell}`);
  });

  it('leaves every ordinary value as it is', () => {
    for (const cell of ['alice', 'CORP\\alice', 'srv-app01', '2026-12-01T10:00:00.000Z', '', "it's"]) expect(spreadsheetSafe(cell)).toBe(cell);
  });
});
