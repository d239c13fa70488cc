import {
  ApprovalStatus,
  ApprovalsQuery,
  CONSOLE_CSRF_HEADER,
  EVENT_COLUMNS as CONTRACT_EVENT_COLUMNS,
  EVENT_SORTS as CONTRACT_EVENT_SORTS,
  MAX_REPORT_PAGE,
  REPORT_CARDS as CONTRACT_CARDS,
  REPORT_CARD_GRIDS,
  SESSION_COLUMNS as CONTRACT_SESSION_COLUMNS,
  SESSION_SORTS as CONTRACT_SESSION_SORTS,
  cardGridQuery as contractCardGridQuery,
} from '@openecm/contracts';
import { APPROVAL_STATUSES, CARD_GRIDS, CSRF_HEADER, MAX_APPROVALS, EVENT_COLUMNS, EVENT_SORTS, MAX_PAGE, REPORT_CARDS, SESSION_COLUMNS, SESSION_SORTS, cardGridQuery } from './contract-values';

describe("the console's copy of contract values", () => {
  it('equals the contract', () => {
    expect(CSRF_HEADER).toBe(CONSOLE_CSRF_HEADER);
    expect(REPORT_CARDS).toEqual(CONTRACT_CARDS);
    expect(CARD_GRIDS).toEqual(REPORT_CARD_GRIDS);
    expect(SESSION_SORTS).toEqual(CONTRACT_SESSION_SORTS);
    expect(EVENT_SORTS).toEqual(CONTRACT_EVENT_SORTS);
    expect(SESSION_COLUMNS).toEqual(CONTRACT_SESSION_COLUMNS);
    expect(EVENT_COLUMNS).toEqual(CONTRACT_EVENT_COLUMNS);
    expect(MAX_PAGE).toBe(MAX_REPORT_PAGE);
    expect(APPROVAL_STATUSES).toEqual(ApprovalStatus.options);
    expect(ApprovalsQuery.safeParse({ limit: String(MAX_APPROVALS) }).success).toBe(true);
    expect(ApprovalsQuery.safeParse({ limit: String(MAX_APPROVALS + 1) }).success).toBe(false);
    for (const card of CONTRACT_CARDS) {
      const theirs = contractCardGridQuery(card, '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z');
      const ours = cardGridQuery(card, '2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z');
      expect({ path: `/api/v1/reports/${ours.grid}`, query: ours.query }).toEqual(theirs);
    }
  });
});
