import type { INestApplication } from '@nestjs/common';
import { SEAL_CONTEXTS } from '@openecm/contracts';
import type { Bus } from '@openecm/messaging';
import { OpsResponder } from '@openecm/service-kit';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, sealedForVaultAdapters, startTestApp, testBus, testKey } from '@openecm/testing';
import { pino } from 'pino';
import { createPasswordSafeSim, type PasswordSafeSim } from '../../../tools/password-safe-sim/src/sim';
import { VaultSessionCache } from '../src/sessions/vault-session-cache';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['VAULT_SETTINGS_KEYS'] = `v1:${testKey()}`;
process.env['VAULT_ALLOWED_ADDRESSES'] = '127.0.0.1';
// long enough that only an invalidation, never an expiry, can explain a change seen within the test
process.env['VAULT_CONNECTIONS_CACHE_SECONDS'] = '600';
process.env['VAULT_SESSION_L1_SECONDS'] = '300';
process.env['VAULT_SYSTEMS_CACHE_SECONDS'] = '600';

/**
 * The in-process caches of vault-adapters, across two instances behind one queue group: a list reads the
 * connections and the vault session from memory, and a change made through either instance is seen by the
 * next list on both, whichever answers it.
 */
describe('vault-adapters caches across instances (real NATS, Redis, Postgres; simulator over HTTP)', () => {
  let db: { url: string; drop: () => Promise<void> };
  const apps: INestApplication[] = [];
  let bus: Bus;
  let sim: PasswordSafeSim;
  let baseUrl: string;
  const LISTS = 12;

  beforeAll(async () => {
    sim = createPasswordSafeSim({ idleTimeoutMs: 60_000 });
    baseUrl = await sim.listen(0);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const vault = await import('../src/app.module');
    const cache = await import('../../token-cache/src/app.module');
    for (const [name, module, instance] of [
      ['vault-adapters', vault.AppModule, 'va/1'],
      ['vault-adapters', vault.AppModule, 'va/2'],
      ['token-cache', cache.AppModule, 'tc/1'],
    ] as const) {
      const { app } = await startTestApp(name, module);
      await app.get(OpsResponder).start({ service: name, logger: pino({ level: 'silent' }), instance });
      apps.push(app);
    }
    bus = testBus();
    await save(60);
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    for (const app of apps) await app.close();
    await db?.drop();
    await sim?.close();
    await clearNamespaceKeys();
  });

  async function save(releaseDurationMinutes: number): Promise<void> {
    const input = {
      type: 'password-safe' as const,
      settings: { baseUrl, allowInsecureHttp: true, auth: { mode: 'api-key' as const, apiKey: 'demo-api-key' }, releaseDurationMinutes, rotateAfterRelease: true },
    };
    await bus.request('vault.connection.upsert.v1', { name: 'ps', connection: await sealedForVaultAdapters(bus, input, SEAL_CONTEXTS.vaultConnection('ps')) });
  }

  /** Enough lists that both instances of the queue group answer some (each list goes to one at random). */
  async function lists(): Promise<number[]> {
    const answers = await Promise.all(Array.from({ length: LISTS }, () => bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' })));
    return answers.flatMap((a) => a.credentials.map((c) => c.releaseDurationMinutes));
  }

  it('lists from memory: a second round of lists signs in nowhere', async () => {
    expect(new Set(await lists())).toEqual(new Set([60]));
    const before = sim.state.stats().signIns.total;
    expect(new Set(await lists())).toEqual(new Set([60]));
    expect(sim.state.stats().signIns.total).toBe(before);
  });

  it('sees an edited connection on every instance at the next list', async () => {
    await lists();
    await save(45);
    // without the invalidation, the instance that did not save would answer 60 for another ten minutes
    expect(new Set(await lists())).toEqual(new Set([45]));
  });

  it("reads an identity's managed systems once per instance, and again on every instance after the connection is edited", async () => {
    await lists();
    // every ManagedSystems call from now on is counted as it goes through unchanged
    sim.state.addFault({ status: 200, count: 1_000, method: 'GET', path: 'ManagedSystems', delayMs: 0, through: true });
    const calls = () => sim.state.stats().faultsServed;
    const before = calls();
    await lists();
    expect(calls() - before).toBe(0);
    await save(30);
    expect(new Set(await lists())).toEqual(new Set([30]));
    // each of the two instances asked the vault once for the round (its lists share one call)
    expect(calls() - before).toBe(2);
    sim.state.clearFaults();
  });

  it('drops the cleared vault sessions from every instance before the clear is answered', async () => {
    await lists();
    const holders = apps.slice(0, 2).map((app) => app.get(VaultSessionCache));
    const held = () => holders.map((h) => h.heldHere('ps', 'alice'));
    expect(held()).toEqual([true, true]);
    await bus.request('vault.sessions.clear.v1', { vault: 'ps', user: 'alice' });
    expect(held()).toEqual([false, false]);
    const before = sim.state.stats().signInsByUser['alice'] ?? 0;
    await lists();
    // one sign-in for both instances: the first level refills from the single flight through token-cache
    expect((sim.state.stats().signInsByUser['alice'] ?? 0) - before).toBe(1);
  });
});
