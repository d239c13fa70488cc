import { Module, type INestApplication } from '@nestjs/common';
import { MessagingModule } from '@openecm/messaging';
import { OpsModule, OpsResponder } from '@openecm/service-kit';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, startTestApp } from '@openecm/testing';
import pino from 'pino';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['OPENECM_BOOTSTRAP_CLIENT_ID'] = 'ops-admin';
process.env['OPENECM_BOOTSTRAP_CLIENT_SECRET'] = 'ops-admin-secret-0123456789';

@Module({ imports: [MessagingModule, OpsModule] })
class InstanceModule {}

/** The gateway's ops routes over HTTP: what they validate and how they answer, with instances on real NATS. */
describe('the gateway ops routes (real HTTP, NATS, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let gateway: INestApplication;
  let instance: INestApplication;
  let base: string;
  let token: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const { AppModule } = await import('../src/app.module');
    ({ app: gateway, url: base } = await startTestApp('appliance-gateway', AppModule));
    await gateway.get(OpsResponder).start({ service: 'appliance-gateway', logger: pino({ level: 'silent' }), instance: 'gw/1' });
    ({ app: instance } = await startTestApp('token-cache', InstanceModule));
    await instance.get(OpsResponder).start({ service: 'token-cache', logger: pino({ level: 'silent' }), instance: 'tc/1' });
    const res = await fetch(`${base}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('ops-admin:ops-admin-secret-0123456789').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    token = ((await res.json()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    await instance?.close();
    await gateway?.close();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    await db?.drop();
  });

  const call = async (method: string, path: string, body?: unknown, bearer: string | null = token) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Record<string, unknown> & { errors?: Array<{ field: string }> } };
  };

  it('switches the level of every instance that answers and names them', async () => {
    const res = await call('PUT', '/api/v1/admin/log-level', { level: 'debug', revertAfterSeconds: 60 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ level: 'debug', service: null, revertAfterSeconds: 60 });
    expect((res.body['applied'] as Array<{ instance: string }>).map((a) => a.instance)).toEqual(['gw/1', 'tc/1']);
    // back at the level it was started with: nothing to revert
    const one = await call('PUT', '/api/v1/admin/log-level', { level: 'silent', service: 'token-cache' });
    expect(one.body).toMatchObject({ service: 'token-cache', revertAfterSeconds: 900, applied: [{ instance: 'tc/1', level: 'silent', revertsAt: null }] });
  });

  it.each([
    [{ level: 'loud' }, 'level'],
    [{ level: 'debug', revertAfterSeconds: 0 }, 'revertAfterSeconds'],
    [{ level: 'debug', service: 'console' }, 'service'],
    [{ level: 'debug', for: '10m' }, 'for'],
  ])('refuses %j as problem+json naming %s', async (body, field) => {
    const res = await call('PUT', '/api/v1/admin/log-level', body);
    expect(res.status).toBe(400);
    expect(res.type).toContain('application/problem+json');
    expect(res.body['code']).toBe('VALIDATION_FAILED');
    expect(res.body.errors?.map((e) => e.field)).toEqual([field]);
  });

  it('says so when no instance of the named service answers', async () => {
    const res = await call('PUT', '/api/v1/admin/log-level', { level: 'debug', service: 'session-reporting' });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: 'no instance of session-reporting answered' });
  });

  it('lists the instances, and refuses a diagnostics query with a user but no endpoint and a lease page of 0', async () => {
    const listed = await call('GET', '/api/v1/admin/instances');
    expect((listed.body['instances'] as Array<{ service: string }>).map((i) => i.service)).toEqual(['appliance-gateway', 'token-cache']);
    const half = await call('GET', '/api/v1/admin/diagnostics?user=alice');
    expect(half.status).toBe(400);
    expect(half.body.errors?.map((e) => e.field)).toEqual(['endpoint']);
    const page = await call('GET', '/api/v1/leases?limit=0');
    expect(page.status).toBe(400);
    expect(page.body.errors?.map((e) => e.field)).toEqual(['limit']);
  });

  it('asks for a token and the admin permission', async () => {
    expect((await call('PUT', '/api/v1/admin/log-level', { level: 'debug' }, null)).status).toBe(401);
    const created = await call('POST', '/api/v1/admin/api-accounts', { clientId: 'ops-appliance', permissions: ['credentials'] });
    const res = await fetch(`${base}/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`ops-appliance:${String(created.body['clientSecret'])}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const appliance = ((await res.json()) as { access_token: string }).access_token;
    for (const [method, path] of [
      ['PUT', '/api/v1/admin/log-level'],
      ['GET', '/api/v1/admin/instances'],
      ['GET', '/api/v1/admin/diagnostics'],
      ['GET', '/api/v1/leases'],
    ] as const) {
      const answer = await call(method, path, method === 'PUT' ? { level: 'debug' } : undefined, appliance);
      expect([path, answer.status, answer.body['code']]).toEqual([path, 403, 'PERMISSION_MISSING']);
    }
  });
});
