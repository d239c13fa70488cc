import type { INestApplication } from '@nestjs/common';
import { SEAL_CONTEXTS } from '@openecm/contracts';
import { Keyring } from '@openecm/crypto';
import type { Bus } from '@openecm/messaging';
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
import { Client } from 'pg';
import { createPasswordSafeSim, type PasswordSafeSim } from '../../../tools/password-safe-sim/src/sim';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['VAULT_RETRY_BASE_DELAY_MS'] = '5';

const OLD = `old:${testKey()}`;
const NEW = `new:${testKey()}`;

/** Rotating VAULT_SETTINGS_KEYS: add a new key first, re-seal, then remove the old one; nothing is lost. */
describe('re-sealing under the newest key (real NATS, Redis, Postgres, Password Safe simulator)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let vaultApp: INestApplication | undefined;
  let cacheApp: INestApplication;
  let bus: Bus;
  let sim: PasswordSafeSim;
  let baseUrl: string;
  let pg: Client;

  const startVaultAdapters = async (keys: string) => {
    await vaultApp?.close();
    process.env['VAULT_SETTINGS_KEYS'] = keys;
    process.env['VAULT_ALLOWED_ADDRESSES'] = '127.0.0.1';
    // rows are planted behind the service's back: no snapshot of the connections
    process.env['VAULT_CONNECTIONS_CACHE_SECONDS'] = '0';
    const { AppModule } = await import('../src/app.module');
    ({ app: vaultApp } = await startTestApp('vault-adapters', AppModule));
  };
  const keyIds = async (table: string, column: string) =>
    (await pg.query(`SELECT split_part(${column}, '.', 2) AS id FROM ${table} WHERE ${column} IS NOT NULL`)).rows.map((r) => r.id as string).sort();

  beforeAll(async () => {
    sim = createPasswordSafeSim({ idleTimeoutMs: 60_000 });
    baseUrl = await sim.listen(0);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const cache = await import('../../token-cache/src/app.module');
    ({ app: cacheApp } = await startTestApp('token-cache', cache.AppModule));
    bus = testBus();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await bus?.onApplicationShutdown();
    await vaultApp?.close();
    await cacheApp?.close();
    await pg?.end();
    await db?.drop();
    await sim?.close();
    await clearNamespaceKeys();
  });

  it('seals connections and check-out handles again, so the old key can go', async () => {
    await startVaultAdapters(OLD);
    const settings = { type: 'password-safe', settings: { baseUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' }, releaseDurationMinutes: 60, rotateAfterRelease: true } };
    await bus.request('vault.connection.upsert.v1', { name: 'ps', connection: await sealedForVaultAdapters(bus, settings, SEAL_CONTEXTS.vaultConnection('ps')) });
    const listed = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const admin = listed.credentials.find((c) => c.username === 'Administrator');
    const leaseId = randomUUID();
    await checkoutOpened(bus, { leaseId, vault: 'ps', ref: admin!.ref, user: 'alice', durationMinutes: 60, reason: 'test' });
    // A value no configured key opens (sealed long ago with a key since thrown away) is counted, never touched.
    const lost = Keyring.parse(`gone:${testKey()}`).seal(JSON.stringify(settings), 'vault-connection:ps-lost');
    await pg.query(`INSERT INTO vault.connection (name, type, settings_sealed) VALUES ('ps-lost', 'password-safe', $1)`, [lost]);

    await startVaultAdapters(`${NEW},${OLD}`);
    const first = await bus.request('vault.keys.reseal.v1', {});
    expect(first).toEqual({
      activeKey: 'new',
      connections: { resealed: 1, current: 0, unreadable: 1 },
      checkouts: { resealed: 1, current: 0, unreadable: 0 },
    });
    expect(await keyIds('vault.connection', 'settings_sealed')).toEqual(['gone', 'new']);
    expect(await keyIds('vault.checkout', 'request_sealed')).toEqual(['new']);
    const again = await bus.request('vault.keys.reseal.v1', {});
    expect(again.connections).toEqual({ resealed: 0, current: 1, unreadable: 1 });

    // The old key removed: the connection still opens, and the check-out is checked in at the vault.
    await startVaultAdapters(NEW);
    const after = await bus.request('vault.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    expect(after.credentials.map((c) => c.username)).toContain('Administrator');
    expect(after.pending).toEqual([{ vault: 'ps-lost', reason: expect.stringMatching(/^VAULT_SETTINGS_UNREADABLE/) }]);
    const open = sim.state.activeRequests().length;
    await expect(bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'done' })).resolves.toEqual({ checkedIn: true, rotationRequested: true });
    expect(sim.state.activeRequests()).toHaveLength(open - 1);
  });
});
