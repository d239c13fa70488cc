import type { DiagnosticsReport } from '@openecm/contracts';
import { EXIT, run, type Io } from './program';

type Route = (init: RequestInit, url: URL) => { status: number; body?: unknown; text?: string };

/** A gateway in memory: routes by method and path, records every call the CLI makes. */
function fakeGateway(routes: Record<string, Route>) {
  const calls: Array<{ method: string; path: string; query: string; body?: unknown; authorization?: string }> = [];
  const fetchFn = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const method = init.method ?? 'GET';
    const headers = (init.headers ?? {}) as Record<string, string>;
    calls.push({ method, path: url.pathname, query: url.search, ...(init.body ? { body: init.body } : {}), ...(headers['authorization'] ? { authorization: headers['authorization'] } : {}) });
    const route = routes[`${method} ${url.pathname}`];
    if (route === undefined && `${method} ${url.pathname}` === 'POST /oauth2/token') {
      return new Response(JSON.stringify({ access_token: 'tok-123', token_type: 'Bearer', expires_in: 3600 }), { status: 200 });
    }
    const answer = route ? route(init, url) : { status: 404, body: { detail: 'no such route', code: 'NOT_FOUND' } };
    return new Response(answer.text ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)), { status: answer.status });
  }) as typeof fetch;
  return { calls, transport: { fetch: fetchFn } };
}

const SECRET = 'cli-secret-never-printed';

async function cli(args: string[], routes: Record<string, Route> = {}) {
  const gateway = fakeGateway(routes);
  let out = '';
  let err = '';
  const io: Io = {
    out: (t) => (out += t),
    err: (t) => (err += t),
    env: { OPENECM_URL: 'http://gw.test:8080', OPENECM_CLIENT_ID: 'ops', OPENECM_CLIENT_SECRET: SECRET, XDG_CONFIG_HOME: '/nonexistent' },
    transport: gateway.transport,
  };
  const code = await run(args, io);
  expect(out + err).not.toContain(SECRET);
  return { code, out, err, calls: gateway.calls };
}

const report = (status: DiagnosticsReport['status'], checks: DiagnosticsReport['checks']): DiagnosticsReport => ({ status, generatedAt: '2030-01-01T00:00:00Z', checks });

describe('openecm', () => {
  it('audit verify: exit 0 when the chain holds, 1 naming the first broken record', async () => {
    const holds = await cli(['audit', 'verify'], { 'POST /api/v1/admin/audit/verify': () => ({ status: 200, body: { ok: true, checked: 12, unchained: 1 } }) });
    expect(holds.code).toBe(EXIT.ok);
    expect(holds.out).toBe('the chain holds: 12 records checked, 1 not linked yet\n');
    const broken = await cli(['audit', 'verify'], {
      'POST /api/v1/admin/audit/verify': () => ({
        status: 200,
        body: { ok: false, checked: 4, unchained: 0, firstProblem: { problem: 'removed', seq: '7', position: '6', detail: '1 record(s) missing from the chain before position 6' } },
      }),
    });
    expect(broken.code).toBe(EXIT.failed);
    expect(broken.out).toBe('the chain does not hold after 4 records: removed at record 7 (position 6): 1 record(s) missing from the chain before position 6\n');
  });

  it('audit export: the JSON lines as the gateway streams them, for the range asked', async () => {
    const lines = '{"seq":"1"}\n{"seq":"2"}\n';
    const exported = await cli(['audit', 'export', '--from', '2030-01-01T00:00:00Z'], { 'GET /api/v1/admin/audit/export': () => ({ status: 200, text: lines }) });
    expect(exported.code).toBe(EXIT.ok);
    expect(exported.out).toBe(lines);
    expect(exported.calls.find((c) => c.path === '/api/v1/admin/audit/export')?.query).toBe('?from=2030-01-01T00%3A00%3A00Z');
    const refused = await cli(['audit', 'export'], { 'GET /api/v1/admin/audit/export': () => ({ status: 403, body: { detail: 'the API account lacks the "admin" permission', code: 'PERMISSION_MISSING' } }) });
    expect(refused.code).toBe(EXIT.failed);
    expect(refused.err).toContain('PERMISSION_MISSING');
  });

  it('doctor: gateway, sign-in, then the walk with the user and endpoint; exit 0 only when all is well', async () => {
    const routes: Record<string, Route> = {
      'GET /health/ready': () => ({ status: 200, body: { status: 'up', checks: {} } }),
      'GET /api/v1/admin/diagnostics': () => ({ status: 200, body: report('ok', [{ id: 'nats', title: 'NATS and JetStream', status: 'ok', detail: 'connected' }]) }),
    };
    const green = await cli(['doctor', '--user', 'CORP\\alice', '--endpoint', 'srv-app01'], routes);
    expect(green.code).toBe(EXIT.ok);
    expect(green.out).toContain('ok    Gateway');
    expect(green.out).toContain('ok    Sign-in             signed in as ops');
    expect(green.out).toMatch(/all is well\n$/);
    expect(green.calls.find((c) => c.path === '/api/v1/admin/diagnostics')?.query).toBe('?user=CORP%5Calice&endpoint=srv-app01');

    routes['GET /api/v1/admin/diagnostics'] = () => ({
      status: 200,
      body: report('fail', [{ id: 'vault:ps', title: 'Vault ps: Test Settings', status: 'fail', detail: 'tls failed', step: 'tls', remedy: 'add the CA bundle' }]),
    });
    const red = await cli(['doctor', '--json'], routes);
    expect(red.code).toBe(EXIT.failed);
    const parsed = JSON.parse(red.out) as DiagnosticsReport & { gateway: string };
    expect(parsed).toMatchObject({ status: 'fail', gateway: 'http://gw.test:8080' });
    expect(parsed.checks.map((c) => [c.id, c.status, c.step])).toEqual([
      ['gateway', 'ok', undefined],
      ['sign-in', 'ok', undefined],
      ['vault:ps', 'fail', 'tls'],
    ]);
  });

  it('doctor names the sign-in step when the account is refused, and the missing permission', async () => {
    const refused = await cli(['doctor'], {
      'GET /health/ready': () => ({ status: 200, body: { status: 'up', checks: {} } }),
      'POST /oauth2/token': () => ({ status: 401, body: { detail: 'the client credentials are not valid', code: 'UNAUTHENTICATED' } }),
    });
    expect(refused.code).toBe(EXIT.failed);
    expect(refused.out).toMatch(/FAIL {2}Sign-in\s+the client credentials are not valid/);
    expect(refused.calls.some((c) => c.path === '/api/v1/admin/diagnostics')).toBe(false);
    const forbidden = await cli(['doctor'], {
      'GET /health/ready': () => ({ status: 200, body: { status: 'up', checks: {} } }),
      'GET /api/v1/admin/diagnostics': () => ({ status: 403, body: { detail: 'the API account lacks the "admin" permission', code: 'PERMISSION_MISSING' } }),
    });
    expect(forbidden.out).toMatch(/FAIL {2}Diagnostics\s+the API account lacks the "admin" permission/);
    expect(forbidden.out).toContain('give ops the admin permission');
  });

  it('doctor refuses --user without --endpoint as a usage error', async () => {
    const { code, err, calls } = await cli(['doctor', '--user', 'alice']);
    expect(code).toBe(EXIT.usage);
    expect(err).toContain('give --user and --endpoint together');
    expect(calls).toEqual([]);
  });

  it('log-level sends the level, the service and the time in seconds, and lists who applied it', async () => {
    const { code, out, calls } = await cli(['log-level', 'debug', '--service', 'vault-adapters', '--for', '10m'], {
      'PUT /api/v1/admin/log-level': (init) => {
        const body = JSON.parse(String(init.body)) as { level: string; service: string; revertAfterSeconds: number };
        return {
          status: 200,
          body: {
            level: body.level,
            service: body.service,
            revertAfterSeconds: body.revertAfterSeconds,
            applied: [
              { service: 'vault-adapters', instance: 'a/1', level: 'debug', revertsAt: '2030-01-01T00:10:00.000Z' },
              { service: 'vault-adapters', instance: 'b/2', level: 'debug', revertsAt: '2030-01-01T00:10:00.000Z' },
            ],
          },
        };
      },
    });
    expect(code).toBe(EXIT.ok);
    expect(JSON.parse(String(calls.find((c) => c.method === 'PUT')?.body))).toEqual({ level: 'debug', service: 'vault-adapters', revertAfterSeconds: 600 });
    expect(out).toContain('SERVICE         INSTANCE  LEVEL  REVERTS AT\nvault-adapters  a/1       debug  2030-01-01T00:10:00.000Z\n');
    expect(out).toContain('debug on 2 instances of vault-adapters for 10m, then each returns to its LOG_LEVEL');
  });

  it.each([
    [['log-level', 'loud']],
    [['log-level', 'debug', '--for', '2days']],
    [['log-level', 'debug', '--for', '25h']],
    [['log-level', 'debug', '--service', 'console']],
    [['lease', 'list', '--limit', '0']],
    [['lease', 'list', '--state', 'open']],
    [['api-account', 'create', 'x']],
    [['vault', 'test', 'ps', '--user', 'alice']],
    [['no-such-command']],
    [['vault']],
  ])('refuses %j before calling the gateway, with exit code 2', async (args) => {
    const { code, err, calls } = await cli(args);
    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(/error|Usage/);
    expect(calls).toEqual([]);
  });

  it('prints the problem detail and the fields the gateway names, exit 1', async () => {
    const { code, err } = await cli(['lease', 'show', 'nope'], {
      'GET /api/v1/leases/nope': () => ({ status: 400, body: { detail: 'invalid path: leaseId (Invalid UUID)', code: 'VALIDATION_FAILED', errors: [{ field: 'leaseId', message: 'Invalid UUID' }] } }),
    });
    expect(code).toBe(EXIT.failed);
    expect(err).toBe('error: invalid path: leaseId (Invalid UUID) (VALIDATION_FAILED, HTTP 400)\n  leaseId: Invalid UUID\n');
  });

  it('says in one line that the gateway cannot be reached', async () => {
    const io: Io = { out: () => undefined, err: (t) => (err += t), env: { OPENECM_URL: 'http://gw.test:8080', XDG_CONFIG_HOME: '/nonexistent' }, transport: { fetch: (async () => Promise.reject(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }))) as typeof fetch } };
    let err = '';
    expect(await run(['vault', 'list'], io)).toBe(EXIT.failed);
    expect(err).toBe('error: no API account configured: set OPENECM_CLIENT_ID and OPENECM_CLIENT_SECRET, or write clientId and clientSecret in the config file\n');
    io.env = { ...io.env, OPENECM_CLIENT_ID: 'ops', OPENECM_CLIENT_SECRET: SECRET };
    err = '';
    expect(await run(['vault', 'list'], io)).toBe(EXIT.failed);
    expect(err).toBe('error: cannot reach the gateway at http://gw.test:8080 (ECONNREFUSED)\n');
  });

  it('pages through every lease with --all and tells how to get the next page otherwise', async () => {
    const lease = (n: number) => ({ leaseId: `00000000-0000-4000-8000-00000000000${n}`, state: 'active', user: 'alice', endpoint: 'srv', vault: 'ps', credentialName: 'srv\\Administrator', openedAt: 'now', rotation: 'pending' });
    const routes: Record<string, Route> = {
      'GET /api/v1/leases': (_init, url) =>
        url.searchParams.get('cursor') === 'c2'
          ? { status: 200, body: { leases: [lease(2)], nextCursor: null } }
          : { status: 200, body: { leases: [lease(1)], nextCursor: 'c2' } },
    };
    const one = await cli(['lease', 'list', '--limit', '1', '--state', 'active', '--user', 'alice'], routes);
    expect(one.calls.filter((c) => c.path === '/api/v1/leases').map((c) => c.query)).toEqual(['?limit=1&state=active&user=alice']);
    expect(one.out).toContain('more: openecm lease list --cursor c2');
    const all = await cli(['lease', 'list', '--all', '--json'], routes);
    expect((JSON.parse(all.out) as { leases: unknown[]; nextCursor: null }).leases).toHaveLength(2);
  });

  it('vault test exits 0 on a list, 1 on the failing step with what to do', async () => {
    const routes: Record<string, Route> = {
      'POST /api/v1/admin/vaults/ps/test': () => ({ status: 200, body: { result: 'failed', step: 'authentication', code: 'VAULT_AUTH_FAILED', message: 'the API key was refused' } }),
      'POST /api/v1/admin/vaults/ss/test': () => ({ status: 200, body: { result: 'ok', credentials: [{ name: 'srv Administrator', username: 'Administrator', domain: null, scope: 'machine' }] } }),
    };
    const failed = await cli(['vault', 'test', 'ps', '--user', 'alice', '--endpoint', 'srv'], routes);
    expect(failed.code).toBe(EXIT.failed);
    expect(failed.out).toMatch(/^failed at step authentication: VAULT_AUTH_FAILED: the API key was refused\n→ the vault refused the API account/);
    const ok = await cli(['vault', 'test', 'ss', '--user', 'alice', '--endpoint', 'srv'], routes);
    expect(ok.code).toBe(EXIT.ok);
    expect(ok.out).toContain('ok: 1 credential for alice on srv\nNAME               USERNAME       DOMAIN  SCOPE\nsrv Administrator  Administrator  -       machine\n');
  });

  it('clears the cache by vault and user, and creates an account with each permission given', async () => {
    const cleared = await cli(['cache', 'clear', '--vault', 'ps', '--user', 'CORP\\bob'], { 'DELETE /api/v1/admin/token-cache': () => ({ status: 200, body: { deleted: 3 } }) });
    expect(cleared.calls.at(-1)?.query).toBe('?vault=ps&user=CORP%5Cbob');
    expect(cleared.out).toBe('cleared 3 vault sessions\n');
    const created = await cli(['api-account', 'create', 'appliance-2', '--permission', 'credentials', '--permission', 'reporting'], {
      'POST /api/v1/admin/api-accounts': (init) => ({ status: 201, body: { ...(JSON.parse(String(init.body)) as object), createdAt: 'now', clientSecret: 'generated-once' } }),
    });
    expect(JSON.parse(String(created.calls.at(-1)?.body))).toEqual({ clientId: 'appliance-2', permissions: ['credentials', 'reporting'] });
    expect(created.out).toContain('client secret (shown this once, keep it safe): generated-once');
  });
});
