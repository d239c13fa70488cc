import type { INestApplication } from '@nestjs/common';
import type { Bus } from '@openecm/messaging';
import { SEAL_CONTEXTS } from '@openecm/contracts';
import {
  NATS_URL,
  REDIS_URL,
  checkoutOpened,
  clearNamespaceKeys,
  createTestDatabase,
  sealedForVaultAdapters,
  startTestApp,
  testBus,
  testKey,
} from '@openecm/testing';
import { randomUUID } from 'node:crypto';
import { createPasswordSafeSim, type PasswordSafeSim } from '../../../tools/password-safe-sim/src/sim';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['VAULT_SETTINGS_KEYS'] = `v1:${testKey()}`;
process.env['VAULT_ALLOWED_ADDRESSES'] = '127.0.0.1';
process.env['VAULT_RETRY_BASE_DELAY_MS'] = '5';

describe('user names Password Safe cannot be signed in as (simulator over HTTP, real NATS, Redis, Postgres)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let vaultApp: INestApplication;
  let cacheApp: INestApplication;
  let bus: Bus;
  let sim: PasswordSafeSim;
  let baseUrl: string;
  /** Every request the simulator received, by its path. */
  const received: string[] = [];

  beforeAll(async () => {
    sim = createPasswordSafeSim({
      idleTimeoutMs: 60_000,
      logger: { debug: (obj) => received.push(String((obj as { url?: unknown }).url ?? JSON.stringify(obj))), error: () => undefined },
    });
    baseUrl = await sim.listen(0);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const vault = await import('../src/app.module');
    const cache = await import('../../token-cache/src/app.module');
    ({ app: vaultApp } = await startTestApp('vault-adapters', vault.AppModule));
    ({ app: cacheApp } = await startTestApp('token-cache', cache.AppModule));
    bus = testBus();
    const settings = { baseUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' }, releaseDurationMinutes: 60, rotateAfterRelease: true };
    await bus.request('vault.connection.upsert.v1', {
      name: 'ps',
      connection: await sealedForVaultAdapters(bus, { type: 'password-safe', settings }, SEAL_CONTEXTS.vaultConnection('ps')),
    });
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    await vaultApp?.close();
    await cacheApp?.close();
    await db?.drop();
    await sim?.close();
    await clearNamespaceKeys();
  });

  beforeEach(() => {
    received.length = 0;
  });

  it('answers a user name beyond Latin-1 with 400 VALIDATION_FAILED naming user, without calling the vault', async () => {
    for (const user of ['山田', 'CORP\\Ωmega']) {
      await expect(bus.request('vault.credentials.list.v1', { user, endpoint: 'srv-app01' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        fields: [{ field: 'user', message: expect.stringMatching(/Latin-1/) }],
      });
    }
    await expect(
      checkoutOpened(bus, { leaseId: randomUUID(), vault: 'ps', ref: { systemId: 1, accountId: 1001, account: 'Administrator', domain: '' }, user: '山田', durationMinutes: 60, reason: 'test' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', fields: [{ field: 'user' }] });
    expect(received).toEqual([]);
    expect(sim.state.stats().signIns.total + sim.state.stats().failedSignIns).toBe(0);
  });

  it('answers a name with the header parameter separator alike, and Test Settings names the failing step', async () => {
    await expect(bus.request('vault.credentials.list.v1', { user: 'alice; runas=bob', endpoint: 'srv-app01' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'user' }],
    });
    const tested = await bus.request('vault.connection.test.v1', { target: { name: 'ps' }, user: '山田', endpoint: 'srv-app01' });
    expect(tested).toMatchObject({ result: 'failed', step: 'authentication', code: 'VALIDATION_FAILED', message: expect.stringMatching(/Latin-1/) });
    expect(received).toEqual([]);
  });

  it('refuses a user name NFKC normalisation changes at the contract, before any adapter', async () => {
    await expect(bus.request('vault.credentials.list.v1', { user: '\u212Alice', endpoint: 'srv-app01' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      fields: [{ field: 'user' }],
    });
    expect(received).toEqual([]);
  });

  it('signs in a name in any case as one user, with one session, the simulator seeing each call', async () => {
    const before = sim.state.stats().signIns.apiKey;
    const upper = await bus.request('vault.credentials.list.v1', { user: 'ALICE', endpoint: 'srv-app01' });
    const lower = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    expect(lower.credentials.length).toBeGreaterThan(0);
    expect(upper.credentials).toEqual(lower.credentials);
    expect(sim.state.stats().signIns.apiKey - before).toBe(1);
    // the requests above were seen, so the empty lists of the other tests mean no call was made
    expect(received.length).toBeGreaterThan(0);
  });
});
