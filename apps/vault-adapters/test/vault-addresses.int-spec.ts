import type { INestApplication } from '@nestjs/common';
import { OpenEcmError, SEAL_CONTEXTS } from '@openecm/contracts';
import type { Bus } from '@openecm/messaging';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, sealedForVaultAdapters, startTestApp, testBus, testKey } from '@openecm/testing';
import { VaultAddressPolicy } from '@openecm/vault-sdk';
import { createPasswordSafeSim, type PasswordSafeSim } from '../../../tools/password-safe-sim/src/sim';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['VAULT_SETTINGS_KEYS'] = `v1:${testKey()}`;
process.env['VAULT_RETRY_BASE_DELAY_MS'] = '5';

/**
 * Where a vault URL may lead, as an administrator (or someone who stole an admin API account) would try it:
 * the rules hold at save time, at Test Settings and for a connection stored before them.
 */
describe('vault URLs and addresses (vault-adapters over real NATS, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let vaultApp: INestApplication;
  let bus: Bus;
  let sim: PasswordSafeSim;
  let simUrl: string;

  beforeAll(async () => {
    sim = createPasswordSafeSim({});
    simUrl = await sim.listen(0);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    // nothing allowed: the simulator's loopback address is refused like any other
    process.env['VAULT_ALLOWED_ADDRESSES'] = '';
    const vault = await import('../src/app.module');
    ({ app: vaultApp } = await startTestApp('vault-adapters', vault.AppModule));
    bus = testBus();
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    await vaultApp?.close();
    await db?.drop();
    await sim?.close();
    await clearNamespaceKeys();
  });

  const settings = (baseUrl: string, extra: Record<string, unknown> = {}) => ({
    type: 'password-safe' as const,
    settings: { baseUrl, auth: { mode: 'api-key' as const, apiKey: 'demo-api-key' }, ...extra },
  });
  const save = async (name: string, connection: unknown) =>
    bus.request('vault.connection.upsert.v1', { name, connection: await sealedForVaultAdapters(bus, connection as never, SEAL_CONTEXTS.vaultConnection(name)) });
  const refusal = async (work: Promise<unknown>): Promise<OpenEcmError> => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenEcmError);
    return error as OpenEcmError;
  };

  it('refuses plain http unless the connection allows it, naming the setting', async () => {
    const error = await refusal(save('lab', settings('http://ps.corp.example/BeyondTrust/api/public/v3/')));
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'settings.baseUrl', message: expect.stringMatching(/must be https/) }] });
    expect((await bus.request('vault.connection.list.v1', {})).connections.map((c) => c.name)).not.toContain('lab');
  });

  it('refuses a URL that carries a user name or password', async () => {
    const error = await refusal(save('creds', settings('https://admin:hunter2@ps.corp.example/BeyondTrust/api/public/v3/')));
    expect(error.fields?.[0]).toMatchObject({ field: 'settings.baseUrl', message: expect.stringMatching(/user name or password/) });
    expect(error.message).not.toContain('hunter2');
  });

  it.each([
    ['loopback', 'https://127.0.0.1:8443/'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['link-local', 'https://[fe80::1]/'],
    ['loopback', 'https://localhost:8443/'],
  ])('refuses to save a vault at a %s address (%s)', async (kind, url) => {
    const error = await refusal(save('internal', settings(url, { allowInsecureHttp: true })));
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'settings.baseUrl', message: expect.stringContaining(`${kind} address`) }] });
  });

  it("refuses the broker's own NATS as a vault even where loopback is allowed", async () => {
    const nats = new URL(NATS_URL);
    const policy = new VaultAddressPolicy({ allowed: ['127.0.0.1'], infrastructure: [NATS_URL] });
    await expect(policy.check(`http://${nats.hostname}:${nats.port || 4222}/`)).rejects.toMatchObject({ refusal: 'infrastructure' });
  });

  it('answers Test Settings of a refused address at the connect step, and the vault never sees a request', async () => {
    const before = sim.state.stats().signIns.total;
    const answer = await bus.request('vault.connection.test.v1', {
      target: { connection: await sealedForVaultAdapters(bus, settings(simUrl, { allowInsecureHttp: true }), SEAL_CONTEXTS.vaultTest()) },
      user: 'alice',
      endpoint: 'srv-app01',
    });
    expect(answer).toMatchObject({ result: 'failed', step: 'connect', code: 'VAULT_ADDRESS_REFUSED' });
    expect(sim.state.stats().signIns.total).toBe(before);
  });
});
