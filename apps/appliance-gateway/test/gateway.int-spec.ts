import { Controller, Module, type INestApplication, type INestMicroservice, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  OpenEcmError,
  SEALED_BOX_ALG,
  SEAL_CONTEXTS,
  VaultConnectionInput,
  maskSettings,
  type ParsedRequestOf,
  type ReplyOf,
  type Subject,
  type VaultConnectionView,
  type VaultCredential,
} from '@openecm/contracts';
import { SealingKeyPair, sealTo } from '@openecm/crypto';
import { Handles, natsServerOptions } from '@openecm/messaging';
import { ProblemFilter } from '@openecm/service-kit';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams } from '@openecm/testing';
import { createHash, randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { Client } from 'pg';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['OPENECM_BOOTSTRAP_CLIENT_ID'] = 'bootstrap-admin';
process.env['OPENECM_BOOTSTRAP_CLIENT_SECRET'] = 'bootstrap-secret-0123456789';

const GROUP = 'Secure Remote Access Requesters';
const POLICY = 'Secure Remote Access Approval Policy';
const PASSWORD = 'Xy!9-injected-password';

/** Every request the fake downstream services answered, in arrival order. */
const calls: Array<{ subject: Subject; request: unknown }> = [];
const seen = (subject: Subject, request: unknown) => calls.push({ subject, request });
const subjects = () => calls.map((c) => c.subject);

const vaultCredential: VaultCredential = {
  vault: 'ps',
  ref: { systemId: 7, accountId: 42 },
  name: 'srv-app01\\Administrator',
  username: 'Administrator',
  domain: null,
  scope: 'machine',
  releaseDurationMinutes: 60,
  rotateAfterRelease: true,
};
const offeredId = randomUUID();
/** What crossed NATS where a secret travels: sealed answers and sealed settings, as an eavesdropper saw them. */
const sealedAnswers: string[] = [];
const sealedSettings: string[] = [];
/** How many times the fake vault-adapters answers a key it no longer holds, as an instance may while keys change. */
const staleKeyAnswers = { left: 0 };
const leaseId = randomUUID();

@Controller()
class FakePolicyController {
  private readonly members = new Set<string>();
  private defaultsCreated = false;

  @Handles('policy.credentials.list.v1')
  async list(req: ParsedRequestOf<'policy.credentials.list.v1'>): Promise<ReplyOf<'policy.credentials.list.v1'>> {
    seen('policy.credentials.list.v1', req);
    if (req.user === 'CORP\\mallory') throw new OpenEcmError('ACCESS_DENIED', 'CORP\\mallory is in no requester group');
    return {
      credentials: [{ id: offeredId, name: vaultCredential.name, username: vaultCredential.username, domain: vaultCredential.domain, scope: vaultCredential.scope, vault: vaultCredential.vault, approval: 'auto', policy: 'Secure Remote Access Approval Policy' }],
      pending: [{ vault: 'ps-east', reason: 'approval pending in the vault' }],
    };
  }

  @Handles('policy.lease.open.v1')
  async open(req: ParsedRequestOf<'policy.lease.open.v1'>): Promise<ReplyOf<'policy.lease.open.v1'>> {
    seen('policy.lease.open.v1', req);
    // as vault-adapters does: sealed to the key the gateway sent (a stranger's key, for the session that asks for it)
    const recipient = req.sessionId === 'sealed-elsewhere' ? (await SealingKeyPair.generate()).publicKey : req.sealTo;
    const secret = await sealTo(recipient, { type: 'password', value: PASSWORD }, SEAL_CONTEXTS.checkoutSecret(leaseId));
    sealedAnswers.push(JSON.stringify(secret));
    return { leaseId, username: 'Administrator', domain: null, secret, releaseAt: '2030-01-01T01:00:00.000Z' };
  }

  @Handles('policy.lease.release.v1')
  async release(req: ParsedRequestOf<'policy.lease.release.v1'>): Promise<ReplyOf<'policy.lease.release.v1'>> {
    seen('policy.lease.release.v1', req);
    return { leaseId: req.leaseId, releasedAt: '2030-01-01T00:10:00.000Z', rotation: 'scheduled' };
  }

  @Handles('policy.lease.get.v1')
  async get(req: ParsedRequestOf<'policy.lease.get.v1'>): Promise<ReplyOf<'policy.lease.get.v1'>> {
    seen('policy.lease.get.v1', req);
    if (req.leaseId !== leaseId) throw new OpenEcmError('LEASE_NOT_FOUND', 'no such lease');
    return {
      leaseId,
      state: 'released',
      user: 'CORP\\alice',
      endpoint: 'srv-app01',
      sessionId: 'pra-session-1',
      vault: 'ps',
      credentialName: vaultCredential.name,
      username: 'Administrator',
      domain: null,
      openedAt: '2030-01-01T00:00:00.000Z',
      releaseAt: '2030-01-01T01:00:00.000Z',
      releasedAt: '2030-01-01T00:10:00.000Z',
      releasedBy: 'appliance',
      rotation: 'scheduled',
      rotatedAt: null,
      error: null,
      policy: 'Secure Remote Access Approval Policy',
      approvalId: null,
      emergency: false,
      reason: null,
      revokedReason: null,
    };
  }

  @Handles('policy.defaults.ensure.v1')
  async ensureDefaults(req: ParsedRequestOf<'policy.defaults.ensure.v1'>): Promise<ReplyOf<'policy.defaults.ensure.v1'>> {
    seen('policy.defaults.ensure.v1', req);
    const created = !this.defaultsCreated;
    this.defaultsCreated = true;
    return { group: GROUP, policy: POLICY, created };
  }

  @Handles('policy.group-member.add.v1')
  async addMember(req: ParsedRequestOf<'policy.group-member.add.v1'>): Promise<ReplyOf<'policy.group-member.add.v1'>> {
    seen('policy.group-member.add.v1', req);
    const added = !this.members.has(req.user);
    this.members.add(req.user);
    return { group: req.group, user: req.user, added };
  }

  @Handles('policy.group-member.remove.v1')
  async removeMember(req: ParsedRequestOf<'policy.group-member.remove.v1'>): Promise<ReplyOf<'policy.group-member.remove.v1'>> {
    seen('policy.group-member.remove.v1', req);
    return { group: req.group, user: req.user, removed: this.members.delete(req.user) };
  }
}

@Controller()
class FakeVaultController {
  private readonly connections = new Map<string, VaultConnectionView>();
  private readonly keys = SealingKeyPair.generate('fake-1');

  @Handles('vault.sealing-key.get.v1')
  async sealingKey(_req: ParsedRequestOf<'vault.sealing-key.get.v1'>): Promise<ReplyOf<'vault.sealing-key.get.v1'>> {
    if (staleKeyAnswers.left > 0) {
      staleKeyAnswers.left--;
      return (await SealingKeyPair.generate('retired')).publicKey;
    }
    return (await this.keys).publicKey;
  }

  @Handles('vault.credentials.list.v1')
  async list(req: ParsedRequestOf<'vault.credentials.list.v1'>): Promise<ReplyOf<'vault.credentials.list.v1'>> {
    seen('vault.credentials.list.v1', req);
    return { credentials: [vaultCredential], pending: [{ vault: 'ps-east', reason: 'approval pending in the vault' }] };
  }

  @Handles('vault.connection.upsert.v1')
  async upsert(req: ParsedRequestOf<'vault.connection.upsert.v1'>): Promise<ReplyOf<'vault.connection.upsert.v1'>> {
    sealedSettings.push(JSON.stringify(req.connection));
    const opened = await (await this.keys).open(req.connection, SEAL_CONTEXTS.vaultConnection(req.name));
    if (opened === undefined) throw new OpenEcmError('VALIDATION_FAILED', 'connection is not sealed to a key of this vault-adapters', [{ field: 'connection', message: 'sealed to another key' }]);
    const input = VaultConnectionInput.parse(opened);
    seen('vault.connection.upsert.v1', { name: req.name, connection: input });
    const before = this.connections.get(req.name);
    const now = new Date().toISOString();
    const connection: VaultConnectionView = {
      name: req.name,
      type: input.type,
      status: 'ok',
      settings: maskSettings(input),
      createdAt: before?.createdAt ?? now,
      updatedAt: now,
    };
    this.connections.set(req.name, connection);
    return { connection, created: !before };
  }

  @Handles('vault.connection.list.v1')
  async connectionList(req: ParsedRequestOf<'vault.connection.list.v1'>): Promise<ReplyOf<'vault.connection.list.v1'>> {
    seen('vault.connection.list.v1', req);
    return { connections: [...this.connections.values()] };
  }
}

@Module({ controllers: [FakePolicyController, FakeVaultController] })
class FakeDownstreamModule {}

/** The gateway started in-process the way main.ts starts it, body limits included. */
async function startGateway(module: Type<unknown>): Promise<{ app: INestApplication; url: string }> {
  const { configureGateway } = await import('../src/http-setup');
  const ref = await Test.createTestingModule({ imports: [module] }).compile();
  const app = ref.createNestApplication({ logger: ['error'] });
  app.useGlobalFilters(new ProblemFilter());
  app.connectMicroservice(natsServerOptions('appliance-gateway'), { inheritAppConfig: true });
  configureGateway(app);
  await app.startAllMicroservices();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}` };
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

describe('appliance-gateway over real HTTP, NATS and Postgres', () => {
  let db: { url: string; drop: () => Promise<void> };
  let gateway: INestApplication;
  let fakes: INestMicroservice;
  let base: string;
  let pg: Client;
  let adminToken: string;
  let credentialsAccount: { clientId: string; clientSecret: string };
  let credentialsToken: string;

  async function call(
    method: string,
    path: string,
    options: { token?: string; json?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined = options.raw;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.raw !== undefined) {
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${base}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = {};
    }
    return { status: res.status, headers: res.headers, text, body: parsed };
  }

  const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

  async function tokenFor(id: string, secret: string): Promise<string> {
    const res = await call('POST', '/oauth2/token', {
      raw: 'grant_type=client_credentials',
      headers: { ...basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    return res.body['access_token'] as string;
  }

  const expectProblem = (res: Answer, status: number, code: string) => {
    expect({ status: res.status, code: res.body['code'] }).toEqual({ status, code });
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
  };
  const fieldsOf = (res: Answer) => (res.body['errors'] as Array<{ field: string }> | undefined)?.map((e) => e.field);

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    const ref = await Test.createTestingModule({ imports: [FakeDownstreamModule] }).compile();
    fakes = ref.createNestMicroservice(natsServerOptions('fake-downstream'));
    await fakes.listen();
    // the fakes' subscriptions reach the server before the first request does
    await fakes.unwrap<NatsConnection>().flush();
    ({ app: gateway, url: base } = await startGateway(AppModule));
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await gateway?.close();
    await fakes?.close();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  beforeEach(() => {
    calls.length = 0;
  });

  describe('OAuth client credentials', () => {
    it('created the bootstrap account with every permission on the empty table', async () => {
      const { rows } = await pg.query<{ client_id: string; permissions: string[]; secret_hash: string }>(
        'SELECT client_id, permissions, secret_hash FROM gateway.api_account',
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ client_id: 'bootstrap-admin', permissions: ['credentials', 'reporting', 'admin', 'approvals'] });
      expect(rows[0]?.secret_hash).toMatch(/^scrypt\$/);
      expect(rows[0]?.secret_hash).not.toContain('bootstrap-secret');
    });

    it('issues a bearer token for HTTP Basic and keeps only its SHA-256', async () => {
      const res = await call('POST', '/oauth2/token', {
        raw: 'grant_type=client_credentials',
        headers: { ...basic('bootstrap-admin', 'bootstrap-secret-0123456789'), 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ access_token: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/), token_type: 'Bearer', expires_in: 3600 });
      expect(res.headers.get('cache-control')).toBe('no-store');
      adminToken = res.body['access_token'] as string;
      const digest = createHash('sha256').update(adminToken).digest('hex');
      const stored = await pg.query<{ token_hash: string; ttl: number }>(
        'SELECT token_hash, extract(epoch FROM expires_at - issued_at)::int AS ttl FROM gateway.access_token',
      );
      expect(stored.rows).toEqual([{ token_hash: digest, ttl: 3600 }]);
    });

    it('issues a token for credentials in a form body or in JSON', async () => {
      const form = await call('POST', '/oauth2/token', {
        raw: 'grant_type=client_credentials&client_id=bootstrap-admin&client_secret=bootstrap-secret-0123456789',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(form.status).toBe(200);
      expect(form.body['token_type']).toBe('Bearer');
      const json = await call('POST', '/oauth2/token', {
        json: { grant_type: 'client_credentials', client_id: 'bootstrap-admin', client_secret: 'bootstrap-secret-0123456789' },
      });
      expect(json.status).toBe(200);
      expect(json.body['access_token']).not.toBe(form.body['access_token']);
    });

    it('answers 401 UNAUTHENTICATED / invalid_client for a wrong secret or an unknown client, alike', async () => {
      for (const [id, secret] of [
        ['bootstrap-admin', 'wrong-secret-0123456789'],
        ['nobody', 'bootstrap-secret-0123456789'],
      ] as const) {
        const res = await call('POST', '/oauth2/token', { raw: 'grant_type=client_credentials', headers: { ...basic(id, secret), 'content-type': 'application/x-www-form-urlencoded' } });
        expectProblem(res, 401, 'UNAUTHENTICATED');
        expect(res.body['error']).toBe('invalid_client');
        expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
        expect(res.text).not.toContain('wrong-secret');
        expect(res.text).not.toContain('bootstrap-secret');
      }
    });

    it('rejects another grant type and unknown fields with 400, issuing nothing', async () => {
      const before = await pg.query('SELECT 1 FROM gateway.access_token');
      const grant = await call('POST', '/oauth2/token', { json: { grant_type: 'password', client_id: 'bootstrap-admin', client_secret: 'x' } });
      expectProblem(grant, 400, 'VALIDATION_FAILED');
      expect(grant.body['error']).toBe('unsupported_grant_type');
      const extra = await call('POST', '/oauth2/token', {
        json: { grant_type: 'client_credentials', client_id: 'bootstrap-admin', client_secret: 'bootstrap-secret-0123456789', audience: 'x' },
      });
      expectProblem(extra, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(extra)).toEqual(['audience']);
      expect((await pg.query('SELECT 1 FROM gateway.access_token')).rowCount).toBe(before.rowCount);
    });
  });

  describe('API accounts and permissions', () => {
    it('lets an admin create accounts, answering the secret once and listing them without secrets', async () => {
      const created = await call('POST', '/api/v1/admin/api-accounts', { token: adminToken, json: { clientId: 'pra-site-1', permissions: ['credentials'] } });
      expect(created.status).toBe(201);
      expect(created.headers.get('cache-control')).toBe('no-store');
      expect(created.body).toEqual({ clientId: 'pra-site-1', permissions: ['credentials'], createdAt: expect.any(String), clientSecret: expect.any(String) });
      credentialsAccount = { clientId: 'pra-site-1', clientSecret: created.body['clientSecret'] as string };
      credentialsToken = await tokenFor(credentialsAccount.clientId, credentialsAccount.clientSecret);
      const reporting = await call('POST', '/api/v1/admin/api-accounts', { token: adminToken, json: { clientId: 'reports', permissions: ['reporting'] } });
      expect(reporting.status).toBe(201);

      const list = await call('GET', '/api/v1/admin/api-accounts', { token: adminToken });
      expect(list.status).toBe(200);
      expect((list.body['accounts'] as Array<{ clientId: string }>).map((a) => a.clientId)).toEqual(['bootstrap-admin', 'pra-site-1', 'reports']);
      expect(list.text).not.toContain(credentialsAccount.clientSecret);
      expect(list.text).not.toMatch(/secret/i);

      const duplicate = await call('POST', '/api/v1/admin/api-accounts', { token: adminToken, json: { clientId: 'reports', permissions: ['admin'] } });
      expectProblem(duplicate, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(duplicate)).toEqual(['clientId']);
      const unknown = await call('POST', '/api/v1/admin/api-accounts', { token: adminToken, json: { clientId: 'x-y-z', permissions: ['root'], secret: 's' } });
      expectProblem(unknown, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(unknown)?.sort()).toEqual(['permissions.0', 'secret']);
    });

    it('answers 401 without a live token and 403 PERMISSION_MISSING without the route permission', async () => {
      const none = await call('GET', '/api/v1/credentials?user=alice&endpoint=srv-app01');
      expectProblem(none, 401, 'UNAUTHENTICATED');
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expectProblem(await call('GET', '/api/v1/credentials?user=alice&endpoint=srv-app01', { token: 'A'.repeat(43) }), 401, 'UNAUTHENTICATED');

      const created = await call('POST', '/api/v1/admin/api-accounts', { token: adminToken, json: { clientId: 'reports-2', permissions: ['reporting'] } });
      const reportingToken = await tokenFor('reports-2', created.body['clientSecret'] as string);
      expectProblem(await call('GET', '/api/v1/credentials?user=alice&endpoint=srv-app01', { token: reportingToken }), 403, 'PERMISSION_MISSING');
      expectProblem(await call('GET', '/api/v1/admin/vaults', { token: credentialsToken }), 403, 'PERMISSION_MISSING');
      const adminOnly = await call('POST', '/api/v1/admin/api-accounts', { token: adminToken, json: { clientId: 'admin-only', permissions: ['admin'] } });
      const adminOnlyToken = await tokenFor('admin-only', adminOnly.body['clientSecret'] as string);
      expectProblem(await call('GET', '/api/v1/credentials?user=alice&endpoint=srv-app01', { token: adminOnlyToken }), 403, 'PERMISSION_MISSING');
      expect(calls).toEqual([]);
    });

    it('refuses an expired token', async () => {
      const token = await tokenFor(credentialsAccount.clientId, credentialsAccount.clientSecret);
      const digest = createHash('sha256').update(token).digest('hex');
      await pg.query("UPDATE gateway.access_token SET expires_at = now() - interval '1 second' WHERE token_hash = $1", [digest]);
      expectProblem(await call('GET', '/api/v1/leases/' + leaseId, { token }), 401, 'UNAUTHENTICATED');
      expect(calls).toEqual([]);
    });

    it('keeps at most 30 live tokens per account, dropping the oldest even where it was just used', async () => {
      const created = await call('POST', '/api/v1/admin/api-accounts', { token: adminToken, json: { clientId: 'capped', permissions: ['credentials'] } });
      const secret = created.body['clientSecret'] as string;
      const first = await tokenFor('capped', secret);
      expect((await call('GET', `/api/v1/leases/${leaseId}`, { token: first })).status).toBe(200);
      // issued concurrently: the account row lock applies the cap one issue at a time anyway
      const later = await Promise.all(Array.from({ length: 30 }, () => tokenFor('capped', secret)));
      const { rows } = await pg.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM gateway.access_token t JOIN gateway.api_account a ON a.id = t.account_id WHERE a.client_id = 'capped'",
      );
      expect(rows[0]?.n).toBe(30);
      expectProblem(await call('GET', `/api/v1/leases/${leaseId}`, { token: first }), 401, 'UNAUTHENTICATED');
      expect((await call('GET', `/api/v1/leases/${leaseId}`, { token: later[0] })).status).toBe(200);
      expect((await call('GET', `/api/v1/leases/${leaseId}`, { token: later[29] })).status).toBe(200);
    }, 30_000);

    it('deletes an account with its tokens, but never the last admin', async () => {
      const created = await call('POST', '/api/v1/admin/api-accounts', { token: adminToken, json: { clientId: 'short-lived', permissions: ['credentials'] } });
      const token = await tokenFor('short-lived', created.body['clientSecret'] as string);
      expect((await call('GET', `/api/v1/leases/${leaseId}`, { token })).status).toBe(200);
      const deleted = await call('DELETE', '/api/v1/admin/api-accounts/short-lived', { token: adminToken });
      expect(deleted).toMatchObject({ status: 200, body: { clientId: 'short-lived', deleted: true } });
      expectProblem(await call('GET', `/api/v1/leases/${leaseId}`, { token }), 401, 'UNAUTHENTICATED');
      expect((await pg.query("SELECT 1 FROM gateway.access_token t LEFT JOIN gateway.api_account a ON a.id = t.account_id WHERE a.id IS NULL")).rowCount).toBe(0);
      expectProblem(await call('DELETE', '/api/v1/admin/api-accounts/short-lived', { token: adminToken }), 404, 'NOT_FOUND');
      expect((await call('DELETE', '/api/v1/admin/api-accounts/admin-only', { token: adminToken })).status).toBe(200);
      const lastAdmin = await call('DELETE', '/api/v1/admin/api-accounts/bootstrap-admin', { token: adminToken });
      expectProblem(lastAdmin, 400, 'VALIDATION_FAILED');
      expect((await call('GET', '/api/v1/admin/api-accounts', { token: adminToken })).status).toBe(200);
    });
  });

  describe('credentials, injections and leases', () => {
    it('lists in one call to policy-approval; answers ids and names, never a secret', async () => {
      const res = await call('GET', '/api/v1/credentials?user=CORP%5Calice&endpoint=srv-app01&protocol=rdp', { token: credentialsToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        credentials: [{ id: offeredId, name: 'srv-app01\\Administrator', username: 'Administrator', domain: null, scope: 'machine', vault: 'ps', approval: 'auto', policy: 'Secure Remote Access Approval Policy' }],
        pending: [{ vault: 'ps-east', reason: 'approval pending in the vault' }],
      });
      expect(subjects()).toEqual(['policy.credentials.list.v1']);
      expect(calls[0]?.request).toEqual({ user: 'CORP\\alice', endpoint: 'srv-app01', protocol: 'rdp' });
      expect(res.text).not.toContain('accountId');
    });

    it('passes ACCESS_DENIED through as 403 problem+json', async () => {
      const res = await call('GET', '/api/v1/credentials?user=CORP%5Cmallory&endpoint=srv-app01', { token: credentialsToken });
      expectProblem(res, 403, 'ACCESS_DENIED');
      expect(subjects()).toEqual(['policy.credentials.list.v1']);
    });

    it('rejects unknown, repeated or missing query fields by name and calls nothing', async () => {
      const unknown = await call('GET', '/api/v1/credentials?user=alice&endpoint=srv-app01&vault=ps', { token: credentialsToken });
      expectProblem(unknown, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(unknown)).toEqual(['vault']);
      const repeated = await call('GET', '/api/v1/credentials?user=alice&user=bob&endpoint=srv-app01', { token: credentialsToken });
      expect(fieldsOf(repeated)).toEqual(['user']);
      const missing = await call('GET', '/api/v1/credentials?user=alice&protocol=telnet', { token: credentialsToken });
      expect(fieldsOf(missing)?.sort()).toEqual(['endpoint', 'protocol']);
      expect(calls).toEqual([]);
    });

    it('injects: 201 with the secret and Cache-Control no-store', async () => {
      const request = { credentialId: offeredId, user: 'CORP\\alice', endpoint: 'srv-app01', sessionId: 'pra-session-1' };
      const res = await call('POST', '/api/v1/injections', { token: credentialsToken, json: request });
      expect(res.status).toBe(201);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toEqual({ leaseId, username: 'Administrator', domain: null, secret: { type: 'password', value: PASSWORD }, releaseAt: '2030-01-01T01:00:00.000Z' });
      expect(calls).toEqual([{ subject: 'policy.lease.open.v1', request: expect.objectContaining({ ...request, sealTo: expect.objectContaining({ alg: SEALED_BOX_ALG }) }) }]);
      expect(sealedAnswers.at(-1)).not.toContain(PASSWORD);
    });

    it('makes a key pair per injection, and a secret it cannot open is never answered: the lease is released at once', async () => {
      const request = { credentialId: offeredId, user: 'CORP\\alice', endpoint: 'srv-app01', sessionId: 'pra-session-2' };
      await call('POST', '/api/v1/injections', { token: credentialsToken, json: request });
      await call('POST', '/api/v1/injections', { token: credentialsToken, json: request });
      const keys = calls.map((c) => (c.request as { sealTo: { publicKey: string } }).sealTo.publicKey);
      expect(new Set(keys).size).toBe(2);
      calls.length = 0;
      const res = await call('POST', '/api/v1/injections', { token: credentialsToken, json: { ...request, sessionId: 'sealed-elsewhere' } });
      expectProblem(res, 500, 'INTERNAL');
      expect(res.text).not.toContain(PASSWORD);
      expect(subjects()).toEqual(['policy.lease.open.v1', 'policy.lease.release.v1']);
      expect(calls[1]?.request).toMatchObject({ leaseId });
    });

    it('rejects an injection with an unknown or bad field by name and opens no lease', async () => {
      const res = await call('POST', '/api/v1/injections', {
        token: credentialsToken,
        json: { credentialId: 'not-a-uuid', user: 'CORP\\alice', endpoint: 'srv-app01', sessionId: 's', password: 'x' },
      });
      expectProblem(res, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(res)?.sort()).toEqual(['credentialId', 'password']);
      expect(calls).toEqual([]);
    });

    it('releases and reads a lease; a lease id that is no uuid is a 400 naming leaseId', async () => {
      const released = await call('POST', `/api/v1/leases/${leaseId}/release`, { token: credentialsToken });
      expect(released).toMatchObject({ status: 200, body: { leaseId, releasedAt: expect.any(String), rotation: 'scheduled' } });
      const lease = await call('GET', `/api/v1/leases/${leaseId}`, { token: credentialsToken });
      expect(lease).toMatchObject({ status: 200, body: { leaseId, state: 'released', rotation: 'scheduled' } });
      expect(subjects()).toEqual(['policy.lease.release.v1', 'policy.lease.get.v1']);
      calls.length = 0;
      const bad = await call('POST', '/api/v1/leases/12345/release', { token: credentialsToken });
      expectProblem(bad, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(bad)).toEqual(['leaseId']);
      expect(calls).toEqual([]);
      expectProblem(await call('GET', `/api/v1/leases/${randomUUID()}`, { token: credentialsToken }), 404, 'LEASE_NOT_FOUND');
    });

    it('answers malformed JSON and oversized bodies with 400 problem+json that does not echo the body', async () => {
      const malformed = await call('POST', '/api/v1/injections', { token: credentialsToken, raw: '{"sessionId": "hunter2-secret",' });
      expectProblem(malformed, 400, 'VALIDATION_FAILED');
      expect(malformed.text).not.toContain('hunter2');
      const big = await call('POST', '/api/v1/injections', { token: credentialsToken, json: { sessionId: 'x'.repeat(70 * 1024) } });
      expectProblem(big, 400, 'VALIDATION_FAILED');
      expect(big.body['detail']).toMatch(/64 kb/);
      expect(calls).toEqual([]);
    });
  });

  describe('administration', () => {
    const settings = { baseUrl: 'https://ps.example.test/BeyondTrust/api/public/v3', auth: { mode: 'api-key', apiKey: 'vault-api-key-123' }, releaseDurationMinutes: 60, rotateAfterRelease: true };

    it('creates a vault connection (201), then updates it (200), ensuring the defaults each time; secrets masked', async () => {
      const first = await call('PUT', '/api/v1/admin/vaults/ps', { token: adminToken, json: { type: 'password-safe', settings } });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ name: 'ps', type: 'password-safe', settings: { auth: { mode: 'api-key', apiKey: '********' } } });
      expect(first.text).not.toContain('vault-api-key-123');
      expect(subjects()).toEqual(['vault.connection.upsert.v1', 'policy.defaults.ensure.v1']);
      expect(calls[0]?.request).toEqual({ name: 'ps', connection: { type: 'password-safe', settings: { ...settings, allowInsecureHttp: false } } });
      // it crossed NATS sealed to the vault-adapters key
      expect(sealedSettings).toHaveLength(1);
      expect(sealedSettings[0]).not.toContain('vault-api-key-123');
      expect(JSON.parse(sealedSettings[0] as string)).toMatchObject({ alg: SEALED_BOX_ALG, kid: 'fake-1' });

      const second = await call('PUT', '/api/v1/admin/vaults/ps', { token: adminToken, json: { type: 'password-safe', settings: { ...settings, releaseDurationMinutes: 30 } } });
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ settings: { releaseDurationMinutes: 30 } });
      expect(subjects()).toEqual(['vault.connection.upsert.v1', 'policy.defaults.ensure.v1', 'vault.connection.upsert.v1', 'policy.defaults.ensure.v1']);

      const list = await call('GET', '/api/v1/admin/vaults', { token: adminToken });
      expect(list.status).toBe(200);
      expect(list.body['vaults']).toEqual([second.body]);
      expect(list.text).not.toContain('vault-api-key-123');
    });

    it('seals the settings once more to the key asked anew when vault-adapters holds another key than it first named', async () => {
      staleKeyAnswers.left = 1;
      const before = sealedSettings.length;
      const res = await call('PUT', '/api/v1/admin/vaults/ps', { token: adminToken, json: { type: 'password-safe', settings } });
      expect(res.status).toBe(200);
      expect(staleKeyAnswers.left).toBe(0);
      const sent = sealedSettings.slice(before).map((t) => JSON.parse(t) as { kid: string });
      expect(sent.map((b) => b.kid)).toEqual(['retired', 'fake-1']);
    });

    it('rejects a bad vault name or an unknown setting by name and changes nothing', async () => {
      const field = await call('PUT', '/api/v1/admin/vaults/ps', { token: adminToken, json: { type: 'password-safe', settings: { ...settings, proxy: 'x' } } });
      expectProblem(field, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(field)).toEqual(['settings.proxy']);
      expect(field.text).not.toContain('vault-api-key-123');
      const name = await call('PUT', '/api/v1/admin/vaults/Bad%20Name', { token: adminToken, json: { type: 'password-safe', settings } });
      expect(fieldsOf(name)).toEqual(['name']);
      expect(calls).toEqual([]);
    });

    it('adds and removes requester group members, a DOMAIN\\user name URL-encoded in the path', async () => {
      const path = `/api/v1/admin/groups/${encodeURIComponent(GROUP)}/members`;
      const added = await call('POST', path, { token: adminToken, json: { user: 'CORP\\alice' } });
      expect(added).toMatchObject({ status: 201, body: { group: GROUP, user: 'CORP\\alice', added: true } });
      expect((await call('POST', path, { token: adminToken, json: { user: 'CORP\\alice' } })).status).toBe(200);
      const removed = await call('DELETE', `${path}/${encodeURIComponent('CORP\\alice')}`, { token: adminToken });
      expect(removed).toMatchObject({ status: 200, body: { group: GROUP, user: 'CORP\\alice', removed: true } });
      expect(calls.map((c) => c.request)).toEqual([
        { group: GROUP, user: 'CORP\\alice' },
        { group: GROUP, user: 'CORP\\alice' },
        { group: GROUP, user: 'CORP\\alice' },
      ]);
      calls.length = 0;
      const unknown = await call('POST', path, { token: adminToken, json: { user: 'CORP\\bob', role: 'approver' } });
      expect(fieldsOf(unknown)).toEqual(['role']);
      expect(calls).toEqual([]);
    });
  });

  describe('operations', () => {
    it('is ready only with NATS, Redis and Postgres up, and serves Prometheus metrics', async () => {
      const live = await call('GET', '/health/live');
      expect(live.status).toBe(200);
      const ready = await call('GET', '/health/ready');
      expect(ready).toMatchObject({ status: 200, body: { status: 'up', checks: { nats: 'up', redis: 'up', postgres: 'up' } } });
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toContain('openecm_http_request_duration_seconds_bucket');
    });
  });

  describe('bootstrap', () => {
    it('creates no account on a later start, since accounts exist', async () => {
      process.env['OPENECM_BOOTSTRAP_CLIENT_ID'] = 'second-bootstrap';
      const { AppModule } = await import('../src/app.module');
      const second = await startGateway(AppModule);
      try {
        const ids = await pg.query<{ client_id: string }>('SELECT client_id FROM gateway.api_account');
        expect(ids.rows.map((r) => r.client_id)).not.toContain('second-bootstrap');
        const res = await fetch(`${second.url}/oauth2/token`, {
          method: 'POST',
          headers: { ...basic('second-bootstrap', 'bootstrap-secret-0123456789'), 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials',
        });
        expect(res.status).toBe(401);
      } finally {
        await second.app.close();
      }
    });

    it('creates exactly one account when instances bootstrap an empty table at once', async () => {
      const { ApiAccountsService } = await import('../src/accounts/api-accounts.service');
      const accounts = gateway.get(ApiAccountsService);
      await pg.query('DELETE FROM gateway.api_account');
      const results = await Promise.all(['boot-a', 'boot-b', 'boot-c', 'boot-a'].map((id) => accounts.bootstrap(id, 'bootstrap-secret-0123456789')));
      expect(results.filter(Boolean)).toHaveLength(1);
      const { rows } = await pg.query<{ permissions: string[] }>('SELECT permissions FROM gateway.api_account');
      expect(rows).toEqual([{ permissions: ['credentials', 'reporting', 'admin', 'approvals'] }]);
    });
  });
});
