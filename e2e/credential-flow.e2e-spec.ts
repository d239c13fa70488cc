import {
  NATS_URL,
  OtlpCollector,
  createTestDatabase,
  deleteNamespaceStreams,
  freePort,
  launchSystem,
  waitFor,
  type RunningSystem,
} from '@openecm/testing';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { ApplianceClient } from '@openecm/appliance-sim';

/**
 * The whole system as an operator runs it: the Password Safe simulator and the five apps as separate
 * processes on the real NATS, Redis and Postgres, driven through the appliance API only (plus the
 * simulator's control API to see what the vault saw, and the database clock to make a lease due).
 */
const namespace = process.env['OPENECM_NAMESPACE'] as string;
// A Redis database of this run's own, so the "Redis lost everything" scenario can flush it whole.
const redisDb = 1 + (parseInt(namespace.slice(1, 7), 16) % 15);
const redisUrl = `redis://127.0.0.1:6379/${redisDb}`;

describe('the credential flow end to end', () => {
  let system: RunningSystem;
  let db: { url: string; drop: () => Promise<void> };
  let collector: OtlpCollector;
  let admin: ApplianceClient;
  let appliance: ApplianceClient;
  let pg: Client;
  const seen: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    collector = new OtlpCollector();
    const otlp = await collector.start(await freePort());
    system = await launchSystem({
      namespace,
      databaseUrl: db.url,
      redisUrl,
      natsUrl: NATS_URL,
      otlpEndpoint: otlp,
      logLevel: 'debug',
      env: { RECONCILE_INTERVAL_MS: '500', RELEASE_JOB_BACKOFF_MS: '100', VAULT_RETRY_BASE_DELAY_MS: '20' },
    });
    admin = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    const vault = await admin.call('PUT', '/api/v1/admin/vaults/password-safe', {
      type: 'password-safe',
      settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' }, releaseDurationMinutes: 60, rotateAfterRelease: true },
    });
    expect(vault.status).toBe(201);
    for (const user of ['alice', 'bob']) {
      const added = await admin.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user });
      expect(added.status).toBeLessThan(300);
    }
    appliance = admin;
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    await collector?.stop();
    await pg?.end();
    await db?.drop();
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    redis.disconnect();
    await deleteNamespaceStreams();
  });

  const sim = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${system.simControlUrl}${path}`, init);
    return (await res.json()) as T;
  };
  const passwordOf = async (accountId: number) => (await sim<{ password: string; rotations: number }>(`/accounts/${accountId}`)) ;
  const remember = (secret: string) => {
    seen.push(secret);
    return secret;
  };
  const listFor = async (user: string, endpoint: string) => {
    const res = await appliance.listCredentials(user, endpoint);
    expect(res.status).toBe(200);
    return res.body.credentials;
  };
  const untilLease = (leaseId: string, states: string[]) =>
    waitFor(async () => {
      const res = await appliance.lease(leaseId);
      return states.includes(res.body.state) && res.body;
    }, { timeoutMs: 20_000, what: `lease ${states.join('|')}` });

  it('lists, injects, releases, and the vault rotates the password', async () => {
    const creds = await listFor('alice', 'srv-app01');
    expect(creds.map((c) => c.name).sort()).toEqual(['CORP\\pra-admin', 'srv-app01\\Administrator', 'srv-app01\\svc-backup']);
    expect(JSON.stringify(creds)).not.toMatch(/Demo-/);
    const admin1001 = creds.find((c) => c.name === 'srv-app01\\Administrator')!;
    const before = await passwordOf(1001);

    const injected = await appliance.inject(admin1001.id, 'alice', 'srv-app01', 'session-happy');
    expect(injected.status).toBe(201);
    expect(injected.headers.get('cache-control')).toContain('no-store');
    // no digest of the answer (its secret included) in a header that a proxy may log
    expect(injected.headers.get('etag')).toBeNull();
    expect(injected.body).toMatchObject({ username: 'Administrator', domain: null, secret: { type: 'password', value: before.password } });
    remember(injected.body.secret.value);

    const released = await appliance.release(injected.body.leaseId);
    expect(released.body).toMatchObject({ leaseId: injected.body.leaseId, rotation: 'scheduled' });
    const lease = await untilLease(injected.body.leaseId, ['rotated', 'failed']);
    expect(lease).toMatchObject({ state: 'rotated', rotation: 'done', releasedBy: 'appliance', error: null });

    const after = await passwordOf(1001);
    expect(after.password).not.toBe(before.password);
    expect(after.rotations).toBe(before.rotations + 1);
    // the next injection gets the new password, the old one is gone
    const again = await appliance.inject(admin1001.id, 'alice', 'srv-app01', 'session-next');
    expect(again.body.secret.value).toBe(after.password);
    remember(again.body.secret.value);
    await appliance.release(again.body.leaseId);
    await untilLease(again.body.leaseId, ['rotated']);
  });

  it('refuses a user outside the requesters group: 403 and nothing checked out', async () => {
    const activeBefore = (await sim<{ activeRequests: number }>('/stats')).activeRequests;
    const res = await appliance.listCredentials('mallory', 'srv-app01');
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 403, code: 'ACCESS_DENIED' });
    expect((await sim<{ activeRequests: number }>('/stats')).activeRequests).toBe(activeBefore);
  });

  it('refuses a credential id replayed by another user or for another endpoint', async () => {
    const [cred] = await listFor('alice', 'srv-app01');
    const activeBefore = (await sim<{ activeRequests: number }>('/stats')).activeRequests;
    const byBob = await appliance.inject(cred!.id, 'bob', 'srv-app01', 'replay-1');
    expect(byBob.status).toBe(403);
    expect(byBob.body).toMatchObject({ code: 'CREDENTIAL_NOT_OFFERED' });
    const elsewhere = await appliance.inject(cred!.id, 'alice', 'lnx-web01', 'replay-2');
    expect(elsewhere.status).toBe(403);
    const unknown = await appliance.inject('00000000-0000-4000-8000-000000000000', 'alice', 'srv-app01', 'replay-3');
    expect(unknown.status).toBe(404);
    expect((await sim<{ activeRequests: number }>('/stats')).activeRequests).toBe(activeBefore);
  });

  it('rejects bad input with the field named and changes nothing', async () => {
    const res = await appliance.call('POST', '/api/v1/injections', { credentialId: 'x', user: 'alice', endpoint: 'srv-app01', sessionId: 's', admin: true });
    expect(res.status).toBe(400);
    const fields = (res.body as { errors: Array<{ field: string }> }).errors.map((e) => e.field).join(' ');
    expect(fields).toContain('credentialId');
    expect(fields).toContain('admin');
  });

  it('signs in to the vault again when its session expired', async () => {
    await listFor('alice', 'srv-app01');
    const before = (await sim<{ signInsByUser: Record<string, number> }>('/stats')).signInsByUser['alice'] ?? 0;
    await sim('/sessions/expire', { method: 'POST' });
    const creds = await listFor('alice', 'srv-app01');
    expect(creds).toHaveLength(3);
    const after = (await sim<{ signInsByUser: Record<string, number> }>('/stats')).signInsByUser['alice'] ?? 0;
    expect(after).toBe(before + 1);
  });

  it('releases on its own at expiry, and a release after that answers the same release', async () => {
    const cred = (await listFor('alice', 'srv-app01')).find((c) => c.name === 'srv-app01\\svc-backup')!;
    const before = await passwordOf(1002);
    const injected = await appliance.inject(cred.id, 'alice', 'srv-app01', 'session-expiry');
    remember(injected.body.secret.value);
    await pg.query(`UPDATE policy.lease SET release_at = now(), opened_at = now() - interval '1 hour' WHERE id = $1`, [injected.body.leaseId]);
    const lease = await untilLease(injected.body.leaseId, ['rotated', 'failed']);
    expect(lease).toMatchObject({ state: 'rotated', releasedBy: 'expiry' });
    expect((await passwordOf(1002)).password).not.toBe(before.password);
    const late = await appliance.release(injected.body.leaseId);
    expect(late.status).toBe(200);
    expect(late.body.releasedAt).toBe(lease.releasedAt);
  });

  it('still rotates when Redis lost everything before the due time', async () => {
    const cred = (await listFor('alice', 'srv-app01')).find((c) => c.name === 'CORP\\pra-admin')!;
    const before = await passwordOf(3001);
    const injected = await appliance.inject(cred.id, 'alice', 'srv-app01', 'session-flush');
    remember(injected.body.secret.value);
    const redis = new Redis(redisUrl);
    expect(await redis.dbsize()).toBeGreaterThan(0);
    await redis.flushdb();
    redis.disconnect();
    await pg.query(`UPDATE policy.lease SET release_at = now(), opened_at = now() - interval '1 hour' WHERE id = $1`, [injected.body.leaseId]);
    const lease = await untilLease(injected.body.leaseId, ['rotated', 'failed']);
    expect(lease.state).toBe('rotated');
    expect((await passwordOf(3001)).password).not.toBe(before.password);
  });

  it('follows one injection in one trace across all five services, the vault call, Redis, Postgres, BullMQ and the JetStream consumer', async () => {
    const cred = (await listFor('alice', 'srv-app01')).find((c) => c.name === 'srv-app01\\Administrator')!;
    // vault-adapters reuses a hot vault session from memory; a cleared one makes this injection ask token-cache
    expect((await admin.call('DELETE', '/api/v1/admin/token-cache?vault=password-safe&user=alice')).status).toBe(200);
    const injected = await appliance.inject(cred.id, 'alice', 'srv-app01', 'session-trace');
    remember(injected.body.secret.value);
    const complete = () => {
      const trace = collector.trace(injected.traceId);
      const services = new Set(trace.map((s) => s.service));
      return ['appliance-gateway', 'policy-approval', 'vault-adapters', 'token-cache', 'session-reporting', 'password-safe-sim'].every((s) => services.has(s)) &&
        trace.some((s) => s.name.startsWith('add lease-release')) && trace;
    };
    const spans = await waitFor(complete, { timeoutMs: 15_000, what: 'spans of the injection trace' }).catch(() => {
      const seenSpans = collector.trace(injected.traceId).map((s) => `${s.service}: ${s.name}`);
      throw new Error(`incomplete trace ${injected.traceId}:\n${seenSpans.join('\n')}\n(all services: ${[...new Set(collector.spans.map((s) => s.service))].join(', ')})`);
    });
    const names = spans.map((s) => `${s.service}: ${s.name}`);
    // the gateway's server span is named by its route, each query by its prepared statement
    expect(names).toContain('appliance-gateway: POST /api/v1/injections');
    expect(names.some((n) => n.startsWith('policy-approval: pg.query:policy.insert_lease'))).toBe(true);
    expect(names.some((n) => n.startsWith('vault-adapters:') && /POST|GET/.test(n))).toBe(true);
    expect(spans.some((s) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql')).toBe(true);
    expect(spans.some((s) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis')).toBe(true);
    expect(JSON.stringify(spans, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(injected.body.secret.value);
    // the vault request id is a bearer capability: no span of any service may carry it
    const everyAttribute = collector.spans.flatMap((s) => Object.values(s.attributes).map(String));
    expect(everyAttribute.filter((v) => /Credentials\/\d+|Requests\/\d+/i.test(v))).toEqual([]);
    await appliance.release(injected.body.leaseId);
    await untilLease(injected.body.leaseId, ['rotated']);
  });

  it('keeps one span per hop of a refused injection that was not sampled, all in its trace, and nothing under them', async () => {
    const [cred] = await listFor('alice', 'srv-app01');
    const unsampled = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret, { sampleTraces: false });
    const refused = await unsampled.inject(cred!.id, 'bob', 'srv-app01', 'unsampled-refusal');
    expect(refused.status).toBe(403);
    const hops = await waitFor(
      () => {
        const spans = collector.trace(refused.traceId);
        return spans.length >= 2 && spans;
      },
      { timeoutMs: 10_000, what: 'the kept spans of the refused injection' },
    );
    const gateway = hops.find((s) => s.name === 'POST /api/v1/injections');
    const policy = hops.find((s) => s.name === 'policy.lease.open.v1 process');
    expect(gateway?.service).toBe('appliance-gateway');
    expect(policy?.service).toBe('policy-approval');
    // the hop's parent is the gateway's own span: the call between them was not made a span of its own
    expect(policy?.parentSpanId).toBe(gateway?.spanId);
    // a sampled call after it, through the same two services: once its spans are in, so is all the refusal kept
    const marker = await appliance.listCredentials('alice', 'srv-app01');
    await waitFor(() => ['appliance-gateway', 'policy-approval'].every((service) => collector.trace(marker.traceId).some((s) => s.service === service)), {
      timeoutMs: 10_000,
      what: 'the spans of a later sampled list',
    });
    // none of the queries or calls under the hops was kept
    expect(collector.trace(refused.traceId).map((s) => `${s.service}: ${s.name}`).sort()).toEqual(['appliance-gateway: POST /api/v1/injections', 'policy-approval: policy.lease.open.v1 process']);
  });

  it('tests settings as entered, and clears the token cache so the next call signs in anew', async () => {
    const tested = await admin.call('POST', '/api/v1/admin/vaults/test', {
      type: 'password-safe',
      settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' } },
      user: 'alice',
      endpoint: 'lnx-web01',
    });
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({ result: 'ok', credentials: expect.arrayContaining([expect.objectContaining({ name: 'lnx-web01\\root' })]) });
    const saved = await admin.call('POST', '/api/v1/admin/vaults/password-safe/test', { user: 'alice', endpoint: 'srv-app01', extra: 1 });
    expect(saved.status).toBe(400);

    await listFor('alice', 'srv-app01');
    const before = (await sim<{ signInsByUser: Record<string, number> }>('/stats')).signInsByUser['alice'] ?? 0;
    const cleared = await admin.call<{ deleted: number }>('DELETE', '/api/v1/admin/token-cache?vault=password-safe');
    expect(cleared.status).toBe(200);
    expect(cleared.body.deleted).toBeGreaterThan(0);
    await listFor('alice', 'srv-app01');
    expect((await sim<{ signInsByUser: Record<string, number> }>('/stats')).signInsByUser['alice']).toBe(before + 1);
  });

  it("refuses a vault URL aimed at the broker's own NATS, PostgreSQL or Redis, loopback allowed or not (SSRF)", async () => {
    const ports = { nats: Number(new URL(NATS_URL).port || 4222), postgres: Number(new URL(db.url).port || 5432), redis: Number(new URL(redisUrl).port || 6379) };
    for (const [infra, port] of Object.entries(ports)) {
      const settings = { baseUrl: `http://127.0.0.1:${port}/BeyondTrust/api/public/v3/`, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'k' } };
      const saved = await admin.call<{ errors: Array<{ field: string; message: string }> }>('PUT', '/api/v1/admin/vaults/probe', { type: 'password-safe', settings });
      expect({ infra, status: saved.status, errors: saved.body.errors }).toEqual({
        infra,
        status: 400,
        errors: [{ field: 'settings.baseUrl', message: expect.stringContaining("broker's own NATS, PostgreSQL or Redis") }],
      });
      const tested = await admin.call('POST', '/api/v1/admin/vaults/test', { type: 'password-safe', settings, user: 'alice', endpoint: 'srv-app01' });
      expect({ infra, body: tested.body }).toMatchObject({ infra, body: { result: 'failed', step: 'connect', code: 'VAULT_ADDRESS_REFUSED' } });
    }
    const listed = await admin.call<{ vaults: Array<{ name: string }> }>('GET', '/api/v1/admin/vaults');
    expect(listed.body.vaults.map((v) => v.name)).not.toContain('probe');
  });

  it('never printed a secret in any log line of any app', async () => {
    const lines = system.processes.filter((p) => p.name !== 'password-safe-sim').flatMap((p) => p.lines);
    expect(lines.length).toBeGreaterThan(50);
    const secrets = [...seen, ...system.secrets, 'demo-api-key'];
    for (const secret of secrets) {
      const leaked = lines.find((l) => l.includes(secret));
      expect(leaked).toBeUndefined();
    }
    expect(lines.find((l) => /Credentials\/\d+|Requests\/\d+/.test(l))).toBeUndefined();
    expect(lines.find((l) => /Bearer [A-Za-z0-9_-]{20,}|ASP\.NET_SessionId=/.test(l))).toBeUndefined();
  });
});
