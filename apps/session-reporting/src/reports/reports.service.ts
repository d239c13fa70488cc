import { Injectable } from '@nestjs/common';
import {
  EVENT_COLUMNS,
  HOURLY_SERIES_MAX_HOURS,
  OpenEcmError,
  SESSION_COLUMNS,
  SESSION_DETAIL_EVENTS,
  SESSION_EVENT_TYPES,
  TOP_ENTRIES,
  type EventRow,
  type ParsedRequestOf,
  type ReportSummary,
  type SessionDetail,
  type SessionRow,
} from '@openecm/contracts';
import { DataSource } from 'typeorm';
import { encodeCursor, gridSql, type GridColumns } from './grid-query';
import { summaryPlan, type SummaryPlan, type TimeRange } from './summary-plan';

/** A page's answer stays well under NATS's max_payload (1 MiB by default): rows past this are the next page's. */
export const MAX_PAGE_BYTES = 768 * 1024;

const nullable = (kind: GridColumns[string]['kind'], sql: string, notNull = false) => ({ kind, sql, nullable: !notNull });

const SESSION_SQL: Record<keyof typeof SESSION_COLUMNS, string> = {
  id: 's."id"',
  lsid: 's."lsid"',
  type: 's."type"',
  startTime: 's."start_time"',
  endTime: 's."end_time"',
  duration: 's."duration"',
  fileTransfers: 's."file_transfers"',
  hostName: 's."host_name"',
  externalKey: 's."external_key"',
  publicSiteId: 's."public_site_id"',
  publicSiteName: 's."public_site_name"',
  jumpGroupId: 's."jump_group_id"',
  jumpGroupName: 's."jump_group_name"',
  user: 's."user_name"',
  endpoint: 's."endpoint"',
  credential: 's."credential_name"',
  vault: 's."vault"',
  leaseId: 's."lease_id"',
  approvalId: 's."approval_id"',
  emergency: 's."emergency"',
  traceId: 's."trace_id"',
  injections: 's."injections"',
  failures: 's."failures"',
};
const SESSION_NOT_NULL = new Set(['id', 'lsid', 'startTime', 'fileTransfers', 'emergency', 'injections', 'failures']);
const SESSION_GRID: GridColumns = Object.fromEntries(
  Object.entries(SESSION_COLUMNS).map(([name, kind]) => [name, nullable(kind, SESSION_SQL[name as keyof typeof SESSION_SQL], SESSION_NOT_NULL.has(name))]),
);

const EVENT_SQL: Record<keyof typeof EVENT_COLUMNS, string> = {
  id: 'e."id"',
  sessionId: 'e."session_id"',
  lsid: 's."lsid"',
  type: 'e."type"',
  performedByType: 'e."performed_by_type"',
  performedBy: 'e."performed_by"',
  destination: 'e."destination"',
  timestamp: 'e."timestamp"',
  source: 'e."source"',
  traceId: 'e."trace_id"',
  credential: 'e."credential_name"',
  vault: 'e."vault"',
  leaseId: 'e."lease_id"',
};
const EVENT_NOT_NULL = new Set(['id', 'sessionId', 'lsid', 'type', 'performedByType', 'timestamp', 'source']);
const EVENT_GRID: GridColumns = Object.fromEntries(
  Object.entries(EVENT_COLUMNS).map(([name, kind]) => [name, nullable(kind, EVENT_SQL[name as keyof typeof EVENT_SQL], EVENT_NOT_NULL.has(name))]),
);

const SESSION_SELECT = Object.entries(SESSION_SQL)
  .map(([name, sql]) => `${sql} AS "${name}"`)
  .join(', ');
const EVENT_SELECT = Object.entries(EVENT_SQL)
  .map(([name, sql]) => `${sql} AS "${name}"`)
  .join(', ');

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

function toSessionRow(r: Record<string, unknown>): SessionRow {
  return {
    ...(r as unknown as SessionRow),
    id: String(r['id']),
    startTime: iso(r['startTime'] as Date) as string,
    endTime: iso(r['endTime'] as Date | null),
  };
}

function toEventRow(r: Record<string, unknown>, data: Record<string, string | null>): EventRow {
  return {
    ...(r as unknown as EventRow),
    id: String(r['id']),
    sessionId: String(r['sessionId']),
    timestamp: iso(r['timestamp'] as Date) as string,
    data,
  };
}

/** The bound parameters of one statement, numbered as they are added. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The report queries: the summary cards, the two grids and a session in detail. */
@Injectable()
export class ReportsService {
  constructor(private readonly dataSource: DataSource) {}

  async sessions(query: ParsedRequestOf<'reporting.sessions.query.v1'>): Promise<Page<SessionRow>> {
    const sql = gridSql(SESSION_GRID, query, 's."id"');
    return this.page(
      `SELECT ${SESSION_SELECT}, ${sql.sortKey} AS "__key" FROM "reporting"."session" s`,
      sql,
      query.limit,
      async (rows) => rows.map(toSessionRow),
    );
  }

  async events(query: ParsedRequestOf<'reporting.events.query.v1'>): Promise<Page<EventRow>> {
    const sql = gridSql(EVENT_GRID, query, 'e."id"');
    return this.page(
      `SELECT ${EVENT_SELECT}, ${sql.sortKey} AS "__key"
         FROM "reporting"."session_event" e JOIN "reporting"."session" s ON s."id" = e."session_id"`,
      sql,
      query.limit,
      (rows) => this.withData(rows),
    );
  }

  async session(id: string): Promise<SessionDetail> {
    const [session] = await this.dataSource.query<Array<Record<string, unknown>>>(
      `SELECT ${SESSION_SELECT} FROM "reporting"."session" s WHERE s."id" = $1`,
      [id],
    );
    if (!session) throw new OpenEcmError('NOT_FOUND', 'no session has this id');
    const rows = await this.dataSource.query<Array<Record<string, unknown>>>(
      `SELECT ${EVENT_SELECT} FROM "reporting"."session_event" e JOIN "reporting"."session" s ON s."id" = e."session_id"
        WHERE e."session_id" = $1 ORDER BY e."timestamp", e."id" LIMIT ${SESSION_DETAIL_EVENTS + 1}`,
      [id],
    );
    const events = await this.withData(rows.slice(0, SESSION_DETAIL_EVENTS));
    const kept = fitting(events, MAX_PAGE_BYTES - Buffer.byteLength(JSON.stringify(session)));
    return { session: toSessionRow(session), events: events.slice(0, kept), moreEvents: rows.length > SESSION_DETAIL_EVENTS || kept < events.length };
  }

  /**
   * The cards of a range: its whole UTC days from the rollups (day totals; the distinct values and top 10s from the
   * day, month and year buckets of each value, or a year less its buckets outside the range where that reads
   * fewer rows), the partial days at either end from the raw tables' index
   * ranges, each card one statement combining both; the statements run side by side on the pool. The answer is
   * what the raw tables alone would answer: a value seen in several buckets or an edge counts once.
   */
  async summary(query: ParsedRequestOf<'reporting.summary.get.v1'>): Promise<ReportSummary> {
    const to = query.to ? new Date(query.to) : new Date();
    const from = query.from ? new Date(query.from) : new Date(to.getTime() - 7 * 86_400_000);
    const hours = (to.getTime() - from.getTime()) / 3_600_000;
    const interval = hours <= HOURLY_SERIES_MAX_HOURS ? 'hour' : 'day';
    const plan = summaryPlan(from, to);
    const T = SESSION_EVENT_TYPES;
    const run = <R>(build: (p: Params) => string) => {
      const p = new Params();
      const sql = build(p);
      return this.dataSource.query<R[]>(sql, p.values);
    };
    const count = (rows: Array<{ n: string | number | null }>) => Number(rows[0]?.n ?? 0);
    const edgeRange = (p: Params, column: string, e: TimeRange) => `${column} >= ${p.add(e.from.toISOString())}::timestamptz AND ${column} < ${p.add(e.to.toISOString())}::timestamptz`;
    const dayRange = (p: Params, days: NonNullable<SummaryPlan['days']>) => `"day" >= ${p.add(days.from)}::date AND "day" < ${p.add(days.to)}::date`;
    // each value with its count in each bucket, negated in a bucket the plan takes away
    const bucketRows = (p: Params, kind: string) =>
      plan.buckets.map(
        (b) => `SELECT "value", ${b.sign < 0 ? '-' : ''}"n" AS n FROM "reporting"."report_value"
                 WHERE "kind" = ${p.add(kind)} AND "grain" = ${p.add(b.grain)} AND "bucket" >= ${p.add(b.from)}::date AND "bucket" < ${p.add(b.to)}::date AND "n" > 0`,
      );
    /** A count of sessions: the raw edges and the day rollup's column over the whole days. */
    const sessionCount = (where: string, dayColumn: string) =>
      run<{ n: string }>((p) => {
        const terms = [
          ...plan.edges.map((e) => `(SELECT count(*) FROM "reporting"."session" WHERE ${where}${edgeRange(p, '"start_time"', e)})`),
          ...(plan.days ? [`(SELECT COALESCE(sum("${dayColumn}"), 0) FROM "reporting"."report_session_day" WHERE ${dayRange(p, plan.days)})`] : []),
        ];
        return `SELECT ${[...terms, '0'].join(' + ')} AS n`;
      });
    // grouped over a UNION ALL rather than a UNION: the planner hashes the values instead of sorting every row
    // (a value is in the range when its signed counts sum above zero: a year less the months outside it)
    const distinct = (column: string, kind: string) =>
      run<{ n: string }>(
        (p) => `SELECT count(*) AS n FROM (SELECT value FROM (${[
          ...plan.edges.map((e) => `SELECT ${column} AS value, 1 AS n FROM "reporting"."session" WHERE ${edgeRange(p, '"start_time"', e)} AND ${column} IS NOT NULL`),
          ...bucketRows(p, kind),
          'SELECT NULL::text AS value, 0::bigint AS n WHERE false',
        ].join(' UNION ALL ')}) u GROUP BY value HAVING sum(n) > 0) d`,
      );
    const usedEdge = (p: Params, e: TimeRange) => `"type" = ${p.add(T.credentialsUsed)} AND ${edgeRange(p, '"timestamp"', e)}`;
    const top = (column: string, kind: string) =>
      run<{ value: string; count: string }>(
        (p) => `SELECT value, sum(n) AS count FROM (${[
          ...plan.edges.map(
            (e) => `SELECT ${column} AS value, count(*) AS n FROM "reporting"."session_event" WHERE ${usedEdge(p, e)} AND ${column} IS NOT NULL GROUP BY ${column}`,
          ),
          ...bucketRows(p, kind),
          'SELECT NULL::text AS value, 0::bigint AS n WHERE false',
        ].join(' UNION ALL ')}) t
          GROUP BY value HAVING sum(n) > 0 ORDER BY sum(n) DESC, value LIMIT ${TOP_ENTRIES}`,
      ).then((rows) => rows.map((r) => ({ value: r.value, count: Number(r.count) })));
    // the hourly series (72 hours at most) is read from the raw tables; the daily one from the day rollups and the edges
    const seriesPlan: SummaryPlan = interval === 'hour' ? { edges: [{ from, to }], days: null, buckets: [] } : plan;
    const bucket = (column: string) => `date_trunc('${interval}', ${column}, 'UTC')`;
    const seriesOf = (table: string, column: string, where: (p: Params) => string, dayTable: string, dayColumn: string) =>
      run<{ b: Date; n: string }>(
        (p) => `SELECT b, sum(n) AS n FROM (${[
          ...seriesPlan.edges.map((e) => `SELECT ${bucket(column)} AS b, count(*) AS n FROM "reporting"."${table}" WHERE ${where(p)}${edgeRange(p, column, e)} GROUP BY 1`),
          ...(seriesPlan.days
            ? [`SELECT ("day"::timestamp AT TIME ZONE 'UTC') AS b, "${dayColumn}" AS n FROM "reporting"."${dayTable}" WHERE ${dayRange(p, seriesPlan.days)}`]
            : []),
          'SELECT NULL::timestamptz AS b, 0::bigint AS n WHERE false',
        ].join(' UNION ALL ')}) s GROUP BY b`,
      );
    const counted = [T.credentialsUsed, T.credentialRequestFailed, T.credentialReleaseFailed];

    const [sessions, users, endpoints, emergency, byType, topEndpoints, topUsers, topCredentials, sessionSeries, injectionSeries] = await Promise.all([
      sessionCount('', 'sessions'),
      distinct('"user_name"', 'user'),
      distinct('"endpoint"', 'endpoint'),
      sessionCount('"emergency" AND ', 'emergencies'),
      run<{ type: string; n: string }>(
        (p) => `SELECT "type", sum(n) AS n FROM (${[
          ...plan.edges.map(
            (e) => `SELECT "type", count(*) AS n FROM "reporting"."session_event" WHERE "type" = ANY(${p.add(counted)}::varchar[]) AND ${edgeRange(p, '"timestamp"', e)} GROUP BY "type"`,
          ),
          ...(plan.days
            ? [
                `SELECT t.type, t.n FROM "reporting"."report_event_day" r
                   CROSS JOIN LATERAL (VALUES (${p.add(T.credentialsUsed)}, r."injections"), (${p.add(T.credentialRequestFailed)}, r."failed_requests"),
                                              (${p.add(T.credentialReleaseFailed)}, r."rotations_failed")) AS t(type, n)
                  WHERE ${dayRange(p, plan.days)}`,
              ]
            : []),
          'SELECT NULL::text AS type, 0::bigint AS n WHERE false',
        ].join(' UNION ALL ')}) t GROUP BY "type"`,
      ),
      top('"destination"', 'used.endpoint'),
      top('"performed_by"', 'used.user'),
      top('"credential_name"', 'used.credential'),
      seriesOf('session', '"start_time"', () => '', 'report_session_day', 'sessions'),
      seriesOf('session_event', '"timestamp"', (p) => `"type" = ${p.add(T.credentialsUsed)} AND `, 'report_event_day', 'injections'),
    ]);
    const typeCount = (type: string) => Number(byType.find((r) => r.type === type)?.n ?? 0);
    return {
      from: from.toISOString(),
      to: to.toISOString(),
      interval,
      cards: {
        sessions: count(sessions),
        injections: typeCount(T.credentialsUsed),
        distinctUsers: count(users),
        distinctEndpoints: count(endpoints),
        failedRequests: typeCount(T.credentialRequestFailed),
        rotationsFailed: typeCount(T.credentialReleaseFailed),
        emergencyAccesses: count(emergency),
      },
      top: { endpoints: topEndpoints, users: topUsers, credentials: topCredentials },
      series: series(from, to, interval, sessionSeries, injectionSeries),
    };
  }

  private async page<T>(select: string, sql: ReturnType<typeof gridSql>, limit: number, map: (rows: Array<Record<string, unknown>>) => Promise<T[]>): Promise<Page<T>> {
    const rows = await this.dataSource.query<Array<Record<string, unknown>>>(
      `${select}${sql.where.length ? ` WHERE ${sql.where.join(' AND ')}` : ''} ORDER BY ${sql.orderBy} LIMIT ${limit + 1}`,
      sql.params,
    );
    const items = await map(rows.slice(0, limit).map(({ __key: _key, ...row }) => row));
    // cut where the answer would outgrow a NATS message: the rest is the next page
    const kept = fitting(items, MAX_PAGE_BYTES);
    const more = rows.length > limit || kept < items.length;
    const last = rows[kept - 1];
    return {
      items: items.slice(0, kept),
      nextCursor: more && last ? encodeCursor((last['__key'] as string | null) ?? null, String(last['id'])) : null,
    };
  }

  private async withData(rows: Array<Record<string, unknown>>): Promise<EventRow[]> {
    const ids = rows.map((r) => String(r['id']));
    const data = new Map<string, Record<string, string | null>>();
    if (ids.length > 0) {
      const values = await this.dataSource.query<Array<{ id: string; name: string; value: string | null }>>(
        `SELECT "session_event_id" AS id, "name", "value" FROM "reporting"."session_event_data"
          WHERE "session_event_id" = ANY($1::bigint[]) ORDER BY "id"`,
        [ids],
      );
      for (const v of values) {
        const d = data.get(String(v.id)) ?? {};
        d[v.name] = v.value;
        data.set(String(v.id), d);
      }
    }
    return rows.map((r) => toEventRow(r, data.get(String(r['id'])) ?? {}));
  }
}

/** How many of the items, from the first, fit in `budget` bytes of JSON (at least one). */
function fitting(items: readonly unknown[], budget: number): number {
  let bytes = 0;
  let kept = 0;
  for (const item of items) {
    bytes += Buffer.byteLength(JSON.stringify(item));
    if (bytes > budget && kept > 0) break;
    kept++;
  }
  return kept;
}

function series(from: Date, to: Date, interval: 'hour' | 'day', sessions: Array<{ b: Date; n: string }>, injections: Array<{ b: Date; n: string }>) {
  const key = (b: Date) => new Date(b).getTime();
  const s = new Map(sessions.filter((r) => r.b !== null).map((r) => [key(r.b), Number(r.n)]));
  const i = new Map(injections.filter((r) => r.b !== null).map((r) => [key(r.b), Number(r.n)]));
  const step = interval === 'hour' ? 3_600_000 : 86_400_000;
  const out: ReportSummary['series'] = [];
  for (let t = Math.floor(from.getTime() / step) * step; t < to.getTime(); t += step) {
    out.push({ bucket: new Date(t).toISOString(), sessions: s.get(t) ?? 0, injections: i.get(t) ?? 0 });
  }
  return out;
}
