import type { INestApplication } from '@nestjs/common';
import { LEASE_EVENTS_STREAM, type EventOf, type EventSubject } from '@openecm/contracts';
import { publishEvent, qualifiedStream, qualifiedSubject } from '@openecm/messaging';
import { NATS_URL, createTestDatabase, deleteNamespaceStreams, startTestApp, testKey, waitFor } from '@openecm/testing';
import { JSONCodec, connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';

process.env['NATS_URL'] = NATS_URL;
process.env['APPLIANCE_SETTINGS_KEYS'] = `r1:${testKey()}`;
// a nak'd event comes back after 1 s; catch-up restarts the app
jest.setTimeout(60_000);

const DURABLE = 'session-reporting';

type Lease = Omit<EventOf<'policy.lease.opened.v1'>, 'releaseAt'>;

interface EventRow {
  type: string;
  performed_by_type: string;
  performed_by: string;
  destination: string;
  timestamp: Date;
  data: Record<string, string>;
}

describe('session-reporting over JetStream and Postgres', () => {
  let db: { url: string; drop: () => Promise<void> };
  let pg: Client;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let app: INestApplication | undefined;
  let url: string;
  const stream = qualifiedStream(LEASE_EVENTS_STREAM);

  async function start(): Promise<void> {
    const { AppModule } = await import('../src/app.module');
    ({ app, url } = await startTestApp('session-reporting', AppModule));
  }

  async function stop(): Promise<void> {
    await app?.close();
    app = undefined;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    nc = await connect({ servers: NATS_URL });
    js = nc.jetstream();
    jsm = await nc.jetstreamManager();
    await start();
  });

  afterAll(async () => {
    await stop();
    await nc?.close();
    await pg?.end();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  let clock = Date.parse('2026-03-01T08:00:00.000Z');
  const nextAt = () => new Date((clock += 1000)).toISOString();

  const lease = (sessionId: string, overrides: Partial<Lease> = {}): Lease => ({
    leaseId: randomUUID(),
    user: 'CORP\\alice',
    endpoint: 'srv-01.corp.local',
    sessionId,
    vault: 'ps',
    credentialName: 'srv-01\\Administrator',
    username: 'Administrator',
    at: nextAt(),
    ...overrides,
  });

  const publish = <E extends EventSubject>(subject: E, event: EventOf<E>, dedupeId: string = randomUUID()) =>
    publishEvent(js, subject, event, dedupeId);

  const eventsOf = async (lsid: string): Promise<EventRow[]> =>
    (
      await pg.query<EventRow>(
        `SELECT e.type, e.performed_by_type, e.performed_by, e.destination, e.timestamp,
                COALESCE(json_object_agg(d.name, d.value) FILTER (WHERE d.id IS NOT NULL), '{}') AS data
           FROM reporting.session_event e
           JOIN reporting.session s ON s.id = e.session_id
           LEFT JOIN reporting.session_event_data d ON d.session_event_id = e.id
          WHERE s.lsid = $1
          GROUP BY e.id ORDER BY e.timestamp, e.id`,
        [lsid],
      )
    ).rows;

  const SESSION_ROWS = {
    session: 'FROM reporting.session s',
    session_event: 'FROM reporting.session_event e JOIN reporting.session s ON s.id = e.session_id',
    session_event_data:
      'FROM reporting.session_event_data d JOIN reporting.session_event e ON e.id = d.session_event_id JOIN reporting.session s ON s.id = e.session_id',
  } as const;
  type Table = keyof typeof SESSION_ROWS;

  /** Rows of one session in a table, or of all sessions without `lsid`. */
  const count = async (table: Table, lsid?: string): Promise<number> => {
    const sql = `SELECT count(*)::int AS n ${SESSION_ROWS[table]}${lsid ? ' WHERE s.lsid = $1' : ''}`;
    return (await pg.query<{ n: number }>(sql, lsid ? [lsid] : [])).rows[0]?.n ?? 0;
  };

  const waitForEvents = (lsid: string, n: number) =>
    waitFor(async () => {
      const rows = await eventsOf(lsid);
      return rows.length >= n && rows;
    }, { what: `${n} session events of ${lsid}`, timeoutMs: 20_000 });

  /** Every message in the stream so far has been handled and acknowledged by the durable. */
  const drained = async (): Promise<void> => {
    const last = (await jsm.streams.info(stream)).state.last_seq;
    await waitFor(async () => {
      const info = await jsm.consumers.info(stream, DURABLE);
      return info.ack_floor.stream_seq >= last && info.num_ack_pending === 0;
    }, { what: `the durable to acknowledge up to ${last}`, timeoutMs: 20_000 });
  };

  it('records each lease event kind as one session event with its data, under one session row per session id', async () => {
    const lsid = `pra-${randomUUID()}`;
    const first = lease(lsid);
    const second = lease(lsid, { user: 'CORP\\bob', endpoint: 'db-02.corp.local', credentialName: 'db-02\\sa', username: 'sa' });
    await publish('policy.lease.opened.v1', { ...first, releaseAt: '2026-03-01T10:00:00.000Z' });
    await publish('policy.lease.released.v1', { ...first, at: nextAt(), releasedBy: 'appliance' });
    await publish('policy.lease.rotated.v1', { ...first, at: nextAt(), rotated: true });
    await publish('policy.lease.opened.v1', { ...second, at: nextAt(), releaseAt: '2026-03-01T10:00:00.000Z' });
    await publish('policy.lease.released.v1', { ...second, at: nextAt(), releasedBy: 'expiry' });
    await publish('policy.lease.failed.v1', { ...second, at: nextAt(), code: 'VAULT_UNAVAILABLE', message: 'rotation failed after 8 attempts' });

    const rows = await waitForEvents(lsid, 6);
    expect(rows.map((r) => [r.type, r.performed_by_type, r.performed_by, r.destination])).toEqual([
      ['Credentials Used', 'representative', 'CORP\\alice', 'srv-01.corp.local'],
      ['Credentials Released', 'representative', 'CORP\\alice', 'srv-01.corp.local'],
      ['Credential Rotated', 'system', 'CORP\\alice', 'srv-01.corp.local'],
      ['Credentials Used', 'representative', 'CORP\\bob', 'db-02.corp.local'],
      ['Credentials Released', 'system', 'CORP\\bob', 'db-02.corp.local'],
      ['Credential Release Failed', 'system', 'CORP\\bob', 'db-02.corp.local'],
    ]);
    const leaseData = { leaseId: first.leaseId, vault: 'ps', credentialName: 'srv-01\\Administrator', username: 'Administrator' };
    expect(rows[0]?.data).toEqual({ ...leaseData, releaseAt: '2026-03-01T10:00:00.000Z' });
    expect(rows[1]?.data).toEqual({ ...leaseData, releasedBy: 'appliance' });
    expect(rows[2]?.data).toEqual({ ...leaseData, rotated: 'true' });
    expect(rows[4]?.data).toMatchObject({ leaseId: second.leaseId, releasedBy: 'expiry' });
    expect(rows[5]?.data).toEqual({
      leaseId: second.leaseId,
      vault: 'ps',
      credentialName: 'db-02\\sa',
      username: 'sa',
      code: 'VAULT_UNAVAILABLE',
      message: 'rotation failed after 8 attempts',
    });
    expect(rows[0]?.timestamp.toISOString()).toBe(first.at);

    const sessions = await pg.query<{ start_time: Date; end_time: Date | null; file_transfers: number }>(
      'SELECT start_time, end_time, file_transfers FROM reporting.session WHERE lsid = $1',
      [lsid],
    );
    expect(sessions.rows).toHaveLength(1);
    expect(sessions.rows[0]?.start_time.toISOString()).toBe(first.at);
    expect(sessions.rows[0]?.file_transfers).toBe(0);
  });

  it('starts a session at its earliest event even when a later one arrives first', async () => {
    const lsid = `pra-${randomUUID()}`;
    const opened = lease(lsid);
    const releasedAt = nextAt();
    await publish('policy.lease.released.v1', { ...opened, at: releasedAt, releasedBy: 'appliance' });
    await waitForEvents(lsid, 1);
    await publish('policy.lease.opened.v1', { ...opened, releaseAt: releasedAt });
    await waitForEvents(lsid, 2);
    const { rows } = await pg.query<{ start_time: Date }>('SELECT start_time FROM reporting.session WHERE lsid = $1', [lsid]);
    expect(rows.map((r) => r.start_time.toISOString())).toEqual([opened.at]);
  });

  it('catches up on the events published while it was down', async () => {
    const lsid = `pra-${randomUUID()}`;
    const missed = lease(lsid, { user: 'CORP\\carol' });
    await stop();
    await publish('policy.lease.opened.v1', { ...missed, releaseAt: '2026-03-01T12:00:00.000Z' });
    await publish('policy.lease.released.v1', { ...missed, at: nextAt(), releasedBy: 'expiry' });
    // the events wait in the durable, not in a process that is gone
    expect((await jsm.consumers.info(stream, DURABLE)).num_pending).toBeGreaterThanOrEqual(2);
    expect(await count('session', lsid)).toBe(0);

    await start();
    const rows = await waitForEvents(lsid, 2);
    expect(rows.map((r) => [r.type, r.performed_by])).toEqual([
      ['Credentials Used', 'CORP\\carol'],
      ['Credentials Released', 'CORP\\carol'],
    ]);
  });


  it('writes a backlog in a few transactions, not one per event, with every event, counter and rollup right', async () => {
    const lsid = `pra-${randomUUID()}`;
    const leases = Array.from({ length: 300 }, (_, i) => ({ ...lease(lsid, { user: `CORP\\user${i % 7}` }), releaseAt: '2026-03-01T12:00:00.000Z' }));
    const injectionsBefore = await pg.query<{ n: string }>(`SELECT COALESCE(sum(injections), 0)::text AS n FROM reporting.report_event_day`);
    await stop();
    for (const l of leases) await publish('policy.lease.opened.v1', l);
    await start();
    await waitForEvents(lsid, leases.length);
    await drained();
    // each row remembers the transaction that inserted it
    const { rows } = await pg.query<{ transactions: number; events: number }>(
      `SELECT count(DISTINCT e.xmin::text)::int AS transactions, count(*)::int AS events
         FROM reporting.session_event e JOIN reporting.session s ON s.id = e.session_id WHERE s.lsid = $1`,
      [lsid],
    );
    expect(rows[0]?.events).toBe(300);
    expect(rows[0]?.transactions).toBeLessThan(30);
    const session = await pg.query(`SELECT injections FROM reporting.session WHERE lsid = $1`, [lsid]);
    expect(session.rows[0]).toEqual({ injections: 300 });
    const injectionsAfter = await pg.query<{ n: string }>(`SELECT COALESCE(sum(injections), 0)::text AS n FROM reporting.report_event_day`);
    expect(Number(injectionsAfter.rows[0]?.n) - Number(injectionsBefore.rows[0]?.n)).toBe(300);
  });
  it('stores a fact once however often it is delivered: republished, deduplicated by JetStream, or replayed', async () => {
    const lsid = `pra-${randomUUID()}`;
    const opened = { ...lease(lsid), releaseAt: '2026-03-01T12:00:00.000Z' };
    const before = (await jsm.streams.info(stream)).state.last_seq;
    await publish('policy.lease.opened.v1', opened, 'dedupe-a');
    // same message id within the duplicate window: JetStream keeps one copy
    await publish('policy.lease.opened.v1', opened, 'dedupe-a');
    // a publisher retry under a new message id: a second copy with its own stream sequence
    await publish('policy.lease.opened.v1', opened, 'dedupe-b');
    expect((await jsm.streams.info(stream)).state.last_seq).toBe(before + 2);
    await drained();
    expect(await count('session', lsid)).toBe(1);
    expect(await count('session_event', lsid)).toBe(1);
    expect(await count('session_event_data', lsid)).toBe(5);

    // Redelivery of the very same stream sequences: a new durable replays the whole stream.
    const totals = async () => [await count('session'), await count('session_event'), await count('session_event_data')];
    const stored = await totals();
    await stop();
    await jsm.consumers.delete(stream, DURABLE);
    await start();
    await drained();
    expect(await totals()).toEqual(stored);
  });

  it('stores each event once with two instances sharing the durable, every event published twice and a list for the session', async () => {
    const { AppModule } = await import('../src/app.module');
    const second = await startTestApp('session-reporting', AppModule);
    try {
      const lsid = `pra-${randomUUID()}`;
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const leases = Array.from({ length: 20 }, () => ({ ...lease(lsid), releaseAt: '2026-03-01T12:00:00.000Z', traceId }));
      const listed = { eventId: randomUUID(), user: 'CORP\\alice', endpoint: 'srv-01.corp.local', sessionId: lsid, credentials: [{ name: 'srv-01\\Administrator', vault: 'ps' }], at: nextAt(), traceId };
      // each published twice under different message ids, as a publisher retrying after a lost acknowledgement does
      await Promise.all([
        ...leases.flatMap((l) => [publish('policy.lease.opened.v1', l), publish('policy.lease.opened.v1', l)]),
        publish('policy.credentials.listed.v1', listed),
        publish('policy.credentials.listed.v1', listed),
      ]);
      await drained();
      expect(await count('session', lsid)).toBe(1);
      expect(await count('session_event', lsid)).toBe(21);
      const { rows } = await pg.query(`SELECT injections, trace_id FROM reporting.session WHERE lsid = $1`, [lsid]);
      expect(rows[0]).toEqual({ injections: 20, trace_id: traceId });
      const traced = await pg.query(`SELECT count(*)::int AS n FROM reporting.session_event e JOIN reporting.session s ON s.id = e.session_id WHERE s.lsid = $1 AND e.trace_id = $2`, [lsid, traceId]);
      expect(traced.rows[0].n).toBe(21);
    } finally {
      await second.app.close();
    }
  });

  it('writes an event and its data in one transaction and retries a failed write until it lands', async () => {
    const lsid = `pra-${randomUUID()}`;
    const opened = { ...lease(lsid), releaseAt: '2026-03-01T12:00:00.000Z' };
    const redelivered = (await jsm.consumers.info(stream, DURABLE)).num_redelivered;
    await pg.query('ALTER TABLE reporting.session_event_data RENAME TO session_event_data_away');
    try {
      await publish('policy.lease.opened.v1', opened);
      await waitFor(async () => (await jsm.consumers.info(stream, DURABLE)).num_redelivered > redelivered, {
        what: 'the failed event to be redelivered',
      });
      // the session and event rows written before the data insert failed were rolled back with it
      expect(await count('session', lsid)).toBe(0);
    } finally {
      await pg.query('ALTER TABLE reporting.session_event_data_away RENAME TO session_event_data');
    }
    const rows = await waitForEvents(lsid, 1);
    expect(rows[0]?.data).toMatchObject({ leaseId: opened.leaseId });
    expect(await count('session_event', lsid)).toBe(1);
  });

  it('skips an event that breaks its contract (here: one carrying a secret) without storing it or stalling the rest', async () => {
    const lsid = `pra-${randomUUID()}`;
    const poisoned = { ...lease(lsid), releaseAt: '2026-03-01T12:00:00.000Z', password: 'Hunter2!-never-stored' };
    // raw publish: publishEvent would refuse this payload at the source
    await js.publish(qualifiedSubject('policy.lease.opened.v1'), JSONCodec().encode(poisoned));
    const next = lease(lsid);
    await publish('policy.lease.opened.v1', { ...next, releaseAt: '2026-03-01T12:00:00.000Z' });
    const rows = await waitForEvents(lsid, 1);
    await drained();
    expect(rows.map((r) => r.data['leaseId'])).toEqual([next.leaseId]);
    const leaked = await pg.query(
      `SELECT 1 FROM reporting.session_event_data WHERE value LIKE '%Hunter2%' OR name ILIKE '%password%'`,
    );
    expect(leaked.rowCount).toBe(0);
  });

  it('has every index the vendor recommends, and unique session ids and event keys', async () => {
    const { rows } = await pg.query<{ tablename: string; indexdef: string }>(
      `SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'reporting'`,
    );
    const indexes = rows.map((r) => {
      const columns = /USING btree \((.+)\)$/.exec(r.indexdef)?.[1] ?? '';
      return `${r.indexdef.startsWith('CREATE UNIQUE') ? 'unique ' : ''}${r.tablename}(${columns.replace(/"/g, '')})`;
    });
    const indexed = (entry: string) => indexes.some((i) => i === entry || i === `unique ${entry}`);
    for (const recommended of [
      'session(start_time)',
      'session(host_name)',
      'session(jump_group_name)',
      'session(lsid)',
      'session_event(type, performed_by_type)',
      'session_event(session_id)',
      'session_event(type, destination)',
      'session_event(type, performed_by)',
      'session_event_data(session_event_id)',
      'session_event_data(name)',
    ]) {
      expect({ recommended, indexed: indexed(recommended) }).toEqual({ recommended, indexed: true });
    }
    expect(indexes).toEqual(expect.arrayContaining(['unique session(lsid)', 'unique session_event(event_key)']));
  });

  it('keeps the entities and the hand-written migration in step (nothing left for TypeORM to change)', async () => {
    const dataSource = (app as INestApplication).get(DataSource);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('reports ready with Postgres and NATS both checked, and counts what it handled', async () => {
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'up', checks: { nats: 'up', postgres: 'up' } });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/openecm_session_reporting_events_total\{subject="policy.lease.opened.v1",outcome="recorded"\} \d+/);
    expect(metrics).toMatch(/openecm_session_reporting_events_total\{subject="policy.lease.opened.v1",outcome="rejected"\} 1/);
  });
});
