import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { MAX_SWEEP_LEASES, OpenEcmError, type VaultSweepCounts } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { vaultSweepCheckedIn, vaultSweepFailures } from '@openecm/telemetry';
import { Worker, type Job } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { LeaseRepository } from '../leases/lease.repository';
import { bullConnection, bullPrefix } from '../release-queue/bullmq-connection';
import { VAULT_SWEEP_JOB, VAULT_SWEEP_QUEUE, type VaultSweepJob } from './vault-sweep-job';

/**
 * A sweep asks every vault in turn, each identity of each; it may take a while, and nothing waits for it. It is
 * given its interval (at least a second, at most 5 minutes): an unanswered one is counted and the next run retries.
 */
const MAX_SWEEP_TIMEOUT_MS = 5 * 60_000;

export interface VaultSweepRun {
  /** The leases named as held; undefined when there were too many to name and the run was skipped. */
  leases: number | undefined;
  vaults: VaultSweepCounts[];
}

/**
 * Runs the vault-side sweep: gathers the leases whose check-out this service still holds (active, released and
 * not yet checked in, failed check-outs still due) from PostgreSQL and asks vault-adapters to check in whatever
 * the vaults hold that none of them owns. Counts go to the metrics and one log line per run; no vault handle
 * ever comes back.
 */
@Injectable()
export class VaultSweepProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(VaultSweepProcessor.name);
  private worker?: Worker<VaultSweepJob>;
  private readonly config = loadConfig(policyConfig);

  constructor(
    private readonly leases: LeaseRepository,
    private readonly bus: Bus,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.RUN_RELEASE_WORKER || this.config.VAULT_SWEEP_INTERVAL_MS === 0) return;
    this.worker = new Worker<VaultSweepJob>(VAULT_SWEEP_QUEUE, (job) => this.process(job), {
      connection: bullConnection(),
      prefix: bullPrefix(),
      telemetry: new BullMQOtel({ tracerName: 'policy-approval' }),
      concurrency: 1,
      // as the release worker: a run held by an instance that died is taken up within seconds, not BullMQ's 30 s
      lockDuration: this.config.RELEASE_JOB_LOCK_MS,
      stalledInterval: this.config.RELEASE_STALLED_CHECK_MS,
    });
    this.worker.on('error', (error) => this.logger.warn({ err: error.name }, 'vault sweep worker connection error'));
  }

  async process(job: Job<VaultSweepJob>): Promise<VaultSweepRun> {
    if (job.name !== VAULT_SWEEP_JOB) throw new Error(`no handler for job ${job.name}`);
    return this.run();
  }

  /** One sweep; a failure is counted and logged, never thrown: the next run is the retry. */
  async run(): Promise<VaultSweepRun> {
    const startedAt = Date.now();
    try {
      const held = await this.leases.heldCheckouts(MAX_SWEEP_LEASES + 1);
      if (held.length > MAX_SWEEP_LEASES) {
        vaultSweepFailures.inc({ vault: '*', code: 'TOO_MANY_LEASES' });
        this.logger.warn({ leases: held.length, max: MAX_SWEEP_LEASES }, 'vault sweep skipped: more open leases than one sweep can name');
        return { leases: undefined, vaults: [] };
      }
      const timeoutMs = Math.min(MAX_SWEEP_TIMEOUT_MS, Math.max(1000, this.config.VAULT_SWEEP_INTERVAL_MS));
      const { vaults } = await this.bus.request('vault.checkouts.sweep.v1', { leaseIds: held }, { timeoutMs });
      for (const v of vaults) {
        if (v.checkedIn > 0) vaultSweepCheckedIn.inc({ vault: v.vault }, v.checkedIn);
        if (v.failed > 0) vaultSweepFailures.inc({ vault: v.vault, code: v.error ?? 'VAULT_ERROR' }, v.failed);
        else if (v.error) vaultSweepFailures.inc({ vault: v.vault, code: v.error });
      }
      const total = (key: 'held' | 'owned' | 'young' | 'checkedIn' | 'failed') => vaults.reduce((n, v) => n + v[key], 0);
      this.logger.log({
        leases: held.length,
        held: total('held'),
        owned: total('owned'),
        young: total('young'),
        checkedIn: total('checkedIn'),
        failed: total('failed'),
        vaults: vaults.map((v) => ({ vault: v.vault, held: v.held, owned: v.owned, young: v.young, checkedIn: v.checkedIn, failed: v.failed, error: v.error })),
        ms: Date.now() - startedAt,
      }, 'vault sweep');
      return { leases: held.length, vaults };
    } catch (error) {
      const code = error instanceof OpenEcmError ? error.code : 'INTERNAL';
      vaultSweepFailures.inc({ vault: '*', code });
      this.logger.warn({ code, ms: Date.now() - startedAt }, 'vault sweep failed; the next run retries');
      return { leases: undefined, vaults: [] };
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }
}
