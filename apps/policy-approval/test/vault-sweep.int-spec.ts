import { Logger, type INestApplication } from '@nestjs/common';
import { SEAL_CONTEXTS } from '@openecm/contracts';
import { SealingKeyPair, SecretValue } from '@openecm/crypto';
import type { Bus } from '@openecm/messaging';
import { PinoNestLogger, createLogger, metricsRegistry } from '@openecm/telemetry';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, createTestDatabase, deleteNamespaceStreams, openLease, sealedForVaultAdapters, startTestApp, testBus, testKey, waitFor } from '@openecm/testing';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { createPasswordSafeSim, type PasswordSafeSim } from '../../../tools/password-safe-sim/src/sim';
import { VaultAddressPolicy } from '@openecm/vault-sdk';
import { PasswordSafeClient } from '../../vault-adapters/src/password-safe/password-safe.client';
import { VaultSweepProducer } from '../src/vault-sweep/vault-sweep.producer';

process.env['REDIS_URL'] = REDIS_URL;
process.env['NATS_URL'] = NATS_URL;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['VAULT_SETTINGS_KEYS'] = `v1:${testKey()}`;
process.env['VAULT_ALLOWED_ADDRESSES'] = '127.0.0.1';
process.env['VAULT_RETRY_BASE_DELAY_MS'] = '5';
process.env['VAULT_SWEEP_GRACE_MS'] = '60000';
/** Sweeps every 300 ms: the test awaits what they do rather than starting them. */
process.env['VAULT_SWEEP_INTERVAL_MS'] = '300';

const ROOT = { systemId: 2, accountId: 2001 };
const TEN_MINUTES = 600_000;

describe('policy-approval runs the vault-side sweep on its BullMQ schedule (real NATS, Redis, Postgres, vault-adapters, Password Safe simulator)', () => {
  let db: { url: string; drop: () => Promise<void> };
  let policy: INestApplication;
  /** A second instance: one schedule and one run at a time between them. */
  let policy2: INestApplication;
  let vault: INestApplication | undefined;
  let cache: INestApplication;
  let bus: Bus;
  let pg: Client;
  let sim: PasswordSafeSim;
  let simUrl: string;
  let byHand: PasswordSafeClient;
  const lines: string[] = [];

  beforeAll(async () => {
    sim = createPasswordSafeSim({ idleTimeoutMs: 600_000 });
    simUrl = await sim.listen(0);
    db = await createTestDatabase();
    process.env['DATABASE_URL'] = db.url;
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    ({ app: vault } = await startTestApp('vault-adapters', (await import('../../vault-adapters/src/app.module')).AppModule));
    ({ app: cache } = await startTestApp('token-cache', (await import('../../token-cache/src/app.module')).AppModule));
    ({ app: policy } = await startTestApp('policy-approval', (await import('../src/app.module')).AppModule));
    ({ app: policy2 } = await startTestApp('policy-approval', (await import('../src/app.module')).AppModule));
    // after the apps started (each sets its own logger): from here on every line is kept
    Logger.overrideLogger(new PinoNestLogger(createLogger('policy-approval', 'info', stream)));
    bus = testBus();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await bus.request('vault.connection.upsert.v1', {
      name: 'ps',
      connection: await sealedForVaultAdapters(
        bus,
        { type: 'password-safe', settings: { baseUrl: simUrl, allowInsecureHttp: true, releaseDurationMinutes: 90, rotateAfterRelease: true, auth: { mode: 'api-key', apiKey: 'demo-api-key' } } },
        SEAL_CONTEXTS.vaultConnection('ps'),
      ),
    });
    await bus.request('policy.defaults.ensure.v1', {});
    await bus.request('policy.group-member.add.v1', { group: 'Secure Remote Access Requesters', user: 'alice' });
    byHand = new PasswordSafeClient({ baseUrl: simUrl, addressPolicy: new VaultAddressPolicy({ allowed: ['127.0.0.1'], infrastructure: [] }) });
  });

  afterAll(async () => {
    Logger.overrideLogger(['error']);
    await byHand?.close();
    await bus?.onApplicationShutdown();
    await policy?.close();
    await policy2?.close();
    await vault?.close();
    await cache?.close();
    await pg?.end();
    await db?.drop();
    await sim?.close();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
  });

  const backdate = async (requestId: number) => expect(sim.state.backdateRequest(requestId, TEN_MINUTES)).toBe(true);
  const checkedIn = async () => (await metricsRegistry.getSingleMetric('openecm_vault_sweep_checked_in_total')?.get())?.values.find((v) => v.labels['vault'] === 'ps')?.value ?? 0;
  /** policy-approval's line per run (vault-adapters logs one per vault, without `leases`). */
  const runLines = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['msg'] === 'vault sweep' && 'leases' in l);
  const completedRuns = async () => policy.get(VaultSweepProducer).queue.getCompletedCount();

  it('two instances make one schedule, whose runs go one at a time', async () => {
    const queue = policy.get(VaultSweepProducer).queue;
    expect(await queue.getJobSchedulersCount()).toBe(1);
    expect((await queue.getJobScheduler('vault-sweep'))?.every).toBe(300);
    expect(await queue.getGlobalConcurrency()).toBe(1);
    expect(await policy2.get(VaultSweepProducer).queue.getJobSchedulersCount()).toBe(1);
  });

  it('checks in an orphan request made by hand, rotated, and leaves the active lease alone run after run', async () => {
    // an active lease, opened through the broker; its request and record made old enough to be swept
    const offers = await bus.request('policy.credentials.list.v1', { user: 'alice', endpoint: 'srv-app01' });
    const gateway = await SealingKeyPair.generate();
    const lease = await openLease(bus, { credentialId: offers.credentials.find((c) => c.username === 'Administrator')?.id as string, user: 'alice', endpoint: 'srv-app01', sessionId: 'sweep-1', owner: 'pra-site-1', sealTo: gateway.publicKey });
    await pg.query(`UPDATE vault.checkout SET created_at = now() - interval '10 minutes' WHERE lease_id = $1`, [lease.leaseId]);
    const leaseRequest = sim.state.activeRequests().find((r) => r.accountId === 1001)?.requestId as number;
    await backdate(leaseRequest);

    // the orphan: made at the vault with the API account, past OpenECM
    const session = await byHand.signInWithApiKey({ apiKey: SecretValue.of('demo-api-key'), runAs: 'alice' });
    const orphan = await byHand.createRequest(session, { ...ROOT, durationMinutes: 120, reason: 'by hand' });
    await backdate(orphan);
    const rotations = sim.state.rotationsOf(ROOT.accountId);
    const before = await checkedIn();

    await waitFor(() => sim.state.requestStatus(orphan)?.status === 'released', { what: 'the orphan checked in by a scheduled sweep' });
    expect(sim.state.requestStatus(orphan)?.rotateOnCheckin).toBe(true);
    expect(sim.state.rotationsOf(ROOT.accountId)).toBe(rotations + 1);
    await waitFor(async () => (await checkedIn()) >= before + 1, { what: 'openecm_vault_sweep_checked_in_total{vault="ps"}' });

    const runs = await completedRuns();
    await waitFor(async () => (await completedRuns()) >= runs + 3, { what: 'three more sweeps', timeoutMs: 15_000 });
    expect(sim.state.requestStatus(leaseRequest)?.status).toBe('open');
    expect((await bus.request('policy.lease.get.v1', { leaseId: lease.leaseId, owner: null })).state).toBe('active');
    expect(await checkedIn()).toBe(before + 1);

    const logged = runLines();
    expect(logged.length).toBeGreaterThanOrEqual(4);
    expect(logged.some((l) => l['checkedIn'] === 1 && l['leases'] === 1)).toBe(true);
    expect(logged.at(-1)).toMatchObject({ leases: 1, held: 1, owned: 1, checkedIn: 0, failed: 0 });
  });

  it('the lease released, its own release path checks it in and rotates it; the sweep has nothing left', async () => {
    const [lease] = (await pg.query(`SELECT id FROM policy.lease WHERE state = 'active'`)).rows as Array<{ id: string }>;
    await bus.request('policy.lease.release.v1', { leaseId: lease?.id as string, owner: null });
    await waitFor(async () => (await bus.request('policy.lease.get.v1', { leaseId: lease?.id as string, owner: null })).state === 'rotated', { what: 'the lease rotated' });
    const runs = await completedRuns();
    await waitFor(async () => (await completedRuns()) >= runs + 2, { what: 'two more sweeps', timeoutMs: 15_000 });
    const last = runLines().at(-1);
    expect(last).toMatchObject({ leases: 0, held: 0, checkedIn: 0, failed: 0 });
    // the runs so far, across both instances' workers: none began before the one before it ended
    const done = (await policy.get(VaultSweepProducer).queue.getCompleted(0, 100)).sort((a, b) => (a.processedOn ?? 0) - (b.processedOn ?? 0));
    expect(done.length).toBeGreaterThanOrEqual(5);
    done.slice(1).forEach((job, i) => expect(job.processedOn).toBeGreaterThanOrEqual(done[i]?.finishedOn ?? Infinity));
  });

  it('a sweep no vault-adapters answers is counted as failed, and the runs go on', async () => {
    const failures = async () =>
      (await metricsRegistry.getSingleMetric('openecm_vault_sweep_failures_total')?.get())?.values.find((v) => v.labels['vault'] === '*' && v.labels['code'] === 'SERVICE_UNAVAILABLE')?.value ?? 0;
    const before = await failures();
    // no vault-adapters on the bus: NATS says so at once
    await vault?.close();
    vault = undefined;
    await waitFor(async () => (await failures()) >= before + 1, { what: 'openecm_vault_sweep_failures_total{vault="*",code="SERVICE_UNAVAILABLE"}', timeoutMs: 15_000 });
    const runs = await completedRuns();
    await waitFor(async () => (await completedRuns()) > runs, { what: 'the next run', timeoutMs: 15_000 });
    expect(lines.some((l) => l.includes('vault sweep failed; the next run retries'))).toBe(true);
  });
});
