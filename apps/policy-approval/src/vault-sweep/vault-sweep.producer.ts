import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { Queue } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { bullConnection, bullPrefix } from '../release-queue/bullmq-connection';
import { VAULT_SWEEP_JOB, VAULT_SWEEP_QUEUE, VAULT_SWEEP_SCHEDULER, type VaultSweepJob } from './vault-sweep-job';

/**
 * Schedules the vault-side sweep every VAULT_SWEEP_INTERVAL_MS with one BullMQ job scheduler: every instance
 * upserts the same one, and the queue's global concurrency of 1 keeps runs one at a time across instances.
 * An interval of 0 removes the schedule.
 */
@Injectable()
export class VaultSweepProducer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(VaultSweepProducer.name);
  readonly queue: Queue<VaultSweepJob>;
  private readonly intervalMs = loadConfig(policyConfig).VAULT_SWEEP_INTERVAL_MS;

  constructor() {
    this.queue = new Queue<VaultSweepJob>(VAULT_SWEEP_QUEUE, {
      connection: bullConnection(),
      prefix: bullPrefix(),
      telemetry: new BullMQOtel({ tracerName: 'policy-approval' }),
    });
    this.queue.on('error', (error) => this.logger.warn({ err: error.name }, 'vault sweep queue connection error'));
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      if (this.intervalMs === 0) {
        await this.queue.removeJobScheduler(VAULT_SWEEP_SCHEDULER);
        return;
      }
      await this.queue.setGlobalConcurrency(1);
      // an instance starting leaves a schedule of the same interval as it is, so restarts never push a run back
      if ((await this.queue.getJobScheduler(VAULT_SWEEP_SCHEDULER))?.every === this.intervalMs) return;
      await this.queue.upsertJobScheduler(
        VAULT_SWEEP_SCHEDULER,
        // the first run one interval after the schedule is made: a fleet starting does not sweep at once
        { every: this.intervalMs, startDate: Date.now() + this.intervalMs },
        { name: VAULT_SWEEP_JOB, data: {}, opts: { removeOnComplete: 100, removeOnFail: 100, attempts: 1 } },
      );
    } catch (error) {
      // Redis out of reach at start: the next instance (or restart) schedules it; releases do not depend on it
      this.logger.warn({ err: (error as Error).name }, 'scheduling the vault sweep failed');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
