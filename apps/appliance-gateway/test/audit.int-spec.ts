import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AuditPage, AuditRecord, AuditVerification, SEAL_CONTEXTS, type ParsedRequestOf, type ReplyOf } from '@openecm/contracts';
import { sealTo } from '@openecm/crypto';
import { Handles, NatsConnectionProvider, natsServerOptions, publishEvent } from '@openecm/messaging';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, startTestApp, waitFor } from '@openecm/testing';
import { randomBytes, randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['OPENECM_BOOTSTRAP_CLIENT_ID'] = 'audit-admin';
process.env['OPENECM_BOOTSTRAP_CLIENT_SECRET'] = 'audit-admin-secret-0123456789';
process.env['AUDIT_HMAC_KEYS'] = `a1:${randomBytes(32).toString('base64')}`;
// the test links the chain itself (chainNow), so the timer stays out of its way
process.env['AUDIT_CHAIN_INTERVAL_MS'] = '60000';

const ADMIN = { id: 'audit-admin', secret: 'audit-admin-secret-0123456789' };
const PASSWORD = 'Zq#7-audited-password-canary';
const WRONG_SECRET = 'wrong-secret-canary-0123456789';
const released: string[] = [];

@Controller()
class FakeDownstream {
  @Handles('policy.credentials.list.v1')
  async list(_req: ParsedRequestOf<'policy.credentials.list.v1'>): Promise<ReplyOf<'policy.credentials.list.v1'>> {
    return {
      credentials: [{ id: randomUUID(), name: 'srv-app01\\Administrator', username: 'Administrator', domain: null, scope: 'machine', vault: 'ps', approval: 'auto', policy: 'Secure Remote Access Approval Policy' }],
      pending: [],
    };
  }

  @Handles('policy.lease.open.v1')
  async open(req: ParsedRequestOf<'policy.lease.open.v1'>): Promise<ReplyOf<'policy.lease.open.v1'>> {
    const leaseId = randomUUID();
    const secret = await sealTo(req.sealTo, { type: 'password', value: PASSWORD }, SEAL_CONTEXTS.checkoutSecret(leaseId));
    return { leaseId, username: 'Administrator', domain: null, secret, releaseAt: '2030-01-01T01:00:00.000Z' };
  }

  @Handles('policy.lease.release.v1')
  async release(req: ParsedRequestOf<'policy.lease.release.v1'>): Promise<ReplyOf<'policy.lease.release.v1'>> {
    released.push(req.leaseId);
    return { leaseId: req.leaseId, releasedAt: '2030-01-01T00:10:00.000Z', rotation: 'scheduled' };
  }

  @Handles('policy.group-member.add.v1')
  async addMember(req: ParsedRequestOf<'policy.group-member.add.v1'>): Promise<ReplyOf<'policy.group-member.add.v1'>> {
    return { group: req.group, user: req.user, added: true };
  }
}

@Module({ controllers: [FakeDownstream] })
class FakeDownstreamModule {}

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown>;
  contentType: string | null;
}

describe('the audit trail (real HTTP, NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let fakes: INestMicroservice;
  let gateway: { app: INestApplication; url: string };
  let pg: Client;
  let token: string;
  const tokens: string[] = [];

  async function call(method: string, path: string, json?: unknown, auth = `Bearer ${token}`): Promise<Answer> {
    const headers: Record<string, string> = { authorization: auth };
    if (json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${gateway.url}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = {};
    }
    return { status: res.status, text, body, contentType: res.headers.get('content-type') };
  }

  const signIn = (secret: string) =>
    fetch(`${gateway.url}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${ADMIN.id}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });

  async function chainNow(): Promise<void> {
    const { AuditTrail } = await import('../src/audit/audit-trail.service');
    await gateway.app.get(AuditTrail).chainNow();
  }

  const verify = async () => AuditVerification.parse((await call('POST', '/api/v1/admin/audit/verify')).body);
  const records = async (query = '') => AuditPage.parse((await call('GET', `/api/v1/admin/audit${query}`)).body).records;

  /** Two chained records side by side, for tampering with. */
  async function chained(): Promise<Array<{ seq: string; position: string }>> {
    await chainNow();
    return (await pg.query<{ seq: string; position: string }>('SELECT seq::text, position::text FROM audit.record WHERE position IS NOT NULL ORDER BY position LIMIT 3')).rows;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    const { configureGateway } = await import('../src/http-setup');
    const ref = await Test.createTestingModule({ imports: [FakeDownstreamModule] }).compile();
    fakes = ref.createNestMicroservice(natsServerOptions('fake-downstream'));
    await fakes.listen();
    await fakes.unwrap<NatsConnection>().flush();
    gateway = await startTestApp('appliance-gateway', AppModule, configureGateway);
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    const res = await signIn(ADMIN.secret);
    expect(res.status).toBe(200);
    token = ((await res.json()) as { access_token: string }).access_token;
    tokens.push(token);
  });

  afterAll(async () => {
    await pg?.end();
    await gateway?.app.close();
    await fakes?.close();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  it('records a list, an injection, a release, an admin change and a failed sign-in, with nothing secret in any', async () => {
    const list = await call('GET', '/api/v1/credentials?user=CORP%5Calice&endpoint=srv-app01');
    expect(list.status).toBe(200);
    const credentialId = (list.body['credentials'] as Array<{ id: string }>)[0]?.id;
    const injected = await call('POST', '/api/v1/injections', { credentialId, user: 'CORP\\alice', endpoint: 'srv-app01', sessionId: 'pra-1' });
    expect(injected.status).toBe(201);
    expect(injected.body['secret']).toEqual({ type: 'password', value: PASSWORD });
    const leaseId = injected.body['leaseId'] as string;
    expect((await call('POST', `/api/v1/leases/${leaseId}/release`)).status).toBe(200);
    expect((await call('POST', '/api/v1/admin/groups/Requesters/members', { user: 'CORP\\bob' })).status).toBe(201);
    expect((await signIn(WRONG_SECRET)).status).toBe(401);

    const found = await records();
    const byKind = (kind: string) => found.filter((r) => r.kind === kind);
    expect(byKind('credentials.list')).toEqual([
      expect.objectContaining({ actor: ADMIN.id, user: 'CORP\\alice', endpoint: 'srv-app01', outcome: 'ok', details: expect.objectContaining({ listed: 1, vaults: ['ps'] }) }),
    ]);
    expect(byKind('injection')).toEqual([
      expect.objectContaining({ actor: ADMIN.id, user: 'CORP\\alice', endpoint: 'srv-app01', leaseId, credential: 'Administrator', outcome: 'ok' }),
    ]);
    expect(byKind('lease.release')).toEqual([expect.objectContaining({ actor: ADMIN.id, leaseId, outcome: 'ok', details: { rotation: 'scheduled' } })]);
    expect(byKind('admin.change')).toEqual([
      expect.objectContaining({ actor: ADMIN.id, user: 'CORP\\bob', outcome: 'ok', details: expect.objectContaining({ route: 'addGroupMember', params: { group: 'Requesters' } }) }),
    ]);
    expect(byKind('sign-in.failed')).toEqual([expect.objectContaining({ actor: ADMIN.id, outcome: 'UNAUTHENTICATED', details: expect.objectContaining({ reason: 'invalid-credentials' }) })]);
    // newest first, paged by the cursor
    const first = await call('GET', '/api/v1/admin/audit?limit=2');
    const next = await call('GET', `/api/v1/admin/audit?limit=10&cursor=${String(first.body['nextCursor'])}`);
    expect([...(first.body['records'] as AuditRecord[]), ...(next.body['records'] as AuditRecord[])].map((r) => r.seq)).toEqual(found.map((r) => r.seq));
    expect((await records('?kind=injection&user=corp%5Calice')).map((r) => r.leaseId)).toEqual([leaseId]);

    const { rows } = await pg.query<{ row: string }>('SELECT row_to_json(r)::text AS row FROM audit.record r');
    const dump = rows.map((r) => r.row).join('\n');
    for (const secret of [PASSWORD, ADMIN.secret, WRONG_SECRET, ...tokens]) expect(dump).not.toContain(secret);
  });

  it("records policy-approval's release at expiry, rotation and failure, each event once", async () => {
    const js = gateway.app.get(NatsConnectionProvider).get().then((nc) => nc.jetstream());
    const base = { leaseId: randomUUID(), user: 'CORP\\alice', endpoint: 'srv-app01', sessionId: 'pra-9', vault: 'ps', credentialName: 'srv-app01\\Administrator', username: 'Administrator', at: '2030-01-01T00:00:00.000Z' };
    await publishEvent(await js, 'policy.lease.released.v1', { ...base, releasedBy: 'expiry' }, `${base.leaseId}:released`);
    await publishEvent(await js, 'policy.lease.rotated.v1', { ...base, rotated: true }, `${base.leaseId}:rotated`);
    const failed = { ...base, leaseId: randomUUID() };
    await publishEvent(await js, 'policy.lease.released.v1', { ...failed, releasedBy: 'appliance' }, `${failed.leaseId}:released`);
    await publishEvent(await js, 'policy.lease.failed.v1', { ...failed, code: 'VAULT_UNAVAILABLE', message: 'check-in gave up' }, `${failed.leaseId}:failed`);
    const leaseKinds = ['lease.expired', 'lease.rotated', 'lease.failed'];
    const found = await waitFor(async () => {
      const all = (await records('?limit=1000')).filter((r) => leaseKinds.includes(r.kind));
      return all.length === 3 && all;
    });
    expect(found.map((r) => [r.kind, r.leaseId, r.outcome, r.vault, r.credential]).reverse()).toEqual([
      ['lease.expired', base.leaseId, 'ok', 'ps', 'srv-app01\\Administrator'],
      ['lease.rotated', base.leaseId, 'ok', 'ps', 'srv-app01\\Administrator'],
      ['lease.failed', failed.leaseId, 'VAULT_UNAVAILABLE', 'ps', 'srv-app01\\Administrator'],
    ]);
    // a redelivered event names the same stream sequence: recorded once
    const { AuditTrail } = await import('../src/audit/audit-trail.service');
    const trail = gateway.app.get(AuditTrail);
    const again = { kind: 'lease.rotated' as const, actor: null, leaseId: base.leaseId, outcome: 'ok' };
    await trail.record(again, 'redelivered:1');
    await trail.record(again, 'redelivered:1');
    expect((await pg.query('SELECT seq FROM audit.record WHERE event_id = $1', ['redelivered:1'])).rowCount).toBe(1);
  });

  it('records a call whose input holds a NUL (PostgreSQL refuses U+0000: a NUL must not hide a call from the audit)', async () => {
    const refused = await call('DELETE', '/api/v1/admin/api-accounts/edge%00admin');
    expect(refused.status).toBe(400);
    const failedSignIn = await fetch(`${gateway.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('audit\u0000admin:wrong').toString('base64')}` },
      body: 'grant_type=client_credentials',
    });
    expect(failedSignIn.status).toBeGreaterThanOrEqual(400);
    const found = await records();
    expect(found.some((r) => JSON.stringify(r).includes('edge\u2400admin'))).toBe(true);
    // a client id with a control character is refused before it names anyone: recorded without an actor
    expect(found.some((r) => r.kind === 'sign-in.failed' && r.details['reason'] === 'invalid-request')).toBe(true);
  });

  it('exports every record, oldest first, as JSON lines', async () => {
    const res = await call('GET', '/api/v1/admin/audit/export');
    expect(res.status).toBe(200);
    expect(res.contentType).toMatch(/^application\/x-ndjson/);
    const lines = res.text.trimEnd().split('\n').map((line) => AuditRecord.parse(JSON.parse(line)));
    const newestFirst = await records('?limit=1000');
    expect(lines.map((r) => r.seq)).toEqual(newestFirst.map((r) => r.seq).reverse());
    const none = await call('GET', `/api/v1/admin/audit/export?from=${encodeURIComponent('2100-01-01T00:00:00Z')}`);
    expect(none.text).toBe('');
  });

  it('chains every record and verifies the chain', async () => {
    await chainNow();
    const total = Number((await pg.query<{ n: string }>('SELECT count(*) AS n FROM audit.record')).rows[0]?.n);
    const result = await verify();
    // the verify call itself is not a record; the queries before it are not either
    expect(result).toEqual({ ok: true, checked: total, unchained: 0 });
    expect((await records()).every((r) => r.chained)).toBe(true);
  });

  it('names a changed record', async () => {
    const [, row] = await chained();
    const seq = row?.seq as string;
    const before = (await pg.query<{ outcome: string }>('SELECT outcome FROM audit.record WHERE seq = $1', [seq])).rows[0]?.outcome;
    await pg.query("UPDATE audit.record SET outcome = 'tampered' WHERE seq = $1", [seq]);
    expect(await verify()).toEqual(expect.objectContaining({ ok: false, firstProblem: expect.objectContaining({ problem: 'changed', seq, position: row?.position }) }));
    await pg.query('UPDATE audit.record SET outcome = $2 WHERE seq = $1', [seq, before]);
    expect((await verify()).ok).toBe(true);
  });

  it('names a removed record', async () => {
    const [, row, after] = await chained();
    const { rows } = await pg.query<{ row: unknown }>('DELETE FROM audit.record WHERE seq = $1 RETURNING row_to_json(audit.record.*) AS row', [row?.seq]);
    expect(await verify()).toEqual(
      expect.objectContaining({ ok: false, firstProblem: expect.objectContaining({ problem: 'removed', seq: after?.seq, position: after?.position }) }),
    );
    await pg.query('INSERT INTO audit.record SELECT * FROM json_populate_record(NULL::audit.record, $1)', [JSON.stringify(rows[0]?.row)]);
    expect((await verify()).ok).toBe(true);
  });

  it('names two records swapped in the chain', async () => {
    const [a, b] = await chained();
    const place = (row: typeof a, position: string | undefined) => pg.query('UPDATE audit.record SET position = $2 WHERE seq = $1', [row?.seq, position]);
    // through a free position, as the unique constraint wants
    await place(a, '-1');
    await place(b, a?.position);
    await place(a, b?.position);
    expect(await verify()).toEqual(
      expect.objectContaining({ ok: false, firstProblem: expect.objectContaining({ problem: 'reordered', seq: b?.seq, position: a?.position }) }),
    );
    await place(a, '-1');
    await place(b, b?.position);
    await place(a, a?.position);
    expect((await verify()).ok).toBe(true);
  });

  it('answers no secret when its record cannot be written: 503, and the lease is released', async () => {
    const list = await call('GET', '/api/v1/credentials?user=CORP%5Calice&endpoint=srv-app01');
    const credentialId = (list.body['credentials'] as Array<{ id: string }>)[0]?.id;
    await pg.query("CREATE FUNCTION audit.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no audit'; END $$");
    await pg.query('CREATE TRIGGER refuse BEFORE INSERT ON audit.record FOR EACH ROW EXECUTE FUNCTION audit.refuse()');
    released.length = 0;
    try {
      const injected = await call('POST', '/api/v1/injections', { credentialId, user: 'CORP\\alice', endpoint: 'srv-app01', sessionId: 'pra-2' });
      expect({ status: injected.status, code: injected.body['code'] }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
      expect(injected.text).not.toContain(PASSWORD);
      expect(released).toHaveLength(1);
    } finally {
      await pg.query('DROP TRIGGER refuse ON audit.record');
      await pg.query('DROP FUNCTION audit.refuse()');
    }
  });
});
