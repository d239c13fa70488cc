import { Logger, type INestApplication, type Type } from '@nestjs/common';
import { ERROR_CODES, OpenEcmError, SEAL_CONTEXTS, VaultCredential, vaultTypeOf, type VaultKind } from '@openecm/contracts';
import type { Bus } from '@openecm/messaging';
import { PinoNestLogger, createLogger } from '@openecm/telemetry';
import { NATS_URL, REDIS_URL, checkoutOpened, clearNamespaceKeys, createTestDatabase, sealedForVaultAdapters, startTestApp, testBus, testKey } from '@openecm/testing';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';

/** A disturbance the kit asks a simulator for, in the simulator's own terms (its fault API). */
export type ConformanceFault =
  /** Every call answers 503 (or the vault's own "unavailable"), `count` times. */
  | { kind: 'unavailable'; count: number }
  /** The next check-out call takes effect at the vault, and its answer is a 503: a lost answer. */
  | { kind: 'checkout-answer-lost' }
  /** The listing's calls are refused as with a session the vault no longer knows, `count` times. */
  | { kind: 'session-rejected'; count: number }
  /** The listing's first call is held `delayMs` before the vault answers it. */
  | { kind: 'slow-list'; delayMs: number };

/** A running simulator as the kit drives it. */
export interface ConformanceSim {
  /** Connection settings that reach this simulator (`allowInsecureHttp` for plain HTTP). */
  settings: Record<string, unknown>;
  /** The same settings with a secret the vault refuses (a wrong password, secret id or key). */
  wrongSecret: Record<string, unknown>;
  /** A user and an endpoint that have credentials at this vault. */
  user: string;
  endpoint: string;
  /** The name of a listed credential that is checked out at the vault and rotated when checked in with rotation. */
  rotating: string;
  /** The secret the vault holds now for that credential. */
  currentSecret(): string;
  /** How often the vault rotated it. */
  rotations(): number;
  /** How many check-outs of it the vault holds now. */
  checkedOut(): number;
  /** Every secret the simulator holds now, the connection's own included: none may be listed, logged or in an error. */
  secrets(): string[];
  /** Successful sign-ins at the vault so far. */
  signIns(): number;
  /** Every session the vault issued ends, as when their lifetime runs out. */
  expireSessions(): void;
  fault(fault: ConformanceFault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

export interface VaultAdapterFixture {
  type: VaultKind;
  start(): Promise<ConformanceSim>;
  /** The service modules under test, loaded after the kit has set the environment. */
  vaultAdapters(): Promise<Type<unknown>>;
  tokenCache(): Promise<Type<unknown>>;
  /**
   * Whether the release path can find a check-out whose answer was lost (ADR 9's reclaim). A vault that names
   * nothing a second request could find again (HashiCorp Vault's library) leaves it lent until its TTL ends.
   */
  reclaimsLostCheckouts: boolean;
}

const TIMEOUT_SECONDS = 3;

/**
 * What every vault adapter must do, checked over real HTTP against its simulator, through vault-adapters on the
 * bus with real NATS, Redis and PostgreSQL. Call it at the top level of an integration spec.
 */
export function describeVaultAdapterConformance(title: string, fixture: VaultAdapterFixture): void {
  vaultAdaptersTestEnv();
  process.env['VAULT_HTTP_TIMEOUT_MS'] = String(TIMEOUT_SECONDS * 1000);

  describe(`${title}: vault adapter conformance (${fixture.type})`, () => {
    const vault = 'conformance';
    let system: VaultAdaptersSystem;
    let bus: Bus;
    let sim: ConformanceSim;

    const list = () => bus.request('vault.credentials.list.v1', { user: sim.user, endpoint: sim.endpoint });
    const rotating = async () => {
      const found = (await list()).credentials.find((c) => c.name === sim.rotating);
      if (!found) throw new Error(`the simulator lists no ${sim.rotating} for ${sim.user} on ${sim.endpoint}`);
      return found;
    };
    const connect = async (settings: Record<string, unknown>) =>
      bus.request('vault.connection.upsert.v1', {
        name: vault,
        connection: await sealedForVaultAdapters(bus, { type: fixture.type, settings }, SEAL_CONTEXTS.vaultConnection(vault)),
      });
    const testSettings = async (settings: Record<string, unknown>) =>
      bus.request('vault.connection.test.v1', {
        target: { connection: await sealedForVaultAdapters(bus, { type: fixture.type, settings }, SEAL_CONTEXTS.vaultTest()) },
        user: sim.user,
        endpoint: sim.endpoint,
      });
    const failure = (work: Promise<unknown>): Promise<OpenEcmError> =>
      work.then(
        () => {
          throw new Error('expected the call to fail');
        },
        (error: unknown) => error as OpenEcmError,
      );
    const expectNoSecret = (text: string) => {
      for (const secret of sim.secrets()) {
        for (const form of [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), Buffer.from(secret).toString('hex')]) expect(text).not.toContain(form);
      }
    };

    beforeAll(async () => {
      sim = await fixture.start();
      system = await startVaultAdapters(fixture);
      bus = system.bus;
      await connect(sim.settings);
    });

    afterAll(async () => {
      await system?.close();
      await sim?.close();
    });

    afterEach(() => sim.clearFaults());

    it('lists names and references only: every entry a VaultCredential, no secret in the answer', async () => {
      const answer = await list();
      expect(answer.pending).toEqual([]);
      expect(answer.credentials.length).toBeGreaterThan(0);
      for (const credential of answer.credentials) expect(VaultCredential.safeParse(credential).success).toBe(true);
      expect(answer.credentials.map((c) => c.vault)).toEqual(answer.credentials.map(() => vault));
      expectNoSecret(JSON.stringify(answer));
    });

    it("checks out the vault's current secret; a check-in with rotation rotates it at the vault once, and a second check-in is a no-op", async () => {
      const credential = await rotating();
      const before = { rotations: sim.rotations(), held: sim.checkedOut() };
      const leaseId = randomUUID();
      const out = await checkoutOpened(bus, { leaseId, vault, ref: credential.ref, user: sim.user, durationMinutes: 30, reason: 'conformance' });
      expect(out.secret.value).toBe(sim.currentSecret());
      expect(sim.checkedOut()).toBe(before.held + 1);
      const checkedIn = await bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'conformance' });
      // whether the broker asked for it or the vault rotates by its own setting (Secret Server), it is seen at the vault
      expect(checkedIn.checkedIn).toBe(true);
      expect(sim.rotations()).toBe(before.rotations + 1);
      expect(sim.currentSecret()).not.toBe(out.secret.value);
      expect(sim.checkedOut()).toBe(before.held);
      await expect(bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'again' })).resolves.toEqual({ checkedIn: true, rotationRequested: true });
      expect(sim.checkedOut()).toBe(before.held);
      expect(sim.rotations()).toBe(before.rotations + 1);
    });

    it('answers every vault failure with a broker error code, naming no secret', async () => {
      sim.fault({ kind: 'unavailable', count: 1_000 });
      const error = await failure(list());
      expect(error).toBeInstanceOf(OpenEcmError);
      expect(Object.keys(ERROR_CODES)).toContain(error.code);
      expect(['VAULT_UNAVAILABLE', 'VAULT_ERROR']).toContain(error.code);
      expectNoSecret(JSON.stringify({ code: error.code, message: error.message, fields: error.fields }));
    });

    it('never sends a check-out again once the vault may have acted on it: one lost answer leaves one check-out, which the release path checks in', async () => {
      const credential = await rotating();
      const held = sim.checkedOut();
      const leaseId = randomUUID();
      sim.fault({ kind: 'checkout-answer-lost' });
      const outcome = await checkoutOpened(bus, { leaseId, vault, ref: credential.ref, user: sim.user, durationMinutes: 30, reason: 'conformance' }).then(
        () => 'checked out',
        (error: unknown) => (error as OpenEcmError).code,
      );
      // a vault whose check-outs are idempotent may have asked again and got the same one; none holds two
      expect(sim.checkedOut()).toBeLessThanOrEqual(held + 1);
      if (outcome !== 'checked out') expect(['VAULT_UNAVAILABLE', 'VAULT_ERROR']).toContain(outcome);
      await bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'conformance' });
      if (fixture.reclaimsLostCheckouts || outcome === 'checked out') expect(sim.checkedOut()).toBe(held);
      else expect(sim.checkedOut()).toBe(held + 1);
    });

    it('renews a session the vault ended, once, and does not sign in again and again when the vault keeps refusing', async () => {
      await list();
      sim.expireSessions();
      const before = sim.signIns();
      await expect(list()).resolves.toMatchObject({ pending: [] });
      expect(sim.signIns()).toBe(before + 1);
      sim.fault({ kind: 'session-rejected', count: 1_000 });
      const refused = sim.signIns();
      const error = await failure(list());
      expect(Object.keys(ERROR_CODES)).toContain(error.code);
      expect(sim.signIns()).toBeLessThanOrEqual(refused + 1);
    });

    it('Test Settings names the failing step: a refused secret is `authentication`, a vault that does not answer is `connect`', async () => {
      await expect(testSettings(sim.settings)).resolves.toMatchObject({ result: 'ok' });
      const refused = await testSettings(sim.wrongSecret);
      expect(refused).toMatchObject({ result: 'failed', step: 'authentication', code: 'VAULT_AUTH_FAILED' });
      const urlField = vaultTypeOf(fixture.type).urlField;
      const closed = await closedPort();
      const unreachable = await testSettings({ ...sim.settings, [urlField]: `http://127.0.0.1:${closed}/` });
      expect(unreachable).toMatchObject({ result: 'failed', step: 'connect' });
      expectNoSecret(JSON.stringify([refused, unreachable]));
    });

    it('honours its timeout: a vault slower than it fails the list with UPSTREAM_TIMEOUT in time', async () => {
      const delayMs = TIMEOUT_SECONDS * 1000 + 3_000;
      sim.fault({ kind: 'slow-list', delayMs });
      const startedAt = Date.now();
      const error = await failure(list());
      expect(['UPSTREAM_TIMEOUT', 'VAULT_UNAVAILABLE']).toContain(error.code);
      expect(Date.now() - startedAt).toBeLessThan(delayMs);
    });

    it('logs no secret at debug level through a whole flow (sign-in, list, check-out, check-in with rotation)', async () => {
      const lines: string[] = [];
      const stream = new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      });
      const seen: string[] = [];
      Logger.overrideLogger(new PinoNestLogger(createLogger('vault-adapters', 'debug', stream)));
      try {
        sim.expireSessions();
        const credential = await rotating();
        const leaseId = randomUUID();
        seen.push((await checkoutOpened(bus, { leaseId, vault, ref: credential.ref, user: sim.user, durationMinutes: 30, reason: 'conformance' })).secret.value);
        await bus.request('vault.credentials.checkin.v1', { leaseId, rotate: true, reason: 'conformance' });
        await testSettings(sim.wrongSecret);
      } finally {
        Logger.overrideLogger(['error']);
      }
      expect(lines.length).toBeGreaterThan(0);
      const text = lines.join('');
      expectNoSecret(text);
      for (const secret of seen) expect(text).not.toContain(secret);
    });
  });
}

/**
 * The environment vault-adapters and token-cache are started with in a vault test: real NATS and Redis, a key
 * of their own, loopback allowed as a vault address, the in-process caches off and retries quick.
 */
export function vaultAdaptersTestEnv(): void {
  process.env['REDIS_URL'] = REDIS_URL;
  process.env['NATS_URL'] = NATS_URL;
  process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
  process.env['VAULT_SETTINGS_KEYS'] = `v1:${testKey()}`;
  process.env['VAULT_ALLOWED_ADDRESSES'] = '127.0.0.1';
  process.env['VAULT_CONNECTIONS_CACHE_SECONDS'] = '0';
  process.env['VAULT_SESSION_L1_SECONDS'] = '0';
  process.env['VAULT_SYSTEMS_CACHE_SECONDS'] = '0';
  process.env['VAULT_RETRY_BASE_DELAY_MS'] = '5';
}

export interface VaultAdaptersSystem {
  bus: Bus;
  /** The test database's URL, for a test that reads what vault-adapters stored. */
  databaseUrl: string;
  close(): Promise<void>;
}

/** vault-adapters and token-cache on a database of their own, and a bus to call them with. */
export async function startVaultAdapters(services: Pick<VaultAdapterFixture, 'vaultAdapters' | 'tokenCache'>): Promise<VaultAdaptersSystem> {
  const db = await createTestDatabase();
  process.env['DATABASE_URL'] = db.url;
  const apps: INestApplication[] = [];
  const bus = testBus();
  const close = async () => {
    await bus.onApplicationShutdown();
    for (const app of apps) await app.close();
    await db.drop();
    await clearNamespaceKeys();
  };
  try {
    apps.push((await startTestApp('vault-adapters', await services.vaultAdapters())).app);
    apps.push((await startTestApp('token-cache', await services.tokenCache())).app);
  } catch (error) {
    await close();
    throw error;
  }
  return { bus, databaseUrl: db.url, close };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
