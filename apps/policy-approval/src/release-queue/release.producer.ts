import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { Queue } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { bullConnection, bullPrefix } from './bullmq-connection';
import { RELEASE_JOB, RELEASE_QUEUE, type ReleaseJob } from './release-job';

/**
 * Schedules lease releases. One job per lease, its id the lease id, so scheduling twice (a retry, the
 * reconciler, another instance) never doubles the work; the lease row decides what the job does.
 */
@Injectable()
export class ReleaseProducer implements OnApplicationShutdown {
  private readonly logger = new Logger(ReleaseProducer.name);
  readonly queue: Queue<ReleaseJob>;
  private readonly config = loadConfig(policyConfig);

  constructor() {
    this.queue = new Queue<ReleaseJob>(RELEASE_QUEUE, {
      // Scheduling fails at once while Redis is out of reach instead of waiting for it: PostgreSQL has the lease,
      // and the reconciler schedules it once Redis is back, so no caller waits on a queue that cannot take it.
      connection: { ...bullConnection(), enableOfflineQueue: false },
      prefix: bullPrefix(),
      telemetry: new BullMQOtel({ tracerName: 'policy-approval' }),
      defaultJobOptions: {
        attempts: this.config.RELEASE_JOB_ATTEMPTS,
        // computed by the worker's backoff strategy (exponential, capped, with jitter)
        backoff: { type: 'capped-exponential' },
        removeOnComplete: true,
        removeOnFail: 1000,
      },
    });
    this.queue.on('error', (error) => this.logger.warn({ err: error.name }, 'release queue connection error'));
  }

  /**
   * As `schedule`, for the credential flow: a queue out of reach is logged and left to the reconciler (the lease is
   * in PostgreSQL, which it reads), never the caller's failure.
   */
  async scheduleOrLeave(leaseId: string, dueAt: Date): Promise<void> {
    try {
      await this.schedule(leaseId, dueAt);
    } catch (error) {
      this.logger.warn({ msg: 'release not scheduled now: the reconciler schedules it once the queue is back', leaseId, err: (error as Error).name });
    }
  }

  /** Runs the release at `dueAt`, or now when it is due; moves an already waiting job forward when due earlier. */
  async schedule(leaseId: string, dueAt: Date): Promise<void> {
    const delay = Math.max(0, dueAt.getTime() - Date.now());
    const existing = await this.queue.getJob(leaseId);
    if (existing) {
      if (delay === 0 && (await existing.isDelayed())) await existing.promote().catch(() => undefined);
      if (await existing.isFailed()) await existing.retry().catch(() => undefined);
      return;
    }
    await this.queue.add(RELEASE_JOB, { leaseId }, { jobId: leaseId, delay });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
