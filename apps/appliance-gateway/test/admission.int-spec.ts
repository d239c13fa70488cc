import { Controller, Module, type INestApplication, type INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ProblemDetails, type ParsedRequestOf, type ReplyOf } from '@openecm/contracts';
import { Handles, natsServerOptions } from '@openecm/messaging';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, startTestApp, waitFor } from '@openecm/testing';
import type { NatsConnection } from 'nats';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['OPENECM_BOOTSTRAP_CLIENT_ID'] = 'admission-admin';
process.env['OPENECM_BOOTSTRAP_CLIENT_SECRET'] = 'admission-admin-secret-0123456789';
process.env['GATEWAY_MAX_IN_FLIGHT'] = '2';

/** Lists the fake policy-approval holds until the test lets them go. */
const held: Array<() => void> = [];
let listed = 0;

@Controller()
class SlowPolicyController {
  @Handles('policy.credentials.list.v1')
  async list(_req: ParsedRequestOf<'policy.credentials.list.v1'>): Promise<ReplyOf<'policy.credentials.list.v1'>> {
    listed += 1;
    await new Promise<void>((resolve) => held.push(resolve));
    return { credentials: [], pending: [] };
  }
}

@Module({ controllers: [SlowPolicyController] })
class SlowDownstreamModule {}

const letGo = () => held.splice(0).forEach((resolve) => resolve());

describe('admission of the appliance calls at the gateway (real HTTP, NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let fakes: INestMicroservice;
  let gateway: { app: INestApplication; url: string };
  let token: string;

  const list = (init: RequestInit = {}) =>
    fetch(`${gateway.url}/api/v1/credentials?user=alice&endpoint=srv-app01`, { ...init, headers: { authorization: `Bearer ${token}` } });
  const inFlight = async () => {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    return Number(/^openecm_gateway_appliance_calls_in_flight (\d+)$/m.exec(text)?.[1]);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    const { configureGateway } = await import('../src/http-setup');
    const ref = await Test.createTestingModule({ imports: [SlowDownstreamModule] }).compile();
    fakes = ref.createNestMicroservice(natsServerOptions('fake-downstream'));
    await fakes.listen();
    await fakes.unwrap<NatsConnection>().flush();
    gateway = await startTestApp('appliance-gateway', AppModule, configureGateway);
    const signIn = await fetch(`${gateway.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('admission-admin:admission-admin-secret-0123456789').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    token = ((await signIn.json()) as { access_token: string }).access_token;
  }, 60_000);

  afterAll(async () => {
    letGo();
    await gateway?.app.close();
    await fakes?.close();
    await clearNamespaceKeys(process.env['OPENECM_NAMESPACE'] as string);
    await deleteNamespaceStreams(process.env['OPENECM_NAMESPACE'] as string);
    await db?.drop();
  });

  it('refuses a call beyond the limit at once with 503 GATEWAY_BUSY and Retry-After, while the admitted ones and the operators go on', async () => {
    const admitted = [list(), list()];
    await waitFor(() => held.length === 2, { what: 'two lists held by policy-approval' });

    const refused = await list();
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = ProblemDetails.parse(await refused.json());
    expect(problem).toMatchObject({ code: 'GATEWAY_BUSY', status: 503 });
    // refused before it reached policy-approval
    expect(listed).toBe(2);
    const injection = await fetch(`${gateway.url}/api/v1/injections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ credentialId: '00000000-0000-4000-8000-000000000000', user: 'alice', endpoint: 'srv-app01', sessionId: 's-1' }),
    });
    expect(injection.status).toBe(503);
    expect(((await injection.json()) as { code: string }).code).toBe('GATEWAY_BUSY');

    // an operator's call and the probes are never refused for it
    const accounts = await fetch(`${gateway.url}/api/v1/admin/api-accounts`, { headers: { authorization: `Bearer ${token}` } });
    expect(accounts.status).toBe(200);
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    expect(await inFlight()).toBe(2);

    letGo();
    expect((await Promise.all(admitted)).map((r) => r.status)).toEqual([200, 200]);
    await waitFor(async () => (await inFlight()) === 0, { what: 'no call in flight' });
    const next = list();
    await waitFor(() => held.length === 1, { what: 'the next list admitted' });
    letGo();
    expect((await next).status).toBe(200);
  });

  it('stops counting a call whose caller hung up before its answer', async () => {
    const abort = new AbortController();
    const abandoned = list({ signal: abort.signal }).catch((error: Error) => error.name);
    const kept = list();
    await waitFor(() => held.length === 2, { what: 'two lists held' });
    abort.abort();
    expect(await abandoned).toBe('AbortError');
    await waitFor(async () => (await inFlight()) === 1, { what: 'the abandoned call no longer counted' });
    const another = list();
    await waitFor(() => held.length === 3, { what: 'a list admitted in the freed place' });
    letGo();
    expect((await kept).status).toBe(200);
    expect((await another).status).toBe(200);
  });
});
