import { z } from 'zod';
import { SealedBox, SealingPublicKey } from './sealed';

/**
 * Session reporting: the BGSessions-shaped store (sessions, their events, each event's data) that the dashboard
 * and the appliance's own tooling read, fed by the broker's events, the appliance's event batches and the
 * appliance's reporting API; plus the appliance connection session-reporting polls that API with.
 *
 * Shapes (HTTP; session-reporting answers the same over `reporting.*.v1`):
 *
 *   GET /api/v1/reports/summary?from=ISO&to=ISO          (from defaults to 7 days before to, to to now; at most
 *                                                          SUMMARY_MAX_DAYS; days and hours are UTC; exact counts)
 *     → {from, to, interval: "hour"|"day",
 *        cards: {sessions, injections, distinctUsers, distinctEndpoints, failedRequests, rotationsFailed, emergencyAccesses},
 *        top: {endpoints: [{value, count}], users: [...], credentials: [...]},      (10 each, by injections)
 *        series: [{bucket: ISO, sessions, injections}]}                           (every bucket, zeros included)
 *
 *   GET /api/v1/reports/sessions?<filters>&sort=-startTime&limit=100&cursor=…
 *   GET /api/v1/reports/events?<filters>&sort=-timestamp&limit=100&cursor=…
 *     filters, on every column of the row (camelCase):
 *       text     `col=v` (equals), `col.prefix=v` (starts with)
 *       integer  `col=n`, `col.from=n`, `col.to=n` (inclusive)
 *       time     `col.from=ISO` (inclusive), `col.to=ISO` (exclusive)
 *       boolean  `col=true|false`
 *     `sort=col` or `sort=-col` on SESSION_SORTS / EVENT_SORTS only (another column: 400 naming `sort`);
 *     `limit` 1..1000 (default 100); `cursor` the previous page's `nextCursor` (opaque; keyset, never an offset)
 *     → {items: [SessionRow | EventRow], nextCursor: string | null}
 *     `Accept: text/csv`: every matching row (no limit), header = the row's column names, `data` as JSON.
 *
 *   GET /api/v1/reports/sessions/{id} → {session: SessionRow, events: [EventRow], moreEvents}   (events oldest first,
 *     at most 1,000; the rest through the event grid with sessionId=)
 *
 *   SessionRow {id, lsid, type, startTime, endTime, duration, fileTransfers, hostName, externalKey, publicSiteId,
 *               publicSiteName, jumpGroupId, jumpGroupName, user, endpoint, credential, vault, leaseId, approvalId,
 *               emergency, traceId, injections, failures}
 *   EventRow   {id, sessionId, lsid, type, performedByType, performedBy, destination, timestamp,
 *               source: "broker"|"appliance"|"poller", traceId, credential, vault, leaseId, data: {[name]: value}}
 *
 *   POST /api/v1/sessions/events {events: [ApplianceSessionEvent] (1..1000)}   (`reporting` permission)
 *     → 200 {stored, duplicates, rejected: [{index, errors: [{field: "events[3].timestamp", message}]}]}
 *
 *   PUT /api/v1/admin/appliance {url, clientId, clientSecret, pollIntervalSeconds, caBundle?, allowInsecureHttp?}
 *   GET /api/v1/admin/appliance → ApplianceConnectionView (never the secret)              (`admin` permission)
 *
 * Event types (`session_event.type`) the broker writes: SESSION_EVENT_TYPES; the dashboard's cards open the grid
 * through REPORT_CARD_GRIDS / cardGridQuery.
 */

// ---- event types and cards ----

/** The `session_event.type` values the broker writes; "Credentials Used" is the vendor's vault-activity type. */
export const SESSION_EVENT_TYPES = {
  /** A list answered: the credential names offered (never a secret) in the event's data. */
  credentialsListed: 'Credentials Listed',
  /** An injection: a credential checked out and handed to the appliance. */
  credentialsUsed: 'Credentials Used',
  /** An injection refused or failed (access denied, credential in use, vault error...): the code in its data. */
  credentialRequestFailed: 'Credential Request Failed',
  credentialsReleased: 'Credentials Released',
  credentialRotated: 'Credential Rotated',
  /** Checked in without a password change. */
  credentialCheckedIn: 'Credential Checked In',
  /** Check-in or rotation failed for good (policy.lease.failed.v1): the rotations-failed card counts these. */
  credentialReleaseFailed: 'Credential Release Failed',
  /** The vault's check-out of an injection failed (its lease's failure; the request itself is a Credential Request Failed). */
  credentialCheckoutFailed: 'Credential Checkout Failed',
  /** An injection waits for approvers (policy.approval.requested.v1). */
  approvalRequested: 'Approval Requested',
  /** Approved, denied, expired unanswered or revoked: the status in its data. */
  approvalDecided: 'Approval Decided',
  /** Emergency access granted without approvers, with the reason given. */
  emergencyAccess: 'Emergency Access',
  /** An admin revoked the lease: released and rotated at once, the session ended at the appliance. */
  credentialRevoked: 'Credential Revoked',
  /** The first waiter for an exclusive credential may now inject it. */
  queueTurn: 'Credential Queue Turn',
} as const;
export type BrokerSessionEventType = (typeof SESSION_EVENT_TYPES)[keyof typeof SESSION_EVENT_TYPES];

export const EventSource = z.enum(['broker', 'appliance', 'poller']);
export type EventSource = z.infer<typeof EventSource>;

export const REPORT_CARDS = [
  'sessions',
  'injections',
  'distinctUsers',
  'distinctEndpoints',
  'failedRequests',
  'rotationsFailed',
  'emergencyAccesses',
] as const;
export type ReportCard = (typeof REPORT_CARDS)[number];

export interface CardGrid {
  grid: 'sessions' | 'events';
  /** Filters besides the time range. */
  filter: Readonly<Record<string, string>>;
  /** The time column the summary's range applies to: `<rangeColumn>.from` / `<rangeColumn>.to`. */
  rangeColumn: 'startTime' | 'timestamp';
  /** The grid order that fits the card. */
  sort: string;
}

/** Which grid, filtered how, shows the rows a summary card counts. */
export const REPORT_CARD_GRIDS: Readonly<Record<ReportCard, CardGrid>> = {
  sessions: { grid: 'sessions', filter: {}, rangeColumn: 'startTime', sort: '-startTime' },
  injections: { grid: 'events', filter: { type: SESSION_EVENT_TYPES.credentialsUsed }, rangeColumn: 'timestamp', sort: '-timestamp' },
  distinctUsers: { grid: 'sessions', filter: {}, rangeColumn: 'startTime', sort: 'user' },
  distinctEndpoints: { grid: 'sessions', filter: {}, rangeColumn: 'startTime', sort: 'endpoint' },
  failedRequests: { grid: 'events', filter: { type: SESSION_EVENT_TYPES.credentialRequestFailed }, rangeColumn: 'timestamp', sort: '-timestamp' },
  rotationsFailed: { grid: 'events', filter: { type: SESSION_EVENT_TYPES.credentialReleaseFailed }, rangeColumn: 'timestamp', sort: '-timestamp' },
  emergencyAccesses: { grid: 'sessions', filter: { emergency: 'true' }, rangeColumn: 'startTime', sort: '-startTime' },
};

/** The grid path and query string parameters that list what a card counts over [from, to). */
export function cardGridQuery(card: ReportCard, from: string, to: string): { path: string; query: Record<string, string> } {
  const g = REPORT_CARD_GRIDS[card];
  return {
    path: `/api/v1/reports/${g.grid}`,
    query: { ...g.filter, [`${g.rangeColumn}.from`]: from, [`${g.rangeColumn}.to`]: to, sort: g.sort },
  };
}

// ---- rows ----

const Iso = z.string().datetime({ offset: true });
const Id = z.string().regex(/^\d{1,19}$/, 'a decimal id');

export const SessionRow = z.strictObject({
  id: Id,
  lsid: z.string(),
  type: z.string().nullable(),
  startTime: z.string(),
  endTime: z.string().nullable(),
  /** Seconds. */
  duration: z.number().int().nullable(),
  fileTransfers: z.number().int(),
  /** The appliance site's host name, not the endpoint's. */
  hostName: z.string().nullable(),
  externalKey: z.string().nullable(),
  publicSiteId: z.number().int().nullable(),
  publicSiteName: z.string().nullable(),
  jumpGroupId: z.number().int().nullable(),
  jumpGroupName: z.string().nullable(),
  /** The representative (the broker's user, or the appliance's representative). */
  user: z.string().nullable(),
  endpoint: z.string().nullable(),
  /** The last credential injected in the session (its name; never a secret). */
  credential: z.string().nullable(),
  vault: z.string().nullable(),
  leaseId: z.string().nullable(),
  approvalId: z.string().nullable(),
  emergency: z.boolean(),
  /** The trace of the session's first broker event. */
  traceId: z.string().nullable(),
  injections: z.number().int(),
  /** Failed credential requests and failed releases in the session. */
  failures: z.number().int(),
});
export type SessionRow = z.infer<typeof SessionRow>;

export const EventRow = z.strictObject({
  id: Id,
  sessionId: Id,
  lsid: z.string(),
  type: z.string(),
  performedByType: z.string(),
  performedBy: z.string().nullable(),
  destination: z.string().nullable(),
  timestamp: z.string(),
  source: EventSource,
  traceId: z.string().nullable(),
  credential: z.string().nullable(),
  vault: z.string().nullable(),
  leaseId: z.string().nullable(),
  data: z.record(z.string(), z.string().nullable()),
});
export type EventRow = z.infer<typeof EventRow>;

// ---- grid queries ----

export type ColumnKind = 'text' | 'integer' | 'time' | 'boolean';

/** Every filterable column of a grid and its kind; `data` (an event's named values) is shown, not filtered. */
export const SESSION_COLUMNS = {
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
} as const satisfies Record<Exclude<keyof SessionRow, never>, ColumnKind>;

export const EVENT_COLUMNS = {
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
} as const satisfies Record<Exclude<keyof EventRow, 'data'>, ColumnKind>;

/** The columns a grid sorts on: each has an index (with the id as tie-breaker), so a page is an index range. */
export const SESSION_SORTS = ['id', 'startTime', 'lsid', 'hostName', 'jumpGroupName', 'user', 'endpoint', 'credential'] as const;
export const EVENT_SORTS = ['id', 'timestamp', 'sessionId'] as const;

export const MAX_REPORT_PAGE = 1000;
/** What the gateway asks per NATS request while it streams CSV; session-reporting may answer fewer (payload bound). */
export const REPORT_EXPORT_PAGE = 5000;

const TextValue = z.string().min(1).max(1024).refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters');
const IntValue = z.coerce.number({ error: 'an integer' }).int('an integer').min(0).max(Number.MAX_SAFE_INTEGER);
const BoolValue = z.enum(['true', 'false']);

type Text = z.ZodOptional<z.ZodType<string, string>>;
type Int = z.ZodOptional<z.ZodType<number, unknown>>;
type Bool = z.ZodOptional<z.ZodType<'true' | 'false', 'true' | 'false'>>;
/** The query parameters of a grid's columns, typed by kind: `user`, `user.prefix`, `startTime.from`, ... */
type FilterShape<C extends Record<string, ColumnKind>> = {
  [K in keyof C & string as C[K] extends 'text' ? K | `${K}.prefix` : C[K] extends 'integer' ? K | `${K}.from` | `${K}.to` : C[K] extends 'time' ? `${K}.from` | `${K}.to` : K]: C[K] extends 'text'
    ? Text
    : C[K] extends 'integer'
      ? Int
      : C[K] extends 'time'
        ? Text
        : Bool;
};

function filterShape<const C extends Record<string, ColumnKind>>(columns: C): FilterShape<C> {
  const shape: Record<string, z.ZodOptional<z.ZodType>> = {};
  for (const [col, kind] of Object.entries(columns)) {
    if (kind === 'text') {
      shape[col] = TextValue.optional().meta({ description: `${col} equals` });
      shape[`${col}.prefix`] = TextValue.optional().meta({ description: `${col} starts with` });
    } else if (kind === 'integer') {
      shape[col] = IntValue.optional().meta({ description: `${col} equals` });
      shape[`${col}.from`] = IntValue.optional().meta({ description: `${col} at least` });
      shape[`${col}.to`] = IntValue.optional().meta({ description: `${col} at most` });
    } else if (kind === 'time') {
      shape[`${col}.from`] = Iso.optional().meta({ description: `${col} at or after` });
      shape[`${col}.to`] = Iso.optional().meta({ description: `${col} before` });
    } else {
      shape[col] = BoolValue.optional().meta({ description: `${col} is` });
    }
  }
  return shape as FilterShape<C>;
}

function sortEnum<const S extends readonly string[]>(sorts: S) {
  const values = sorts.flatMap((s) => [s, `-${s}`]);
  return z
    .string()
    .refine((v) => values.includes(v), `one of ${sorts.join(', ')}, each ascending or with "-" descending`)
    .meta({ description: `A column (${sorts.join(', ')}), "-" before it for descending.` });
}

const pageShape = (max: number, defaultSort: string, sorts: readonly string[]) => ({
  sort: sortEnum(sorts).default(defaultSort),
  limit: z.coerce.number({ error: 'an integer' }).int('an integer').min(1).max(max).default(100),
  cursor: z.string().min(1).max(1024).regex(/^[A-Za-z0-9_-]+$/, "the previous page's nextCursor").optional(),
});

/** The query of the sessions grid (HTTP). */
export const SessionsQuery = z.strictObject({ ...filterShape(SESSION_COLUMNS), ...pageShape(MAX_REPORT_PAGE, '-startTime', SESSION_SORTS) });
export type SessionsQuery = z.infer<typeof SessionsQuery>;
export const EventsQuery = z.strictObject({ ...filterShape(EVENT_COLUMNS), ...pageShape(MAX_REPORT_PAGE, '-timestamp', EVENT_SORTS) });
export type EventsQuery = z.infer<typeof EventsQuery>;

/** The same over NATS: larger pages for the CSV export (the answer stays under the bus's payload bound). */
export const SessionsRequest = SessionsQuery.extend(pageShape(REPORT_EXPORT_PAGE, '-startTime', SESSION_SORTS));
export const EventsRequest = EventsQuery.extend(pageShape(REPORT_EXPORT_PAGE, '-timestamp', EVENT_SORTS));

export const SessionPage = z.strictObject({ items: z.array(SessionRow), nextCursor: z.string().nullable() });
export type SessionPage = z.infer<typeof SessionPage>;
export const EventPage = z.strictObject({ items: z.array(EventRow), nextCursor: z.string().nullable() });
export type EventPage = z.infer<typeof EventPage>;

/** The CSV columns of each grid, in order: the row's fields. */
export const SESSION_CSV_COLUMNS = Object.keys(SessionRow.shape) as Array<keyof SessionRow>;
export const EVENT_CSV_COLUMNS = Object.keys(EventRow.shape) as Array<keyof EventRow>;

export const SessionPath = z.strictObject({ id: Id });
/** A session's page shows at most this many of its events; the event grid (`sessionId=`) pages through all of them. */
export const SESSION_DETAIL_EVENTS = 1000;
export const SessionDetail = z.strictObject({
  session: SessionRow,
  /** Oldest first, at most SESSION_DETAIL_EVENTS. */
  events: z.array(EventRow),
  /** More events follow: `GET /api/v1/reports/events?sessionId=<id>&sort=timestamp` pages through them all. */
  moreEvents: z.boolean(),
});
export type SessionDetail = z.infer<typeof SessionDetail>;

// ---- summary ----

/** The longest summary range: ten years of daily buckets. */
export const SUMMARY_MAX_DAYS = 3660;

export const SummaryQuery = z
  .strictObject({ from: Iso.optional(), to: Iso.optional() })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), { message: 'must be before to', path: ['from'] })
  .refine((q) => !q.from || !q.to || Date.parse(q.to) - Date.parse(q.from) <= SUMMARY_MAX_DAYS * 86_400_000, {
    message: `the range is at most ${SUMMARY_MAX_DAYS} days`,
    path: ['from'],
  });
export type SummaryQuery = z.infer<typeof SummaryQuery>;

const Count = z.number().int().nonnegative();
const TopEntry = z.strictObject({ value: z.string(), count: Count });
export const TOP_ENTRIES = 10;
/** Up to this range the series is hourly, daily beyond. */
export const HOURLY_SERIES_MAX_HOURS = 72;

export const ReportSummary = z.strictObject({
  from: z.string(),
  to: z.string(),
  interval: z.enum(['hour', 'day']),
  cards: z.strictObject({
    /** Sessions that started in the range. */
    sessions: Count,
    /** "Credentials Used" events in the range. */
    injections: Count,
    /** Users and endpoints of the sessions that started in the range. */
    distinctUsers: Count,
    distinctEndpoints: Count,
    /** "Credential Request Failed" events. */
    failedRequests: Count,
    /** "Credential Release Failed" events: check-in or rotation failed for good. */
    rotationsFailed: Count,
    /** Sessions that started in the range under emergency access. */
    emergencyAccesses: Count,
  }),
  /** By injections in the range, most first. */
  top: z.strictObject({ endpoints: z.array(TopEntry), users: z.array(TopEntry), credentials: z.array(TopEntry) }),
  /** Every bucket of the range (UTC hours or days), oldest first. */
  series: z.array(z.strictObject({ bucket: z.string(), sessions: Count, injections: Count })),
});
export type ReportSummary = z.infer<typeof ReportSummary>;

// ---- the appliance's events ----

export const MAX_INGEST_BATCH = 1000;
const Attr = (max: number) => z.string().max(max).refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters');

/** One event of an appliance session, as the appliance posts it (BGSessions `session_event` and its data). */
export const ApplianceSessionEvent = z.strictObject({
  /** The appliance's session id. */
  lsid: Attr(128).pipe(z.string().min(1)),
  /** E.g. "Session Start", "Session End", "Credentials Used". */
  type: Attr(64).pipe(z.string().min(1)),
  timestamp: Iso,
  /** E.g. "representative", "system", "customer". */
  performedByType: Attr(32).pipe(z.string().min(1)),
  performedBy: Attr(512).nullable().optional(),
  destination: Attr(512).nullable().optional(),
  data: z
    .record(z.string().min(1).max(64), z.string().max(4096).nullable())
    .refine((d) => Object.keys(d).length <= 64, 'at most 64 values')
    .default({}),
  /** The appliance's id of the event, accepted as sent; an event is the same event by its content (to the second), which the reporting API can match. */
  eventId: Attr(128).pipe(z.string().min(1)).optional(),
  // session attributes, kept on the session row (the latest non-empty value wins)
  sessionType: Attr(64).optional(),
  hostName: Attr(512).optional(),
  externalKey: Attr(512).optional(),
  publicSiteId: z.number().int().min(0).max(2_147_483_647).optional(),
  publicSiteName: Attr(512).optional(),
  jumpGroupId: z.number().int().min(0).max(2_147_483_647).optional(),
  jumpGroupName: Attr(512).optional(),
});
export type ApplianceSessionEvent = z.infer<typeof ApplianceSessionEvent>;

/** The batch as a whole: its events are judged one by one, so a bad one does not refuse the others. */
export const SessionEventBatch = z.strictObject({ events: z.array(z.unknown()).min(1).max(MAX_INGEST_BATCH) });
/** The batch as the appliance sends it (what the API description shows): each event an ApplianceSessionEvent. */
export const SessionEventBatchDescribed = z.strictObject({ events: z.array(ApplianceSessionEvent).min(1).max(MAX_INGEST_BATCH) });

export const RejectedEvent = z.strictObject({
  /** The event's place in the batch. */
  index: z.number().int().nonnegative(),
  errors: z.array(z.strictObject({ field: z.string(), message: z.string() })),
});
export const IngestResult = z.strictObject({
  /** Events stored now. */
  stored: Count,
  /** Events stored before (the same content: session, type, time to the second, who, where and data). */
  duplicates: Count,
  rejected: z.array(RejectedEvent),
});
export type IngestResult = z.infer<typeof IngestResult>;

// ---- the appliance connection ----

export const APPLIANCE_CONNECTION_NAME = 'default';

/** The appliance's API (OAuth client credentials), polled for its session reports; the policy reuses it to end sessions. */
export const ApplianceConnectionInput = z.strictObject({
  /** The site's base URL, e.g. https://pra.example.com */
  url: z.string().url().max(2048),
  clientId: z.string().min(1).max(256).refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters'),
  clientSecret: z.string().min(1).max(1024),
  /** How often the reporting API is asked for new sessions. */
  pollIntervalSeconds: z.number().int().min(5).max(86_400).default(60),
  /** PEM certificates the site's TLS certificate must chain to, besides the system's. */
  caBundle: z.string().max(200_000).includes('-----BEGIN CERTIFICATE-----', { message: 'PEM certificates' }).optional(),
  /** Plain http:// (a simulator, a lab): refused unless set. */
  allowInsecureHttp: z.boolean().default(false),
});
export type ApplianceConnectionInput = z.infer<typeof ApplianceConnectionInput>;

export const ApplianceConnectionView = z.strictObject({
  configured: z.boolean(),
  url: z.string().nullable(),
  clientId: z.string().nullable(),
  /** Whether a client secret is kept (it is never answered). */
  clientSecretSet: z.boolean(),
  pollIntervalSeconds: z.number().int().nullable(),
  caBundle: z.boolean(),
  allowInsecureHttp: z.boolean(),
  updatedAt: z.string().nullable(),
  poll: z.strictObject({
    /** The appliance time (unix seconds, as an ISO time) the next poll asks from. */
    resumeFrom: z.string().nullable(),
    lastPolledAt: z.string().nullable(),
    lastError: z.string().nullable(),
    sessionsStored: Count,
  }),
});
export type ApplianceConnectionView = z.infer<typeof ApplianceConnectionView>;

/** Bound to its place, so a box sealed for this does not open as anything else (HPKE info and aad). */
export const APPLIANCE_SEAL_CONTEXT = { info: 'openecm appliance connection v1', aad: `appliance-connection:${APPLIANCE_CONNECTION_NAME}` } as const;

// ---- the subjects ----

export const REPORTING_SUBJECTS = {
  'reporting.summary.get.v1': { request: SummaryQuery, reply: ReportSummary },
  'reporting.sessions.query.v1': { request: SessionsRequest, reply: SessionPage },
  'reporting.events.query.v1': { request: EventsRequest, reply: EventPage },
  /** NOT_FOUND when no session has the id. */
  'reporting.session.get.v1': { request: SessionPath, reply: SessionDetail },
  /** A slice of one HTTP batch (the gateway splits it to stay under the payload bound); `offset` keeps indexes the batch's. */
  'reporting.events.ingest.v1': {
    request: z.strictObject({ events: z.array(z.unknown()).min(1).max(MAX_INGEST_BATCH), offset: z.number().int().min(0).default(0) }),
    reply: IngestResult,
  },
  'reporting.appliance.get.v1': { request: z.strictObject({}), reply: ApplianceConnectionView },
  /** `connection`: an ApplianceConnectionInput sealed to session-reporting's key (APPLIANCE_SEAL_CONTEXT). */
  'reporting.appliance.put.v1': { request: z.strictObject({ connection: SealedBox }), reply: ApplianceConnectionView },
  /** The key appliance connection settings are sealed to (derived from APPLIANCE_SETTINGS_KEYS). */
  'reporting.sealing-key.get.v1': { request: z.strictObject({}), reply: SealingPublicKey },
} as const;
