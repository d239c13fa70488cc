import type { INestApplication } from '@nestjs/common';
import { startService } from '@openecm/service-kit';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, freePort } from '@openecm/testing';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { gatewayHttpsOptions } from '../src/edge/tls';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['OPENECM_BOOTSTRAP_CLIENT_ID'] = 'tls-admin';
process.env['OPENECM_BOOTSTRAP_CLIENT_SECRET'] = 'tls-admin-secret-0123456789';

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl for this run. */
function makePki(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=OpenECM test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'appliance-01']] as const) {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  }
  const file = (name: string) => join(dir, name);
  return { file, pem: (name: string) => readFileSync(file(name), 'utf8') };
}

describe('the gateway serving TLS itself, with and without client certificates', () => {
  let dir: string;
  let pki: ReturnType<typeof makePki>;
  let db: { url: string; drop: () => Promise<void> };
  const apps: INestApplication[] = [];

  const start = async (clientCa: boolean) => {
    const port = await freePort();
    const { AppModule } = await import('../src/app.module');
    const { configureGateway } = await import('../src/http-setup');
    process.env['GATEWAY_TLS_CLIENT_CA'] = clientCa ? pki.file('ca.pem') : '';
    const { app } = await startService({
      name: 'appliance-gateway',
      module: AppModule,
      port,
      host: '127.0.0.1',
      configure: configureGateway,
      httpsOptions: gatewayHttpsOptions({
        GATEWAY_TLS_CERT: pki.file('server.pem'),
        GATEWAY_TLS_KEY: pki.file('server.key'),
        GATEWAY_TLS_CLIENT_CA: clientCa ? pki.file('ca.pem') : undefined,
      }),
    });
    apps.push(app);
    return `https://127.0.0.1:${port}`;
  };
  const agent = (withClientCert: boolean) =>
    new Agent({ connect: { ca: pki.pem('ca.pem'), ...(withClientCert ? { cert: pki.pem('client.pem'), key: pki.pem('client.key') } : {}) } });
  const signIn = (base: string, dispatcher: Agent) =>
    request(`${base}/oauth2/token`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=tls-admin&client_secret=tls-admin-secret-0123456789',
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openecm-tls-'));
    pki = makePki(dir);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.drop();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with the configured certificate, and refuses TLS older than 1.2', async () => {
    const base = await start(false);
    const token = await signIn(base, agent(false));
    expect(token.statusCode).toBe(200);
    await token.body.dump();
    await expect(request(`${base}/health/live`, { dispatcher: new Agent({ connect: { ca: pki.pem('ca.pem'), maxVersion: 'TLSv1.1' } }) })).rejects.toThrow();
    // A client that does not trust the CA does not get through either.
    await expect(request(`${base}/health/live`)).rejects.toThrow();
  });

  it('with a client CA, answers API calls only with a client certificate it signed; probes need none', async () => {
    const base = await start(true);
    const without = await signIn(base, agent(false));
    expect(without.statusCode).toBe(401);
    expect(without.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(await without.body.json()).toMatchObject({ code: 'UNAUTHENTICATED', detail: expect.stringMatching(/client certificate/) });
    const probe = await request(`${base}/health/live`, { dispatcher: agent(false) });
    expect(probe.statusCode).toBe(200);
    await probe.body.dump();
    const withCert = await signIn(base, agent(true));
    expect(withCert.statusCode).toBe(200);
    expect(await withCert.body.json()).toMatchObject({ token_type: expect.stringMatching(/bearer/i) });
  });
});
