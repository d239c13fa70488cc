import type { INestApplication } from '@nestjs/common';
import { SESSION_EVENT_TYPES, TOP_ENTRIES, type ApplianceSessionEvent, type ReportSummary } from '@openecm/contracts';
import type { Bus } from '@openecm/messaging';
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import { applianceRecord } from '../src/ingest/appliance-event.mapping';
import { ReportingRollups1796000000002 } from '../src/migrations/1796000000002-reporting-rollups';
import { ReportingDekads1796000000004 } from '../src/migrations/1796000000004-reporting-dekads';
import { ReportsService } from '../src/reports/reports.service';
import { summaryPlan } from '../src/reports/summary-plan';
import { toSessionEvent } from '../src/sessions/lease-event.mapping';
import { SessionEventsService } from '../src/sessions/session-events.service';
import { startReportingApp, type ReportingApp } from './reporting-app';

jest.setTimeout(120_000);

const T = SESSION_EVENT_TYPES;

/**
 * The summary answered from the rollups (whole UTC days, months, years) and the raw tables (the partial days at the
 * edges) is the answer of the raw tables alone, after events from the three sources, stored twice, sessions moving
 * to an earlier day, and the migration's backfill of rows stored before it.
 */
describe('session-reporting: the summary rollups', () => {
  let running: ReportingApp;
  let pg: Client;
  let app: INestApplication;
  let bus: Bus;
  let reports: ReportsService;
  let store: SessionEventsService;

  beforeAll(async () => {
    running = await startReportingApp();
    ({ app, pg, bus } = running);
    reports = app.get(ReportsService);
    store = app.get(SessionEventsService);
  });

  afterAll(() => running?.close());

  /** The summary's cards and top 10s as the raw tables answer them. */
  async function raw(from: string, to: string) {
    const one = async (sql: string, params: unknown[] = [from, to]) => Number((await pg.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
    const sessionRange = `start_time >= $1 AND start_time < $2`;
    const eventRange = `"timestamp" >= $1 AND "timestamp" < $2`;
    const byType = (type: string) => one(`SELECT count(*) AS n FROM reporting.session_event WHERE type = $3 AND ${eventRange}`, [from, to, type]);
    const top = async (column: string) =>
      (
        await pg.query<{ value: string; count: string }>(
          `SELECT ${column} AS value, count(*) AS count FROM reporting.session_event WHERE type = $3 AND ${eventRange} AND ${column} IS NOT NULL
            GROUP BY ${column} ORDER BY count(*) DESC, ${column} LIMIT ${TOP_ENTRIES}`,
          [from, to, T.credentialsUsed],
        )
      ).rows.map((r) => ({ value: r.value, count: Number(r.count) }));
    return {
      cards: {
        sessions: await one(`SELECT count(*) AS n FROM reporting.session WHERE ${sessionRange}`),
        injections: await byType(T.credentialsUsed),
        distinctUsers: await one(`SELECT count(DISTINCT user_name) AS n FROM reporting.session WHERE ${sessionRange}`),
        distinctEndpoints: await one(`SELECT count(DISTINCT endpoint) AS n FROM reporting.session WHERE ${sessionRange}`),
        failedRequests: await byType(T.credentialRequestFailed),
        rotationsFailed: await byType(T.credentialReleaseFailed),
        emergencyAccesses: await one(`SELECT count(*) AS n FROM reporting.session WHERE emergency AND ${sessionRange}`),
      },
      top: { endpoints: await top('destination'), users: await top('performed_by'), credentials: await top('credential_name') },
    };
  }

  /** The summary equals the raw tables' answer, and its series adds up to its cards. */
  async function expectExact(from: string, to: string): Promise<ReportSummary> {
    const summary = await bus.request('reporting.summary.get.v1', { from, to });
    const expected = await raw(from, to);
    expect({ cards: summary.cards, top: summary.top }).toEqual(expected);
    expect(summary.series.reduce((n, b) => n + b.sessions, 0)).toBe(expected.cards.sessions);
    expect(summary.series.reduce((n, b) => n + b.injections, 0)).toBe(expected.cards.injections);
    return summary;
  }

  /** The rollup rows as a rebuild from the raw tables would count them. */
  async function expectRollupsRebuilt(): Promise<void> {
    const rows = async (sql: string) => (await pg.query(sql)).rows;
    const values = `SELECT kind, grain, bucket::text, value, n::int FROM reporting.report_value WHERE n <> 0 ORDER BY 1, 2, 3, 4`;
    const sessionDays = `SELECT day::text, sessions::int, emergencies::int FROM reporting.report_session_day WHERE sessions <> 0 OR emergencies <> 0 ORDER BY 1`;
    const eventDays = `SELECT day::text, injections::int, failed_requests::int, rotations_failed::int FROM reporting.report_event_day
                        WHERE injections <> 0 OR failed_requests <> 0 OR rotations_failed <> 0 ORDER BY 1`;
    const kept = [await rows(values), await rows(sessionDays), await rows(eventDays)];
    const runner = app.get(DataSource).createQueryRunner();
    const migrations = [new ReportingRollups1796000000002(), new ReportingDekads1796000000004()];
    try {
      await runner.startTransaction();
      for (const migration of [...migrations].reverse()) await migration.down(runner);
      for (const migration of migrations) await migration.up(runner);
      await runner.commitTransaction();
    } finally {
      await runner.release();
    }
    expect(kept).toEqual([await rows(values), await rows(sessionDays), await rows(eventDays)]);
  }

  const event = (lsid: string, timestamp: string, extra: Partial<ApplianceSessionEvent> = {}): ApplianceSessionEvent => ({
    lsid,
    type: 'Session Start',
    timestamp,
    performedByType: 'representative',
    performedBy: 'alice',
    destination: null,
    data: {},
    ...extra,
  });
  const lease = (lsid: string, user: string, endpoint: string, credentialName: string, at: string) =>
    toSessionEvent('policy.lease.opened.v1', {
      leaseId: randomUUID(),
      user,
      endpoint,
      sessionId: lsid,
      vault: 'ps',
      credentialName,
      username: 'Administrator',
      at,
      releaseAt: at,
    });

  it('answers ranges with partial days at both ends as the raw tables do, after duplicates from two sources and sessions moving days', async () => {
    // sessions over May to July 2026, at varying hours, users and endpoints seen on several days
    const posted: ApplianceSessionEvent[] = [];
    const later: ApplianceSessionEvent[] = [];
    const broker = [];
    for (let i = 0; i < 240; i++) {
      const day = Date.UTC(2026, 4, 1) + Math.floor(i / 3) * 86_400_000;
      const start = new Date(day + ((i * 7) % 24) * 3_600_000 + (i % 60) * 60_000).toISOString();
      const lsid = `roll-${i}`;
      const user = `user-${i % 7}`;
      // a session opened by the system first: its user is set by a later event
      posted.push(event(lsid, start, i % 5 === 0 ? { performedByType: 'system', performedBy: 'pra' } : { performedBy: user }));
      (i % 5 === 0 ? later : posted).push(event(lsid, new Date(Date.parse(start) + 60_000).toISOString(), { type: 'Command', performedBy: user, data: { command: 'ls' } }));
      if (i % 4 === 0) posted.push(event(lsid, new Date(Date.parse(start) + 90_000).toISOString(), { type: T.credentialRequestFailed, performedBy: user }));
      if (i % 9 === 0) posted.push(event(lsid, new Date(Date.parse(start) + 95_000).toISOString(), { type: T.credentialReleaseFailed, performedByType: 'system', performedBy: 'pra' }));
      broker.push(lease(lsid, user, `srv-${i % 11}`, `cred-${i % 5}`, new Date(Date.parse(start) + 120_000).toISOString()));
    }
    const first = await bus.request('reporting.events.ingest.v1', { events: posted });
    expect(first.stored).toBe(posted.length);
    expect((await bus.request('reporting.events.ingest.v1', { events: later })).stored).toBe(later.length);
    posted.push(...later);
    // the poller reads the same events back from the appliance while the broker's events are delivered twice, side by side
    const polled = store.recordMany(posted.map((e) => applianceRecord(e, 'poller')));
    const leases = broker.filter((r) => r !== null);
    const [again, once, twice] = await Promise.all([polled, store.recordMany(leases), store.recordMany(leases)]);
    expect(again).toEqual({ stored: 0, duplicates: posted.length });
    expect(once.stored + twice.stored).toBe(leases.length);
    // late events from before some sessions' first: they move to an earlier day (and month, for the first of June)
    await bus.request('reporting.events.ingest.v1', {
      events: ['roll-3', 'roll-92', 'roll-93'].map((lsid) => event(lsid, '2026-04-30T23:30:00.000Z', { type: 'Command', performedBy: 'user-x' })),
    });
    await pg.query(`UPDATE reporting.session SET emergency = true WHERE lsid IN ('roll-10', 'roll-11', 'roll-100')`);

    const users = await pg.query<{ n: number }>(`SELECT count(DISTINCT user_name)::int AS n FROM reporting.session`);
    expect(users.rows[0]?.n).toBe(7);
    const summary = await expectExact('2026-05-03T13:20:00.000Z', '2026-07-02T06:30:00.000Z');
    // every user is seen on many days and in the edges: each counts once
    expect(summary.cards.distinctUsers).toBe(7);
    expect(summary.cards.distinctEndpoints).toBe(11);
    expect(summary.cards.emergencyAccesses).toBe(3);
    expect(summary.interval).toBe('day');
    for (const [from, to] of [
      ['2026-04-30T23:00:00.000Z', '2026-07-31T00:00:00.000Z'],
      ['2025-12-31T12:00:00.000Z', '2027-01-01T05:00:00.000Z'],
      ['2026-05-31T05:00:00.000Z', '2026-06-02T00:00:00.000Z'],
      ['2026-06-10T01:00:00.000Z', '2026-06-11T23:00:00.000Z'],
      ['2026-06-10T01:00:00.000Z', '2026-06-10T17:00:00.000Z'],
    ] as const) {
      await expectExact(from, to);
    }
    await expectRollupsRebuilt();
  });

  it('counts a user seen on two days and in a partial edge day once', async () => {
    await bus.request('reporting.events.ingest.v1', {
      events: [
        event('two-days-1', '2027-02-01T10:00:00.000Z', { performedBy: 'bob' }),
        event('two-days-2', '2027-02-02T10:00:00.000Z', { performedBy: 'bob' }),
        event('two-days-3', '2027-02-03T08:00:00.000Z', { performedBy: 'bob' }),
        event('two-days-4', '2027-02-03T09:00:00.000Z', { performedBy: 'carol' }),
      ],
    });
    const summary = await reports.summary({ from: '2027-01-31T12:00:00.000Z', to: '2027-02-03T08:30:00.000Z' });
    expect(summary.cards).toMatchObject({ sessions: 3, distinctUsers: 1 });
    const whole = await reports.summary({ from: '2027-02-01T00:00:00.000Z', to: '2027-02-04T00:00:00.000Z' });
    expect(whole.cards).toMatchObject({ sessions: 4, distinctUsers: 2 });
    // the whole days were read from the rollups: the day rows count bob on each day
    const { rows } = await pg.query(`SELECT bucket::text, n::int FROM reporting.report_value WHERE kind = 'user' AND grain = 'd' AND value = 'bob' ORDER BY 1`);
    expect(rows).toEqual([
      { bucket: '2027-02-01', n: 1 },
      { bucket: '2027-02-02', n: 1 },
      { bucket: '2027-02-03', n: 1 },
    ]);
  });

  it('answers most of a year as the year less the days outside it, exactly as the raw tables do', async () => {
    // 2028: users and endpoints seen only in the first or last days of the year (taken away), inside, or both
    const events: ApplianceSessionEvent[] = [];
    const leases: Array<ReturnType<typeof lease>> = [];
    const days = ['2028-01-02', '2028-01-03', '2028-01-04', '2028-03-15', '2028-07-01', '2028-12-27', '2028-12-28', '2028-12-29', '2028-12-30'];
    days.forEach((day, d) => {
      for (let i = 0; i < 4; i++) {
        const lsid = `year-less-${d}-${i}`;
        const at = `${day}T${String(3 + i * 5).padStart(2, '0')}:15:00.000Z`;
        const user = `ylu-${(d * 3 + i) % 8}`;
        events.push(event(lsid, at, { performedBy: user }));
        leases.push(lease(lsid, user, `yl-srv-${(d + i) % 6}-${d < 2 || d > 7 ? 'edge' : 'in'}`, `yl-cred-${i}`, at));
      }
    });
    expect((await bus.request('reporting.events.ingest.v1', { events })).stored).toBe(events.length);
    await store.recordMany(leases.filter((r) => r !== null));
    // the plan takes the year and subtracts January's first days and December's last
    const [from, to] = ['2028-01-03T10:00:00.000Z', '2028-12-29T12:00:00.000Z'];
    expect(summaryPlan(new Date(from), new Date(to)).buckets.filter((b) => b.sign < 0)).toHaveLength(2);
    const summary = await expectExact(from, to);
    // two sessions of each edge day, four of each whole day between
    expect(summary.cards.sessions).toBe(2 + 5 * 4 + 2);
    expect(summary.top.endpoints.some((e) => e.value.endsWith('-edge'))).toBe(true);
    expect((await expectExact('2028-01-01T00:00:00.000Z', '2028-01-04T00:00:00.000Z')).cards.sessions).toBe(8);
  });
});
