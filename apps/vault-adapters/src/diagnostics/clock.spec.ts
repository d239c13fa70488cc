import { skewFrom } from './clock';

describe('skewFrom', () => {
  const sent = Date.parse('2030-01-01T12:00:00.000Z');

  it('compares the Date header with the middle of the round trip', () => {
    expect(skewFrom('Tue, 01 Jan 2030 12:00:45 GMT', sent, sent + 2000)).toEqual({ vaultTime: '2030-01-01T12:00:45.000Z', skewSeconds: 44 });
    expect(skewFrom('Tue, 01 Jan 2030 11:59:00 GMT', sent, sent)).toEqual({ vaultTime: '2030-01-01T11:59:00.000Z', skewSeconds: -60 });
  });

  it('measures nothing without a readable Date header', () => {
    expect(skewFrom(undefined, sent, sent)).toEqual({ vaultTime: null, skewSeconds: null });
    expect(skewFrom('yesterday', sent, sent)).toEqual({ vaultTime: null, skewSeconds: null });
  });
});
