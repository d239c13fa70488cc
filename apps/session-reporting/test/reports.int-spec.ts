import { OpenEcmError, SESSION_EVENT_TYPES, type ApplianceSessionEvent, type SessionRow } from '@openecm/contracts';
import type { Bus } from '@openecm/messaging';
import type { Client } from 'pg';
import { startReportingApp, type ReportingApp } from './reporting-app';

jest.setTimeout(60_000);

/** The report API and the appliance's event batches, over NATS against a real Postgres. */
describe('session-reporting: reports and the appliance batch', () => {
  let running: ReportingApp;
  let pg: Client;
  let bus: Bus;

  beforeAll(async () => {
    running = await startReportingApp();
    ({ pg, bus } = running);
  });

  afterAll(() => running?.close());

  const failure = async (p: Promise<unknown>): Promise<OpenEcmError> => {
    try {
      await p;
    } catch (error) {
      if (error instanceof OpenEcmError) return error;
      throw error;
    }
    throw new Error('expected a failure');
  };

  const base = Date.parse('2026-04-01T00:00:00.000Z');
  const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
  const event = (lsid: string, minutes: number, extra: Partial<ApplianceSessionEvent> = {}): ApplianceSessionEvent => ({
    lsid,
    type: 'Session Start',
    timestamp: at(minutes),
    performedByType: 'representative',
    performedBy: 'alice',
    destination: null,
    data: {},
    ...extra,
  });
  const ingest = (events: unknown[]) => bus.request('reporting.events.ingest.v1', { events });

  it('stores the good events of a batch and rejects a bad one by its index, naming the field; sent again, all are duplicates', async () => {
    const lsid = 'batch-0001';
    const events: unknown[] = [
      event(lsid, 0, { hostName: 'pra.example.com', jumpGroupName: 'Servers', sessionType: 'rdp' }),
      event(lsid, 1, { type: 'Credentials Used', data: { credential: 'srv\\admin' } }),
      event(lsid, 2, { type: 'File Transfer', eventId: 'ev-3' }),
      { ...event(lsid, 3), timestamp: 'yesterday' },
      event(lsid, 4, { type: 'Session End' }),
      { ...event(lsid, 5), secret: 'hunter2' },
    ];
    const first = await ingest(events);
    expect(first.stored).toBe(4);
    expect(first.duplicates).toBe(0);
    expect(first.rejected).toEqual([
      { index: 3, errors: [{ field: 'events[3].timestamp', message: expect.any(String) }] },
      { index: 5, errors: [{ field: 'events[5].secret', message: 'unknown field' }] },
    ]);
    expect(JSON.stringify(first)).not.toContain('hunter2');
    expect(await ingest(events)).toEqual({ stored: 0, duplicates: 4, rejected: first.rejected });

    const { rows } = await pg.query(`SELECT * FROM reporting.session WHERE lsid = $1`, [lsid]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      host_name: 'pra.example.com',
      jump_group_name: 'Servers',
      type: 'rdp',
      user_name: 'alice',
      injections: 1,
      duration: 240,
    });
    expect(new Date(rows[0].start_time).toISOString()).toBe(at(0));
    expect(new Date(rows[0].end_time).toISOString()).toBe(at(4));
  });

  it('stores a batch of 1,000 events in one round, with two batches sharing sessions side by side storing each event once', async () => {
    const batch = (seed: number) => Array.from({ length: 1000 }, (_, i) => event(`load-${i % 50}`, i, { type: 'Keystroke', data: { n: String(i), seed: String(seed) } }));
    const [a, b] = await Promise.all([ingest(batch(1)), ingest(batch(1))]);
    expect(a.stored + b.stored).toBe(1000);
    expect(a.duplicates + b.duplicates).toBe(1000);
    const { rows } = await pg.query(`SELECT count(*)::int AS n FROM reporting.session_event e JOIN reporting.session s ON s.id = e.session_id WHERE s.lsid LIKE 'load-%'`);
    expect(rows[0].n).toBe(1000);
  });

  it("shows a long session's first 1,000 events and says more follow, which the event grid pages through", async () => {
    for (let b = 0; b < 2; b++) {
      expect((await ingest(Array.from({ length: 750 }, (_, i) => event('long-0001', 50_000 + b * 750 + i, { type: 'Keystroke', data: { key: 'x'.repeat(200) } })))).stored).toBe(750);
    }
    const [session] = (await bus.request('reporting.sessions.query.v1', { lsid: 'long-0001' })).items;
    const detail = await bus.request('reporting.session.get.v1', { id: session?.id ?? '0' });
    expect(detail.events).toHaveLength(1000);
    expect(detail.moreEvents).toBe(true);
    expect(detail.events[0]?.timestamp).toBe(at(50_000));
    let total = 0;
    let cursor: string | undefined;
    do {
      const page = await bus.request('reporting.events.query.v1', { sessionId: Number(session?.id), sort: 'timestamp', limit: 1000, ...(cursor ? { cursor } : {}) });
      total += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(total).toBe(1500);
  });

  describe('the grids', () => {
    const users = ['alice', 'bob', 'carol', null];
    beforeAll(async () => {
      const events: ApplianceSessionEvent[] = [];
      for (let i = 0; i < 120; i++) {
        const user = users[i % users.length];
        events.push(
          event(`grid-${String(i).padStart(4, '0')}`, 10_000 + i * 7, {
            performedByType: user ? 'representative' : 'system',
            performedBy: user,
            ...(i % 3 === 0 ? {} : { hostName: `site-${i % 5}` }),
            jumpGroupId: i % 4,
          }),
          event(`grid-${String(i).padStart(4, '0')}`, 10_000 + i * 7 + 1, { type: SESSION_EVENT_TYPES.credentialsUsed, destination: `srv-${i % 6}` }),
        );
      }
      expect((await ingest(events)).stored).toBe(240);
    });

    const gridFilter = { 'lsid.prefix': 'grid-' } as const;
    const all = async (sort: string, limit: number, filter: Record<string, string> = gridFilter): Promise<SessionRow[]> => {
      const rows: SessionRow[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await bus.request('reporting.sessions.query.v1', { ...filter, sort, limit, ...(cursor ? { cursor } : {}) });
        rows.push(...page.items);
        if (!page.nextCursor) return rows;
        cursor = page.nextCursor;
      }
      throw new Error('never ended');
    };

    it.each(['-startTime', 'startTime', 'user', '-user', 'hostName', '-hostName', 'lsid', '-id'])(
      'pages sorted by %s with no row twice and none missed, NULLs last ascending and first descending',
      async (sort) => {
        const whole = await all(sort, 1000);
        expect(whole).toHaveLength(120);
        const paged = await all(sort, 7);
        expect(paged.map((r) => r.id)).toEqual(whole.map((r) => r.id));
        const column = sort.replace('-', '') as keyof SessionRow;
        const values = whole.map((r) => r[column]);
        const nonNull = values.filter((v) => v !== null);
        const sorted = [...nonNull].sort((a, b) => (String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0));
        if (column !== 'id' && column !== 'startTime') {
          expect(nonNull).toEqual(sort.startsWith('-') ? sorted.reverse() : sorted);
          const firstNull = values.indexOf(null);
          if (firstNull >= 0) {
            const nulls = values.filter((v) => v === null).length;
            expect(firstNull).toBe(sort.startsWith('-') ? 0 : values.length - nulls);
          }
        }
      },
    );

    it('filters by equality, prefix, integer and time range, and counts the injections of each session', async () => {
      const bob = await all('lsid', 1000, { ...gridFilter, user: 'bob' });
      expect(bob).toHaveLength(30);
      expect(bob.every((r) => r.user === 'bob' && r.injections === 1)).toBe(true);
      const site = await all('lsid', 1000, { ...gridFilter, 'hostName.prefix': 'site-1' });
      expect(site.every((r) => r.hostName === 'site-1')).toBe(true);
      expect(site.length).toBeGreaterThan(0);
      const group = await all('lsid', 1000, { ...gridFilter, jumpGroupId: '2' });
      expect(group).toHaveLength(30);
      const range = await all('startTime', 1000, { ...gridFilter, 'startTime.from': at(10_000 + 7 * 10), 'startTime.to': at(10_000 + 7 * 20) });
      expect(range.map((r) => r.lsid)).toEqual(Array.from({ length: 10 }, (_, i) => `grid-${String(10 + i).padStart(4, '0')}`));
      // a prefix's % and _ are literal
      expect(await all('lsid', 1000, { 'lsid.prefix': 'grid_' })).toEqual([]);
    });

    it('refuses a sort on a column without an index, and a forged cursor, naming the field', async () => {
      const sort = await failure(bus.request('reporting.sessions.query.v1', { sort: 'duration' }));
      expect(sort.code).toBe('VALIDATION_FAILED');
      expect(sort.fields?.map((f) => f.field)).toEqual(['sort']);
      const cursor = await failure(bus.request('reporting.sessions.query.v1', { cursor: 'bm90LWEtY3Vyc29y' }));
      expect(cursor.fields?.map((f) => f.field)).toEqual(['cursor']);
      const unknown = await failure(bus.request('reporting.events.query.v1', { 'data.prefix': 'x' } as never));
      expect(unknown.fields?.[0]?.field).toBe('data.prefix');
    });

    it('pages the event grid by time with each event\'s data, and shows a session with its events in order', async () => {
      const page = await bus.request('reporting.events.query.v1', { 'lsid.prefix': 'grid-', type: SESSION_EVENT_TYPES.credentialsUsed, sort: 'timestamp', limit: 50 });
      expect(page.items).toHaveLength(50);
      expect(page.items[0]).toMatchObject({ lsid: 'grid-0000', destination: 'srv-0', source: 'appliance', data: {} });
      const detail = await bus.request('reporting.session.get.v1', { id: page.items[0]?.sessionId ?? '0' });
      expect(detail.session.lsid).toBe('grid-0000');
      expect(detail.events.map((e) => e.type)).toEqual(['Session Start', SESSION_EVENT_TYPES.credentialsUsed]);
      expect(detail.moreEvents).toBe(false);
      expect((await failure(bus.request('reporting.session.get.v1', { id: '999999999' }))).code).toBe('NOT_FOUND');
    });

    it('sums the cards, the top 10s and an hourly series of a range', async () => {
      const from = at(10_000);
      const to = at(10_000 + 7 * 120);
      const summary = await bus.request('reporting.summary.get.v1', { from, to });
      expect(summary.interval).toBe('hour');
      expect(summary.cards).toMatchObject({ sessions: 120, injections: 120, distinctUsers: 3, distinctEndpoints: 0, failedRequests: 0, emergencyAccesses: 0 });
      expect(summary.top.endpoints).toHaveLength(6);
      expect(summary.top.endpoints[0]).toEqual({ value: 'srv-0', count: 20 });
      expect(summary.series.reduce((n, b) => n + b.sessions, 0)).toBe(120);
      expect(summary.series.reduce((n, b) => n + b.injections, 0)).toBe(120);
      expect(new Set(summary.series.map((b) => b.bucket)).size).toBe(summary.series.length);
      const week = await bus.request('reporting.summary.get.v1', { from: at(0), to: at(60 * 24 * 7) });
      expect(week.interval).toBe('day');
      expect(week.series).toHaveLength(7);
    });
  });
});
