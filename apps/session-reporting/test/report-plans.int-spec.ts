import { SESSION_EVENT_TYPES } from '@openecm/contracts';
import type { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ReportsService } from '../src/reports/reports.service';
import { startReportingApp, type ReportingApp } from './reporting-app';

jest.setTimeout(120_000);

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

/**
 * The report queries' plans on a table big enough for the planner to choose: every grid page and summary card reads
 * an index range, never the whole table (the bench measures them on a million sessions).
 */
describe('session-reporting: the report queries use their indexes', () => {
  let running: ReportingApp;
  let pg: Client;
  let reports: ReportsService;
  const statements: Array<{ sql: string; params: unknown[] }> = [];

  beforeAll(async () => {
    running = await startReportingApp();
    pg = running.pg;
    reports = running.app.get(ReportsService);
    // 200,000 sessions over 200 days, 400,000 events (half injections), 1,000 users, 5,000 endpoints
    await pg.query(`
      INSERT INTO reporting.session (lsid, start_time, end_time, user_name, endpoint, credential_name, host_name, jump_group_name, injections)
      SELECT 'gen-' || g, timestamptz '2026-01-01' + g * interval '86 seconds', timestamptz '2026-01-01' + g * interval '86 seconds' + interval '10 minutes',
             'user' || (g % 1000), 'srv-' || (g % 5000), 'cred-' || (g % 300), 'site-' || (g % 3), 'group-' || (g % 40), 1
        FROM generate_series(1, 200000) g`);
    await pg.query(`
      INSERT INTO reporting.session_event (session_id, type, performed_by_type, performed_by, destination, timestamp, event_key, source, credential_name)
      SELECT s.id, t.type, 'representative', s.user_name, s.endpoint, s.start_time + t.o, s.lsid || ':' || t.type, 'broker', s.credential_name
        FROM reporting.session s CROSS JOIN (VALUES ('${SESSION_EVENT_TYPES.credentialsUsed}', interval '1 second'), ('Session Start', interval '0 seconds')) AS t(type, o)`);
    // as autovacuum leaves them: statistics gathered, the visibility map set (index-only scans need it)
    await pg.query(`VACUUM ANALYZE reporting.session`);
    await pg.query(`VACUUM ANALYZE reporting.session_event`);
    for (const table of ['report_session_day', 'report_event_day', 'report_value']) await pg.query(`VACUUM ANALYZE reporting.${table}`);
    // the statements the service runs, kept to be explained (the queries still run against the real database)
    const dataSource = running.app.get(DataSource);
    const query = dataSource.query.bind(dataSource);
    dataSource.query = (async (sql: string, params?: unknown[]) => {
      statements.push({ sql, params: params ?? [] });
      return query(sql, params);
    }) as typeof dataSource.query;
  });

  afterAll(() => running?.close());

  const plansOf = async (run: () => Promise<unknown>): Promise<PlanNode[][]> => {
    statements.length = 0;
    await run();
    const plans: PlanNode[][] = [];
    for (const s of statements) {
      const { rows } = await pg.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${s.sql}`, s.params);
      plans.push(nodes((rows[0]?.['QUERY PLAN'][0] as { Plan: PlanNode }).Plan));
    }
    return plans;
  };
  const scans = (plan: PlanNode[]) => plan.filter((n) => n['Node Type'].includes('Scan')).map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''}`);
  const noSeqScan = (plan: PlanNode[]) => expect(scans(plan).filter((s) => s.startsWith('Seq Scan'))).toEqual([]);

  it.each([
    ['-startTime', 'ix_session_start_time_id'],
    ['user', 'ix_session_user_name_id'],
    ['-endpoint', 'ix_session_endpoint_id'],
    ['credential', 'ix_session_credential_name_id'],
  ])('pages the session grid sorted by %s from the index %s, deep pages included', async (sort, index) => {
    const first = await reports.sessions({ sort, limit: 100 } as never);
    const [plan] = await plansOf(() => reports.sessions({ sort, limit: 100, cursor: first.nextCursor ?? undefined } as never));
    expect(scans(plan as PlanNode[])).toContain(`Index Scan ${index}`);
    noSeqScan(plan as PlanNode[]);
  });

  it.each([
    ['endpoint', 'srv-4242', 'ix_session_endpoint_id'],
    ['user', 'user777', 'ix_session_user_name_id'],
  ])('filters the session grid on a rare %s prefix as a range of its index (whatever the locale), sorted by start', async (column, prefix, index) => {
    const [plan] = await plansOf(() => reports.sessions({ sort: 'startTime', limit: 100, [`${column}.prefix`]: prefix } as never));
    const range = (plan as PlanNode[]).find((n) => n['Index Name'] === index);
    expect(range?.['Index Cond']).toMatch(/>=.*AND.*</);
    noSeqScan(plan as PlanNode[]);
    // a prefix is literal: `_` and `%` match themselves, and the rows are exactly those that start with it
    const page = await reports.sessions({ sort: 'startTime', limit: 100, [`${column}.prefix`]: prefix } as never);
    const values = page.items.map((r) => String((r as unknown as Record<string, unknown>)[column]));
    expect(values.length).toBe(column === 'endpoint' ? 40 : 100);
    expect(values.every((v) => v.startsWith(prefix))).toBe(true);
  });

  it('pages the event grid by time and filters by type from indexes', async () => {
    const [plan] = await plansOf(() => reports.events({ sort: '-timestamp', limit: 100, type: SESSION_EVENT_TYPES.credentialsUsed } as never));
    noSeqScan(plan as PlanNode[]);
  });

  const ROLLUP_SCANS = ['Index Only Scan pk_report_value', 'Index Only Scan pk_report_session_day', 'Index Only Scan pk_report_event_day'];
  // a day rollup has a row a day: the planner may rightly read a few hundred rows in sequence
  const DAY_ROLLUPS = ['report_session_day', 'report_event_day'];
  const tableScans = (plan: PlanNode[]) =>
    scans(plan.filter((n) => !['Subquery Scan', 'Values Scan'].includes(n['Node Type']) && !(n['Node Type'] === 'Seq Scan' && DAY_ROLLUPS.includes(n['Relation Name'] ?? ''))));

  it.each([
    ['a week with partial days at both ends', '2026-03-01T06:00:00Z', '2026-03-08T18:00:00Z'],
    ['half a year with partial days at both ends', '2026-01-01T05:00:00Z', '2026-07-01T12:00:00Z'],
    ['eleven months and more, as the year less the days outside', '2026-01-05T05:00:00Z', '2026-12-28T12:00:00Z'],
  ])('answers every summary card of %s from index ranges of the edges and the rollups, without a sequential scan', async (_, from, to) => {
    const plans = await plansOf(() => reports.summary({ from, to }));
    expect(plans.length).toBe(10);
    for (const plan of plans) expect(tableScans(plan).filter((s) => s.startsWith('Seq Scan'))).toEqual([]);
    // the event cards and the top 10s read the edges from the (type, timestamp, ...) index alone, the whole days from the rollups
    const eventPlans = plans.filter((p) => scans(p).some((s) => s.includes('ix_session_event_type_timestamp')));
    expect(eventPlans.length).toBe(5);
    // (an edge with no events at all may be read from the time index instead: a range of it either way)
    const EDGE_SCANS = ['Index Only Scan ix_session_event_type_timestamp', 'Index Scan ix_session_event_timestamp_id'];
    for (const plan of eventPlans) {
      const edges = tableScans(plan).filter((s) => !ROLLUP_SCANS.includes(s));
      expect(edges).toContain('Index Only Scan ix_session_event_type_timestamp');
      expect(edges.filter((s) => !EDGE_SCANS.includes(s))).toEqual([]);
    }
    // each card reads a rollup: the distinct values and top 10s the values' buckets
    for (const plan of plans) expect(plan.some((n) => ROLLUP_SCANS.includes(`${n['Node Type']} ${n['Index Name']}`) || DAY_ROLLUPS.includes(n['Relation Name'] ?? ''))).toBe(true);
    expect(plans.filter((p) => scans(p).includes('Index Only Scan pk_report_value')).length).toBe(5);
  });
});
