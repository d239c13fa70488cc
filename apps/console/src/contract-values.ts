import type { ApprovalStatus, CONSOLE_CSRF_HEADER, CardGrid, ReportCard } from '@openecm/contracts';

// The console imports only types from @openecm/contracts, so none of the server side (zod, the schemas) is
// bundled. The few values it needs are repeated here; the literal types tie the header to the contract, and a
// unit test (contract-values.spec.ts) compares the rest with the contract's own.

export const CSRF_HEADER: typeof CONSOLE_CSRF_HEADER = 'x-openecm-csrf';

export const REPORT_CARDS: readonly ReportCard[] = [
  'sessions',
  'injections',
  'distinctUsers',
  'distinctEndpoints',
  'failedRequests',
  'rotationsFailed',
  'emergencyAccesses',
];

export const CARD_GRIDS: Readonly<Record<ReportCard, CardGrid>> = {
  sessions: { grid: 'sessions', filter: {}, rangeColumn: 'startTime', sort: '-startTime' },
  injections: { grid: 'events', filter: { type: 'Credentials Used' }, rangeColumn: 'timestamp', sort: '-timestamp' },
  distinctUsers: { grid: 'sessions', filter: {}, rangeColumn: 'startTime', sort: 'user' },
  distinctEndpoints: { grid: 'sessions', filter: {}, rangeColumn: 'startTime', sort: 'endpoint' },
  failedRequests: { grid: 'events', filter: { type: 'Credential Request Failed' }, rangeColumn: 'timestamp', sort: '-timestamp' },
  rotationsFailed: { grid: 'events', filter: { type: 'Credential Release Failed' }, rangeColumn: 'timestamp', sort: '-timestamp' },
  emergencyAccesses: { grid: 'sessions', filter: { emergency: 'true' }, rangeColumn: 'startTime', sort: '-startTime' },
};

export const CARD_TITLES: Readonly<Record<ReportCard, string>> = {
  sessions: 'Sessions',
  injections: 'Credential injections',
  distinctUsers: 'Distinct users',
  distinctEndpoints: 'Distinct endpoints',
  failedRequests: 'Failed requests',
  rotationsFailed: 'Rotations failed',
  emergencyAccesses: 'Emergency accesses',
};

/** The columns each grid sorts on (the API refuses others). */
export const SESSION_SORTS = ['id', 'startTime', 'lsid', 'hostName', 'jumpGroupName', 'user', 'endpoint', 'credential'] as const;
export const EVENT_SORTS = ['id', 'timestamp', 'sessionId'] as const;

export type ColumnKind = 'text' | 'integer' | 'time' | 'boolean';

export const SESSION_COLUMNS: Readonly<Record<string, ColumnKind>> = {
  id: 'integer',
  lsid: 'text',
  type: 'text',
  startTime: 'time',
  endTime: 'time',
  duration: 'integer',
  fileTransfers: 'integer',
  hostName: 'text',
  externalKey: 'text',
  publicSiteId: 'integer',
  publicSiteName: 'text',
  jumpGroupId: 'integer',
  jumpGroupName: 'text',
  user: 'text',
  endpoint: 'text',
  credential: 'text',
  vault: 'text',
  leaseId: 'text',
  approvalId: 'text',
  emergency: 'boolean',
  traceId: 'text',
  injections: 'integer',
  failures: 'integer',
};

export const EVENT_COLUMNS: Readonly<Record<string, ColumnKind>> = {
  id: 'integer',
  sessionId: 'integer',
  lsid: 'text',
  type: 'text',
  performedByType: 'text',
  performedBy: 'text',
  destination: 'text',
  timestamp: 'time',
  source: 'text',
  traceId: 'text',
  credential: 'text',
  vault: 'text',
  leaseId: 'text',
};

export const MAX_PAGE = 1000;

/** The statuses an approval request passes through; the approvals list filters on one. */
export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired', 'revoked'];

/** The most requests one approvals list answers. */
export const MAX_APPROVALS = 200;

/** The grid path and query that list what a card counts over [from, to). */
export function cardGridQuery(card: ReportCard, from: string, to: string): { grid: CardGrid['grid']; query: Record<string, string> } {
  const g = CARD_GRIDS[card];
  return { grid: g.grid, query: { ...g.filter, [`${g.rangeColumn}.from`]: from, [`${g.rangeColumn}.to`]: to, sort: g.sort } };
}
