import { ApplianceClient, seedDemo } from '@openecm/appliance-sim';
import { launchSystem, waitFor, type RunningSystem } from '@openecm/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DemoInfrastructure, type InfrastructureUrls } from '../tools/scripts/src/demo-infra';

/**
 * An operator's bad day: services killed with SIGKILL in the middle of the credential flow, on a NATS, Redis and
 * PostgreSQL of the suite's own (started here, stopped after), so nothing else on the machine takes part.
 * Whatever was checked out at the vault is checked in in the end, and every release is carried out after a restart.
 */
describe('no check-out left behind (private NATS, Redis and PostgreSQL)', () => {
  let system: RunningSystem;
  let infra: DemoInfrastructure;
  let urls: InfrastructureUrls;
  let dir: string;
  let admin: ApplianceClient;
  let pg: Client;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openecm-faults-'));
    infra = new DemoInfrastructure({ env: process.env, forcePrivate: true, dir, say: () => undefined });
    urls = await infra.start();
    system = await launchSystem({
      namespace: process.env['OPENECM_NAMESPACE'] as string,
      databaseUrl: urls.databaseUrl,
      redisUrl: urls.redisUrl,
      natsUrl: urls.natsUrl,
      env: {
        NATS_REQUEST_TIMEOUT_MS: '3000',
        RECONCILE_INTERVAL_MS: '500',
        RELEASE_JOB_BACKOFF_MS: '100',
        RELEASE_JOB_BACKOFF_MAX_MS: '1000',
        RELEASE_JOB_LOCK_MS: '2000',
        RELEASE_STALLED_CHECK_MS: '1000',
        VAULT_RETRY_BASE_DELAY_MS: '20',
        // the vault-side sweep every second; its 2-minute grace keeps it off every check-out in flight here
        VAULT_SWEEP_INTERVAL_MS: '1000',
      },
    });
    admin = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    await seedDemo(admin, { vaultName: 'password-safe', passwordSafeUrl: system.simUrl, apiKey: 'demo-api-key', users: ['alice', 'bob'], print: () => undefined });
    await reconnect();
  }, 180_000);

  /** The suite's own PostgreSQL client, made again after the server was stopped under it. */
  async function reconnect(): Promise<void> {
    await pg?.end().catch(() => undefined);
    pg = new Client({ connectionString: urls.databaseUrl });
    // the server going away under a test is expected: the client is made again after it
    pg.on('error', () => undefined);
    await pg.connect();
  }

  afterAll(async () => {
    await system?.stop();
    await pg?.end();
    await infra?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const processNamed = (name: string) => {
    const found = system.processes.find((p) => p.name === name);
    if (!found) throw new Error(`no process ${name}`);
    return found;
  };
  const simControl = async <T>(path: string, init?: RequestInit): Promise<T> => (await (await fetch(`${system.simControlUrl}${path}`, init)).json()) as T;
  const openAtVault = async () => (await simControl<{ requests: unknown[] }>('/requests')).requests.length;
  /** Every request the vault was asked for, with how it ended and how often it rotated its account. */
  const history = async () =>
    (await simControl<{ requests: Array<{ requestId: number; accountId: number; status: string; rotations: number }> }>('/requests?history=true')).requests;
  /** The rotation count of every account the two users may inject on srv-app01 (the default seed's ids). */
  const SRV_APP01_ACCOUNTS = [1001, 1002, 3001];
  const accountRotations = async () => {
    const rotations = new Map<number, number>();
    for (const accountId of SRV_APP01_ACCOUNTS) rotations.set(accountId, (await simControl<{ rotations: number }>(`/accounts/${accountId}`)).rotations);
    return rotations;
  };
  /** Every (user, credential) pair the two users may inject on srv-app01. */
  const offers = async () => {
    const pairs: Array<{ user: string; id: string }> = [];
    for (const user of ['alice', 'bob']) {
      const listed = await admin.listCredentials(user, 'srv-app01');
      expect(listed.status).toBe(200);
      for (const c of listed.body.credentials) pairs.push({ user, id: c.id });
    }
    return pairs;
  };
  /** Leases that still need something done: not yet released, releasing, or a failed check-out not yet checked in. */
  const unsettled = async () =>
    Number((await pg.query(`SELECT count(*) FROM policy.lease WHERE state IN ('active', 'released') OR checkin_due`)).rows[0].count);

  it('kill -9 of vault-adapters during 50 concurrent injections leaves nothing checked out', async () => {
    const pairs = await offers();
    // Every check-out waits at the vault, so the kill meets them in flight (some already made at the vault).
    await simControl('/faults', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', path: 'Requests', delayMs: 1500, through: true, count: 50 }),
    });
    const injections = Array.from({ length: 50 }, (_, i) => {
      const pair = pairs[i % pairs.length] as { user: string; id: string };
      return admin.inject(pair.id, pair.user, 'srv-app01', `crash-${i}`);
    });
    await waitFor(async () => (await simControl<{ faultsServed: number }>('/stats')).faultsServed >= 10, { what: 'check-outs in flight at the vault' });
    processNamed('vault-adapters').child.kill('SIGKILL');
    const answers = await Promise.all(injections);
    await processNamed('vault-adapters').restart();
    await fetch(`${system.simControlUrl}/faults`, { method: 'DELETE' });

    // The appliance releases what it was given; the broker deals with the rest.
    const opened = answers.filter((a) => a.status === 201).map((a) => a.body.leaseId as string);
    for (const leaseId of opened) expect((await admin.release(leaseId)).status).toBe(200);
    expect(answers.filter((a) => a.status !== 201).length).toBeGreaterThan(0);
    await waitFor(async () => (await unsettled()) === 0, { timeoutMs: 45_000, what: 'every lease settled' });
    expect(await openAtVault()).toBe(0);
  }, 120_000);

  it('kill -9 of policy-approval right after 100 releases: all 100 carried out after the restart, each request rotated exactly once', async () => {
    const pairs = await offers();
    const known = new Set((await history()).map((r) => r.requestId));
    const rotationsBefore = await accountRotations();
    const opened: string[] = [];
    // ten at a time; leases of one user on one account share that user's request at the vault (ConflictOption reuse)
    for (let batch = 0; batch < 10; batch++) {
      const injected = await Promise.all(
        Array.from({ length: 10 }, (_, j) => {
          const i = batch * 10 + j;
          const pair = pairs[i % pairs.length] as { user: string; id: string };
          return admin.inject(pair.id, pair.user, 'srv-app01', `restart-${i}`);
        }),
      );
      for (const answer of injected) {
        expect([answer.status, answer.body]).toEqual([201, expect.anything()]);
        opened.push(answer.body.leaseId as string);
      }
    }
    const releases = await Promise.all(opened.map((id) => admin.release(id)));
    expect(releases.every((r) => r.status === 200)).toBe(true);
    processNamed('policy-approval').child.kill('SIGKILL');
    await processNamed('policy-approval').restart();

    // resumed within seconds, not after BullMQ's stall detection: the worker's lock is short, the reconciler sees the rest
    await waitFor(async () => (await unsettled()) === 0, { timeoutMs: 15_000, what: 'every release carried out within 15 s of the restart' });
    const states = await pg.query(`SELECT state, count(*)::int AS n FROM policy.lease WHERE id = ANY($1) GROUP BY state`, [opened]);
    expect(states.rows).toEqual([{ state: 'rotated', n: 100 }]);
    expect(await openAtVault()).toBe(0);
    // at the vault: every request these leases made ended released, each rotated its account once, and nothing else rotated
    const made = (await history()).filter((r) => !known.has(r.requestId));
    expect(made.length).toBeGreaterThan(0);
    expect(made.every((r) => SRV_APP01_ACCOUNTS.includes(r.accountId))).toBe(true);
    expect(made.map((r) => [r.status, r.rotations])).toEqual(made.map(() => ['released', 1]));
    const rotationsAfter = await accountRotations();
    for (const [accountId, before] of rotationsBefore) {
      expect([accountId, (rotationsAfter.get(accountId) ?? 0) - before]).toEqual([accountId, made.filter((r) => r.accountId === accountId).length]);
    }
  }, 180_000);

  it('a database restored from before a check-out: the sweep checks in the request OpenECM no longer knows, rotated', async () => {
    const [pair] = (await offers()).filter((p) => p.user === 'alice');
    // a check-out from before the backup: released and rotated, its record kept
    const before = await admin.inject(pair?.id as string, 'alice', 'srv-app01', 'before-backup');
    expect(before.status).toBe(201);
    expect((await admin.release(before.body.leaseId as string)).status).toBe(200);
    await waitFor(async () => (await unsettled()) === 0 && (await openAtVault()) === 0, { what: 'the earlier check-out settled' });
    const injected = await admin.inject(pair?.id as string, 'alice', 'srv-app01', 'after-backup');
    expect(injected.status).toBe(201);
    const leaseId = injected.body.leaseId as string;
    const [request] = (await simControl<{ requests: Array<{ requestId: number; accountId: number }> }>('/requests')).requests;
    expect(request).toBeDefined();
    const { rotations } = await simControl<{ rotations: number }>(`/accounts/${request?.accountId}`);
    // the records of this check-out gone, as after a restore from a backup taken before it; the request made long ago
    await pg.query(`DELETE FROM vault.checkout WHERE lease_id = $1`, [leaseId]);
    await pg.query(`DELETE FROM policy.lease WHERE id = $1`, [leaseId]);
    const backdated = await fetch(`${system.simControlUrl}/requests/${request?.requestId}/backdate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ms: 600_000 }),
    });
    expect(backdated.status).toBe(200);

    await waitFor(async () => (await openAtVault()) === 0, { timeoutMs: 15_000, what: 'the sweep checking in the unknown request' });
    expect((await simControl<{ rotations: number }>(`/accounts/${request?.accountId}`)).rotations).toBe(rotations + 1);
  }, 60_000);

  /** `/health/ready` of one service's ops port: its status and the checks it names. */
  const readiness = async (name: string) => {
    const res = await fetch(`${processNamed(name).httpUrl}/health/ready`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('PostgreSQL stopped under a running system: calls answer 503 SERVICE_UNAVAILABLE, readiness names it, and all carries on once it is back', async () => {
    const [pair] = (await offers()).filter((p) => p.user === 'alice');
    const resume = await infra.interrupt('postgres');
    try {
      const injected = await admin.inject(pair?.id as string, 'alice', 'srv-app01', 'no-database');
      expect([injected.status, injected.body.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      expect((await admin.call('GET', '/api/v1/leases')).status).toBe(503);
      const ready = await readiness('policy-approval');
      expect(ready.status).toBe(503);
      expect(JSON.stringify(ready.body)).toMatch(/postgres[^,}]*down/);
    } finally {
      await resume();
    }
    await waitFor(async () => (await readiness('policy-approval')).status === 200, { timeoutMs: 30_000, what: 'policy-approval ready again' });
    await reconnect();
    const after = await admin.inject(pair?.id as string, 'alice', 'srv-app01', 'database-back');
    expect(after.status).toBe(201);
    expect((await admin.release(after.body.leaseId as string)).status).toBe(200);
    await waitFor(async () => (await unsettled()) === 0 && (await openAtVault()) === 0, { timeoutMs: 30_000, what: 'everything settled after PostgreSQL came back' });
  }, 120_000);

  it('Redis stopped under a running system: no 500, readiness names it, and every lease settles once it is back', async () => {
    const pairs = (await offers()).filter((p) => p.user === 'bob');
    const resume = await infra.interrupt('redis');
    const answers = [];
    try {
      for (const [i, pair] of pairs.entries()) answers.push(await admin.inject(pair.id, 'bob', 'srv-app01', `no-redis-${i}`));
      // the check-out goes through (the vault session is in memory, the lease in PostgreSQL); what cannot be done
      // answers as an outage, never a 500 or a wait for the timeout
      for (const answer of answers) expect([answer.status, answer.body.code]).toEqual(answer.status === 201 ? [201, undefined] : [503, 'SERVICE_UNAVAILABLE']);
      const ready = await readiness('token-cache');
      expect(ready.status).toBe(503);
      expect(JSON.stringify(ready.body)).toMatch(/redis[^,}]*down/);
    } finally {
      await resume();
    }
    await waitFor(async () => (await readiness('token-cache')).status === 200, { timeoutMs: 30_000, what: 'token-cache ready again' });
    for (const answer of answers.filter((a) => a.status === 201)) expect((await admin.release(answer.body.leaseId as string)).status).toBe(200);
    await waitFor(async () => (await unsettled()) === 0 && (await openAtVault()) === 0, { timeoutMs: 45_000, what: 'every lease settled after Redis came back' });
  }, 120_000);
});
