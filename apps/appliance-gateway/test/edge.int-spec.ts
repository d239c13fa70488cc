import { Controller, Module, type INestApplication, type INestMicroservice, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { OpenEcmError, ProblemDetails, type LeaseView, type ParsedRequestOf, type ReplyOf, type Subject } from '@openecm/contracts';
import { Handles, natsServerOptions } from '@openecm/messaging';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, startTestApp } from '@openecm/testing';
import { randomUUID } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import type { NatsConnection } from 'nats';
import type { FailedSignIn } from '../src/oauth/sign-in-events';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['OPENECM_BOOTSTRAP_CLIENT_ID'] = 'edge-admin';
process.env['OPENECM_BOOTSTRAP_CLIENT_SECRET'] = 'edge-admin-secret-0123456789';
// every source address below is told by X-Forwarded-For, which only a trusted (here: loopback) proxy may set
process.env['GATEWAY_TRUSTED_PROXIES'] = 'loopback';
process.env['TOKEN_RATE_PER_CLIENT'] = '5';
process.env['TOKEN_RATE_PER_ADDRESS'] = '12';
process.env['TOKEN_RATE_WINDOW_SECONDS'] = '60';
process.env['TOKEN_LOCKOUT_FAILURES'] = '3';
process.env['TOKEN_LOCKOUT_ADDRESS_FAILURES'] = '5';
process.env['TOKEN_LOCKOUT_WINDOW_SECONDS'] = '300';
process.env['TOKEN_LOCKOUT_SECONDS'] = '120';

const ADMIN = { id: 'edge-admin', secret: 'edge-admin-secret-0123456789' };
const KELVIN_KATE = '\u212Aate';
/** The one lease the fake policy-approval knows, opened by the account `appliance-a`. */
const LEASE_ID = randomUUID();
const LEASE_OWNER = 'appliance-a';

const calls: Array<{ subject: Subject; request: unknown }> = [];

@Controller()
class FakePolicyController {
  @Handles('policy.credentials.list.v1')
  async list(req: ParsedRequestOf<'policy.credentials.list.v1'>): Promise<ReplyOf<'policy.credentials.list.v1'>> {
    calls.push({ subject: 'policy.credentials.list.v1', request: req });
    throw new OpenEcmError('ACCESS_DENIED', 'in no requester group');
  }

  @Handles('policy.lease.open.v1')
  async open(req: ParsedRequestOf<'policy.lease.open.v1'>): Promise<ReplyOf<'policy.lease.open.v1'>> {
    calls.push({ subject: 'policy.lease.open.v1', request: req });
    throw new OpenEcmError('CREDENTIAL_NOT_OFFERED', 'not offered');
  }

  @Handles('policy.lease.get.v1')
  async get(req: ParsedRequestOf<'policy.lease.get.v1'>): Promise<ReplyOf<'policy.lease.get.v1'>> {
    calls.push({ subject: 'policy.lease.get.v1', request: req });
    return visible(req) ? lease() : notFound();
  }

  @Handles('policy.lease.release.v1')
  async release(req: ParsedRequestOf<'policy.lease.release.v1'>): Promise<ReplyOf<'policy.lease.release.v1'>> {
    calls.push({ subject: 'policy.lease.release.v1', request: req });
    return visible(req) ? { leaseId: LEASE_ID, releasedAt: '2030-01-01T00:10:00.000Z', rotation: 'scheduled' } : notFound();
  }
}

/** What policy-approval does with `owner`: null sees every lease, an account only its own. */
const visible = (req: { leaseId: string; owner: string | null }) => req.leaseId === LEASE_ID && (req.owner === null || req.owner === LEASE_OWNER);
const notFound = (): never => {
  throw new OpenEcmError('LEASE_NOT_FOUND', 'no such lease');
};
const lease = (): LeaseView => ({
  leaseId: LEASE_ID,
  state: 'active',
  user: 'alice',
  endpoint: 'srv-app01',
  sessionId: 'pra-1',
  vault: 'ps',
  credentialName: 'srv-app01\\Administrator',
  username: 'Administrator',
  domain: null,
  openedAt: '2030-01-01T00:00:00.000Z',
  releaseAt: '2030-01-01T01:00:00.000Z',
  releasedAt: null,
  releasedBy: null,
  rotation: 'pending',
  rotatedAt: null,
  error: null,
      policy: 'Secure Remote Access Approval Policy',
      approvalId: null,
      emergency: false,
      reason: null,
      revokedReason: null,
});

@Module({ controllers: [FakePolicyController] })
class FakeDownstreamModule {}

async function startGateway(module: Type<unknown>): Promise<{ app: INestApplication; url: string; port: number }> {
  const { configureGateway } = await import('../src/http-setup');
  return startTestApp('appliance-gateway', module, configureGateway);
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

async function send(base: string, method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await fetch(`${base}${path}`, { method, headers: options.headers, body: options.body });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = {};
  }
  return { status: res.status, headers: res.headers, text, body };
}

/** A request written byte for byte, for what fetch refuses to send; answers the raw HTTP response. */
function rawRequest(port: number, head: string): Promise<{ status: number; contentType: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1', () => socket.end(head));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    // the gateway may answer before it has read the whole head; what it answered is what counts
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
    socket.on('close', () => {
      const [headText = '', body = ''] = data.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headText)?.[1]);
      const contentType = /^content-type: *(.+)$/im.exec(headText)?.[1]?.trim();
      resolve({ status, contentType, body });
    });
  });
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('the gateway edge: sign-in limits, input rules, lease owners (real HTTP, Redis, NATS, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let fakes: INestMicroservice;
  let first: { app: INestApplication; url: string; port: number };
  let second: { app: INestApplication; url: string; port: number };
  let adminToken: string;
  const secrets = new Map<string, string>();
  const failures: FailedSignIn[] = [];

  /** A sign-in as the client at `address` (told by the trusted loopback proxy). */
  const signIn = (base: string, id: string, secret: string, address: string) =>
    send(base, 'POST', '/oauth2/token', {
      headers: { authorization: basic(id, secret), 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
      body: 'grant_type=client_credentials',
    });

  const expectProblem = (res: Answer | { status: number; contentType?: string | undefined; body: string }, status: number, code: string) => {
    const body = 'text' in res ? res.body : (JSON.parse(res.body) as Record<string, unknown>);
    const contentType = 'text' in res ? res.headers.get('content-type') : res.contentType;
    expect({ status: res.status, code: body['code'] }).toEqual({ status, code });
    expect(contentType).toMatch(/^application\/problem\+json/);
    ProblemDetails.parse(body);
    return body;
  };
  const fieldsOf = (res: Answer) => (res.body['errors'] as Array<{ field: string }> | undefined)?.map((e) => e.field);

  async function createAccount(clientId: string, permissions: string[]): Promise<void> {
    const created = await send(first.url, 'POST', '/api/v1/admin/api-accounts', {
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId, permissions }),
    });
    expect(created.status).toBe(201);
    secrets.set(clientId, created.body['clientSecret'] as string);
  }

  async function tokenOf(clientId: string, address: string): Promise<string> {
    const res = await signIn(first.url, clientId, secrets.get(clientId) as string, address);
    expect(res.status).toBe(200);
    return res.body['access_token'] as string;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    const ref = await Test.createTestingModule({ imports: [FakeDownstreamModule] }).compile();
    fakes = ref.createNestMicroservice(natsServerOptions('fake-downstream'));
    await fakes.listen();
    await fakes.unwrap<NatsConnection>().flush();
    first = await startGateway(AppModule);
    second = await startGateway(AppModule);
    const { SignInEvents } = await import('../src/oauth/sign-in-events');
    for (const gateway of [first, second]) gateway.app.get(SignInEvents).onFailure((failure) => void failures.push(failure));
    const admin = await signIn(first.url, ADMIN.id, ADMIN.secret, '198.51.100.1');
    expect(admin.status).toBe(200);
    adminToken = admin.body['access_token'] as string;
    // one bystander per test, so no test's sign-ins count against another's per-client limit
    for (const id of ['rate-client', 'victim', 'bystander-1', 'bystander-2', 'bystander-3', 'bystander-4', 'appliance-a', 'appliance-b']) {
      await createAccount(id, ['credentials']);
    }
  });

  afterAll(async () => {
    await first?.app.close();
    await second?.app.close();
    await fakes?.close();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  beforeEach(() => {
    calls.length = 0;
    failures.length = 0;
  });

  describe('sign-in limits', () => {
    it('answers 429 with Retry-After past the per-client limit, counted across both instances; another client is not slowed', async () => {
      const secret = secrets.get('rate-client') as string;
      // 5 a minute: three through one instance, two through the other, each from an address of its own
      for (const [i, base] of [first.url, first.url, first.url, second.url, second.url].entries()) {
        expect((await signIn(base, 'rate-client', secret, `203.0.113.${10 + i}`)).status).toBe(200);
      }
      for (const base of [second.url, first.url]) {
        const refused = await signIn(base, 'rate-client', secret, '203.0.113.20');
        const body = expectProblem(refused, 429, 'RATE_LIMITED');
        expect(body['error']).toBe('invalid_request');
        expect(body['detail']).toBe('too many sign-ins for this client id');
        const retryAfter = Number(refused.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(60);
        expect(refused.text).not.toContain(secret);
      }
      expect((await signIn(second.url, 'bystander-1', secrets.get('bystander-1') as string, '203.0.113.20')).status).toBe(200);
      expect(failures.map((f) => [f.clientId, f.reason])).toEqual([
        ['rate-client', 'rate-limited'],
        ['rate-client', 'rate-limited'],
      ]);
    });

    it('answers 429 past the per-address limit, for that address only', async () => {
      // twelve a minute from one address: requests without credentials count as well
      const noCredentials = () =>
        send(first.url, 'POST', '/oauth2/token', {
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.30' },
          body: 'grant_type=client_credentials',
        });
      const answers = await Promise.all(Array.from({ length: 12 }, noCredentials));
      expect(answers.map((a) => a.status)).toEqual(Array(12).fill(401));
      const refused = await signIn(second.url, 'bystander-2', secrets.get('bystander-2') as string, '203.0.113.30');
      expect(expectProblem(refused, 429, 'RATE_LIMITED')['detail']).toBe('too many sign-ins from this address');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await signIn(second.url, 'bystander-2', secrets.get('bystander-2') as string, '203.0.113.31')).status).toBe(200);
    });

    it('locks a client id after repeated wrong secrets, its right secret refused too, on every instance; others sign in', async () => {
      for (let i = 0; i < 3; i++) {
        const wrong = await signIn(i % 2 === 0 ? first.url : second.url, 'victim', `wrong-secret-${i}`, '203.0.113.40');
        expectProblem(wrong, 401, 'UNAUTHENTICATED');
      }
      for (const base of [first.url, second.url]) {
        const locked = await signIn(base, 'victim', secrets.get('victim') as string, '203.0.113.41');
        const body = expectProblem(locked, 429, 'RATE_LIMITED');
        expect(body['detail']).toMatch(/locked/);
        const retryAfter = Number(locked.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(60);
        expect(retryAfter).toBeLessThanOrEqual(120);
      }
      // from the attacker's address too, another client is not slowed
      expect((await signIn(first.url, 'appliance-a', secrets.get('appliance-a') as string, '203.0.113.40')).status).toBe(200);
      expect(failures.map((f) => [f.clientId, f.address, f.reason])).toEqual([
        ['victim', '203.0.113.40', 'invalid-credentials'],
        ['victim', '203.0.113.40', 'invalid-credentials'],
        ['victim', '203.0.113.40', 'invalid-credentials'],
        ['victim', '203.0.113.41', 'locked'],
        ['victim', '203.0.113.41', 'locked'],
      ]);
      expect(JSON.stringify(failures)).not.toMatch(/wrong-secret|secret/);
    });

    it('locks an unknown client id exactly as a known one, so the answers tell nothing of which exist', async () => {
      const answers: number[] = [];
      for (let i = 0; i < 4; i++) answers.push((await signIn(first.url, 'no-such-client', `guess-${i}`, '203.0.113.50')).status);
      expect(answers).toEqual([401, 401, 401, 429]);
    });

    it('locks an address after failures across many client ids; another address is not slowed', async () => {
      for (let i = 0; i < 5; i++) expect((await signIn(second.url, `spray-${i}`, 'guess', '203.0.113.60')).status).toBe(401);
      const refused = await signIn(first.url, 'bystander-3', secrets.get('bystander-3') as string, '203.0.113.60');
      expect(expectProblem(refused, 429, 'RATE_LIMITED')['detail']).toBe('too many failed sign-ins from this address');
      expect((await signIn(first.url, 'bystander-3', secrets.get('bystander-3') as string, '203.0.113.61')).status).toBe(200);
    });

    it('ignores X-Forwarded-For unless GATEWAY_TRUSTED_PROXIES names the proxy', async () => {
      delete process.env['GATEWAY_TRUSTED_PROXIES'];
      const { AppModule } = await import('../src/app.module');
      const untrusting = await startGateway(AppModule);
      try {
        const { SignInEvents } = await import('../src/oauth/sign-in-events');
        untrusting.app.get(SignInEvents).onFailure((failure) => void failures.push(failure));
        // the address locked above, claimed by the client itself: not believed, so not refused
        expect((await signIn(untrusting.url, 'bystander-4', secrets.get('bystander-4') as string, '203.0.113.60')).status).toBe(200);
        expect((await signIn(untrusting.url, 'bystander-4', 'wrong', '203.0.113.60')).status).toBe(401);
        expect(failures.map((f) => f.address)).toEqual([expect.stringMatching(/^(::ffff:)?127\.0\.0\.1$/)]);
      } finally {
        process.env['GATEWAY_TRUSTED_PROXIES'] = 'loopback';
        await untrusting.app.close();
      }
    });
  });

  describe('inputs', () => {
    const auth = () => ({ authorization: `Bearer ${adminToken}` });
    const json = (value: unknown) => ({ headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify(value) });

    it('answers a control character in a path parameter with 400 naming it, where Postgres would have failed', async () => {
      const account = await send(first.url, 'DELETE', '/api/v1/admin/api-accounts/edge%00admin', { headers: auth() });
      expectProblem(account, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(account)).toEqual(['clientId']);
      const group = await send(first.url, 'POST', '/api/v1/admin/groups/req%01uesters/members', json({ user: 'alice' }));
      expect(fieldsOf(group)).toEqual(['group']);
      expect(calls).toEqual([]);
    });

    it('answers a raw control character in the request line or a header with 400 problem+json', async () => {
      const inPath = await rawRequest(first.port, 'GET /api/v1/leases/a\u0000b HTTP/1.1\r\nHost: gateway\r\n\r\n');
      expect(JSON.parse(inPath.body)['errors']).toEqual([{ field: '(path)', message: expect.any(String) }]);
      expectProblem(inPath, 400, 'VALIDATION_FAILED');
      const inQuery = await rawRequest(first.port, 'GET /api/v1/credentials?user=a\u0001b HTTP/1.1\r\nHost: gateway\r\n\r\n');
      expect(JSON.parse(inQuery.body)['errors'][0]['field']).toBe('(query)');
      const inHeader = await rawRequest(first.port, 'GET /health/live HTTP/1.1\r\nHost: gateway\r\nX-Trace: a\u0001b\r\n\r\n');
      expectProblem(inHeader, 400, 'VALIDATION_FAILED');
      expect(JSON.parse(inHeader.body)['errors'][0]['field']).toBe('(headers)');
    });

    it('answers a control character in a query field with 400 naming it, and asks nobody', async () => {
      const token = await tokenOf('appliance-b', '198.51.100.2');
      const refused = await send(first.url, 'GET', '/api/v1/credentials?user=al%00ice&endpoint=srv-app01', { headers: { authorization: `Bearer ${token}` } });
      expectProblem(refused, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(refused)).toEqual(['user']);
      const cache = await send(first.url, 'DELETE', '/api/v1/admin/token-cache?user=a%00b', { headers: auth() });
      expectProblem(cache, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(cache)).toEqual(['user']);
      expect(calls).toEqual([]);
    });

    it('answers a control character in a body field, at any depth, with 400 naming it; line breaks pass in a body value', async () => {
      const token = await tokenOf('appliance-b', '198.51.100.2');
      const injection = await send(first.url, 'POST', '/api/v1/injections', {
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ credentialId: randomUUID(), user: 'alice', endpoint: 'srv-app01', sessionId: 'pra\u0000-1' }),
      });
      expectProblem(injection, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(injection)).toEqual(['sessionId']);
      const vault = await send(
        first.url,
        'PUT',
        '/api/v1/admin/vaults/ps',
        json({
          type: 'password-safe',
          settings: { baseUrl: 'https://ps.example.test/', auth: { mode: 'api-key', apiKey: 'key\u0000' }, caBundle: 'line one\nline two', releaseDurationMinutes: 60, rotateAfterRelease: true },
        }),
      );
      expectProblem(vault, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(vault)).toEqual(['settings.auth.apiKey']);
      expect(calls).toEqual([]);
    });

    it('answers a control character in client_id, from the form or HTTP Basic, with 400 naming client_id', async () => {
      const form = await send(first.url, 'POST', '/oauth2/token', {
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.3' },
        body: 'grant_type=client_credentials&client_id=edge%00admin&client_secret=x',
      });
      expect(expectProblem(form, 400, 'VALIDATION_FAILED')['error']).toBe('invalid_request');
      expect(fieldsOf(form)).toEqual(['client_id']);
      const viaBasic = await signIn(first.url, 'edge\u0000admin', ADMIN.secret, '198.51.100.3');
      expectProblem(viaBasic, 400, 'VALIDATION_FAILED');
      expect(fieldsOf(viaBasic)).toEqual(['client_id']);
      expect(viaBasic.text).not.toContain(ADMIN.secret);
    });

    it('refuses a user name that NFKC normalisation changes (the Kelvin sign for K) with 400 naming user, asking nobody', async () => {
      const token = await tokenOf('appliance-b', '198.51.100.2');
      const listed = await send(first.url, 'GET', `/api/v1/credentials?user=${encodeURIComponent(KELVIN_KATE)}&endpoint=srv-app01`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expectProblem(listed, 400, 'VALIDATION_FAILED');
      expect(listed.body['errors']).toEqual([{ field: 'user', message: expect.stringMatching(/NFKC/) }]);
      const member = await send(first.url, 'POST', `/api/v1/admin/groups/requesters/members`, json({ user: KELVIN_KATE }));
      expect(fieldsOf(member)).toEqual(['user']);
      expect(calls).toEqual([]);
      // the same name spelt with K is asked for as usual
      const plain = await send(first.url, 'GET', '/api/v1/credentials?user=Kate&endpoint=srv-app01', { headers: { authorization: `Bearer ${token}` } });
      expectProblem(plain, 403, 'ACCESS_DENIED');
      expect(calls.map((c) => c.subject)).toEqual(['policy.credentials.list.v1']);
    });

    it('answers a request head over the limit with 431 problem+json', async () => {
      const answer = await rawRequest(first.port, `GET /health/live HTTP/1.1\r\nHost: gateway\r\nX-Padding: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
      const body = expectProblem(answer, 431, 'REQUEST_HEADERS_TOO_LARGE');
      expect(body['errors']).toEqual([{ field: '(headers)', message: expect.stringMatching(/larger than \d+ kb/) }]);
      expect(answer.body).not.toContain('aaaa');
    });
  });

  describe('lease owners', () => {
    it('passes the opening account with the injection', async () => {
      const token = await tokenOf('appliance-a', '198.51.100.4');
      const injection = { credentialId: randomUUID(), user: 'alice', endpoint: 'srv-app01', sessionId: 'pra-1' };
      const res = await send(first.url, 'POST', '/api/v1/injections', {
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(injection),
      });
      expectProblem(res, 403, 'CREDENTIAL_NOT_OFFERED');
      expect(calls).toEqual([{ subject: 'policy.lease.open.v1', request: expect.objectContaining({ ...injection, owner: 'appliance-a' }) }]);
    });

    it("answers 404 to another account's read and release; the owner and an admin see it", async () => {
      const other = await tokenOf('appliance-b', '198.51.100.4');
      const owner = await tokenOf('appliance-a', '198.51.100.4');
      const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
      expectProblem(await send(first.url, 'GET', `/api/v1/leases/${LEASE_ID}`, bearer(other)), 404, 'LEASE_NOT_FOUND');
      expectProblem(await send(second.url, 'POST', `/api/v1/leases/${LEASE_ID}/release`, bearer(other)), 404, 'LEASE_NOT_FOUND');
      expect((await send(first.url, 'GET', `/api/v1/leases/${LEASE_ID}`, bearer(owner))).status).toBe(200);
      expect((await send(first.url, 'POST', `/api/v1/leases/${LEASE_ID}/release`, bearer(owner))).status).toBe(200);

      await createAccount('operator', ['credentials', 'admin']);
      const operator = await tokenOf('operator', '198.51.100.4');
      expect((await send(first.url, 'GET', `/api/v1/leases/${LEASE_ID}`, bearer(operator))).status).toBe(200);
      expect(calls.map((c) => (c.request as { owner: string | null }).owner)).toEqual(['appliance-b', 'appliance-b', 'appliance-a', 'appliance-a', null]);
    });
  });
});
