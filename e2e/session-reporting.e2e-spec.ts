import { ApplianceClient } from '@openecm/appliance-sim';
import { EVENT_CSV_COLUMNS, SESSION_EVENT_TYPES, type EventPage, type EventRow, type ReportSummary, type SessionDetail, type SessionPage } from '@openecm/contracts';
import { NATS_URL, createTestDatabase, deleteNamespaceStreams, launchSystem, waitFor, type RunningSystem } from '@openecm/testing';
import { stringify } from 'csv-stringify/sync';
import { Redis } from 'ioredis';
import { Client } from 'pg';

/**
 * Session reporting through the whole system: a credential flow of the appliance shows up in the report API as a
 * session with the flow's trace ids, the list as names only; the appliance's own batches are judged by event; the
 * CSV export is the JSON rows; and nothing secret lands in the reporting tables.
 */
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const redisDb = 1 + ((parseInt(namespace.slice(1, 7), 16) + 5) % 15);
const redisUrl = `redis://127.0.0.1:6379/${redisDb}`;

describe('session reporting end to end', () => {
  let system: RunningSystem;
  let db: { url: string; drop: () => Promise<void> };
  let api: ApplianceClient;
  let pg: Client;
  const secrets: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    system = await launchSystem({ namespace, databaseUrl: db.url, redisUrl, natsUrl: NATS_URL, env: { RELEASE_JOB_BACKOFF_MS: '100', VAULT_RETRY_BASE_DELAY_MS: '20' } });
    api = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    const vault = await api.call('PUT', '/api/v1/admin/vaults/password-safe', {
      type: 'password-safe',
      settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' }, releaseDurationMinutes: 60, rotateAfterRelease: true },
    });
    expect(vault.status).toBe(201);
    expect((await api.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user: 'alice' })).status).toBeLessThan(300);
    secrets.push('demo-api-key', ...system.secrets);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await pg?.end();
    await db?.drop();
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    redis.disconnect();
    await deleteNamespaceStreams();
  });

  const get = async <T>(path: string) => {
    const res = await api.call<T>('GET', path);
    expect(res.status).toBe(200);
    return res.body;
  };

  it('shows a credential flow as a session with its trace ids, the list as names only, and no secret in any reporting table', async () => {
    const lsid = 'e2e0a1b2c3d4e5f60718293a4b5c6d7e';
    const list = await api.listCredentials('alice', 'srv-app01', lsid);
    expect(list.status).toBe(200);
    const chosen = list.body.credentials.find((c) => c.name === 'srv-app01\\Administrator');
    if (!chosen) throw new Error('no credential');
    const injected = await api.inject(chosen.id, 'alice', 'srv-app01', lsid);
    expect(injected.status).toBe(201);
    secrets.push(injected.body.secret.value);
    const released = await api.release(injected.body.leaseId);
    expect(released.status).toBe(200);
    const refused = await api.inject('00000000-0000-4000-8000-000000000000', 'alice', 'srv-app01', lsid);
    expect(refused.status).toBe(404);

    const session = await waitFor(async () => {
      const page = await get<SessionPage>(`/api/v1/reports/sessions?lsid=${lsid}`);
      const s = page.items[0];
      return s && s.injections === 1 && s.failures === 1 && s;
    }, { what: 'the session in the report', timeoutMs: 30_000 });
    expect(session).toMatchObject({ lsid, user: 'alice', endpoint: 'srv-app01', credential: 'srv-app01\\Administrator', vault: 'password-safe', leaseId: injected.body.leaseId });
    expect([list.traceId, injected.traceId]).toContain(session.traceId);

    const detail = await waitFor(async () => {
      const d = await get<SessionDetail>(`/api/v1/reports/sessions/${session.id}`);
      return d.events.some((e) => e.type === SESSION_EVENT_TYPES.credentialRotated) && d;
    }, { what: 'the rotation in the report', timeoutMs: 30_000 });
    const byType = (type: string) => detail.events.find((e) => e.type === type) as EventRow;
    expect(detail.events.map((e) => e.type)).toEqual(
      expect.arrayContaining([SESSION_EVENT_TYPES.credentialsListed, SESSION_EVENT_TYPES.credentialsUsed, SESSION_EVENT_TYPES.credentialsReleased, SESSION_EVENT_TYPES.credentialRequestFailed, SESSION_EVENT_TYPES.credentialRotated]),
    );
    expect(byType(SESSION_EVENT_TYPES.credentialsListed)).toMatchObject({ source: 'broker', traceId: list.traceId, performedBy: 'alice', destination: 'srv-app01' });
    expect(byType(SESSION_EVENT_TYPES.credentialsListed).data).toEqual({
      count: String(list.body.credentials.length),
      ...Object.fromEntries(list.body.credentials.map((c, i) => [`credential.${i + 1}`, `${c.vault}: ${c.name}`])),
    });
    expect(byType(SESSION_EVENT_TYPES.credentialsUsed)).toMatchObject({ traceId: injected.traceId, leaseId: injected.body.leaseId, credential: 'srv-app01\\Administrator' });
    expect(byType(SESSION_EVENT_TYPES.credentialsReleased)).toMatchObject({ traceId: released.traceId });
    expect(byType(SESSION_EVENT_TYPES.credentialRequestFailed)).toMatchObject({ traceId: refused.traceId, data: { code: 'CREDENTIAL_NOT_FOUND' } });
    const times = detail.events.map((e) => e.timestamp);
    expect([...times].sort()).toEqual(times);

    // canaries: the injected password, the vault's API key, the system's keys and secrets, in no reporting row
    const tables = (await pg.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'reporting'`)).rows.map((r) => r.t);
    expect(tables).toEqual(expect.arrayContaining(['session', 'session_event', 'session_event_data', 'appliance_connection']));
    for (const table of tables) {
      const dump = (await pg.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM reporting."${table}" t`)).rows.map((r) => r.row).join('\n');
      for (const secret of secrets) expect(`${table}: ${dump.includes(secret) ? 'holds a secret' : 'clean'}`).toBe(`${table}: clean`);
    }
  });

  it("takes the appliance's batch event by event over HTTP, and refuses a malformed body as a whole", async () => {
    const events = Array.from({ length: 5 }, (_, i) => ({
      lsid: 'e2e-batch-0001',
      type: i === 0 ? 'Session Start' : 'Command',
      timestamp: new Date(Date.UTC(2026, 5, 1, 10, i)).toISOString(),
      performedByType: 'representative',
      performedBy: 'alice',
      data: { n: String(i) },
    }));
    const batch = [...events.slice(0, 3), { ...events[3], timestamp: 'not a time' }, events[4]];
    const res = await api.call<{ stored: number; duplicates: number; rejected: Array<{ index: number; errors: Array<{ field: string }> }> }>('POST', '/api/v1/sessions/events', { events: batch });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stored: 4, duplicates: 0, rejected: [{ index: 3, errors: [{ field: 'events[3].timestamp' }] }] });
    const bad = await api.call<{ code: string; errors: Array<{ field: string }> }>('POST', '/api/v1/sessions/events', { events: 'none', extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors.map((e) => e.field).sort()).toEqual(['events', 'extra']);
  });

  it('exports the event grid as CSV equal to its JSON rows across export pages, and sums the summary', async () => {
    const lsid = 'e2e-csv-0001';
    for (let b = 0; b < 6; b++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({
        lsid,
        type: 'Keystroke',
        timestamp: new Date(Date.UTC(2026, 6, 1) + (b * 1000 + i) * 1000).toISOString(),
        performedByType: 'representative',
        performedBy: 'bob, "the admin"',
        data: { n: String(b * 1000 + i) },
      }));
      const res = await api.call<{ stored: number }>('POST', '/api/v1/sessions/events', { events });
      expect(res.body.stored).toBe(1000);
    }
    const rows: EventRow[] = [];
    let cursor: string | null = null;
    do {
      const page: EventPage = await get<EventPage>(`/api/v1/reports/events?lsid=${lsid}&sort=timestamp&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
      rows.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(rows).toHaveLength(6000);
    expect(new Set(rows.map((r) => r.id)).size).toBe(6000);

    const csv = await fetch(`${system.gatewayUrl}/api/v1/reports/events?lsid=${lsid}&sort=timestamp`, {
      headers: { authorization: `Bearer ${(await api.authenticate()).body.access_token}`, accept: 'text/csv' },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const expected = stringify(rows, { header: true, columns: [...EVENT_CSV_COLUMNS], cast: { boolean: (v) => (v ? 'true' : 'false'), object: (v) => JSON.stringify(v) } });
    expect(await csv.text()).toBe(expected);

    // a client that goes away after the first bytes ends the export; the gateway carries on
    const abort = new AbortController();
    const cut = await fetch(`${system.gatewayUrl}/api/v1/reports/events?lsid=${lsid}&sort=timestamp`, {
      headers: { authorization: `Bearer ${(await api.authenticate()).body.access_token}`, accept: 'text/csv' },
      signal: abort.signal,
    });
    const reader = cut.body?.getReader();
    expect((await reader?.read())?.value?.length).toBeGreaterThan(0);
    abort.abort();
    expect((await api.call('GET', `/api/v1/reports/events?lsid=${lsid}&limit=1`)).status).toBe(200);

    const summary = await get<ReportSummary>(`/api/v1/reports/summary?from=2026-07-01T00:00:00Z&to=2026-07-02T00:00:00Z`);
    expect(summary).toMatchObject({ interval: 'hour', cards: { sessions: 1, injections: 0 } });
    expect(summary.series).toHaveLength(24);
  });

  it('answers the report API only to an account holding reporting', async () => {
    const created = await api.call<{ clientSecret: string }>('POST', '/api/v1/admin/api-accounts', { clientId: 'e2e-credentials-only', permissions: ['credentials'] });
    expect(created.status).toBe(201);
    const other = new ApplianceClient(system.gatewayUrl, 'e2e-credentials-only', created.body.clientSecret);
    expect((await other.call('GET', '/api/v1/reports/summary')).status).toBe(403);
    expect((await other.call('POST', '/api/v1/sessions/events', { events: [{}] })).status).toBe(403);
  });
});
