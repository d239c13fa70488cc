import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { Worker, type Job } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { CredentialQueue } from '../exclusive/credential-queue.service';
import { bullConnection, bullPrefix } from '../release-queue/bullmq-connection';
import { APPROVAL_EXPIRY_JOB, ApprovalTimers, QUEUE_TURN_JOB, TIMERS_QUEUE, type TimerJob } from './approval-timers';
import { ApprovalsService } from './approvals.service';

/**
 * Runs the timers (an approval request expiring, a queue turn ending) and, on RECONCILE_INTERVAL_MS,
 * reconciles them from PostgreSQL: every pending request gets its expiry job (again), what is past due ends at
 * once, and every waited-for credential is advanced. A Redis that lost its data loses no expiry.
 */
@Injectable()
export class TimersProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TimersProcessor.name);
  private readonly config = loadConfig(policyConfig);
  private worker?: Worker<TimerJob>;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly approvals: ApprovalsService,
    private readonly queue: CredentialQueue,
    private readonly timers: ApprovalTimers,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.RUN_RELEASE_WORKER) {
      this.worker = new Worker<TimerJob>(TIMERS_QUEUE, (job) => this.process(job), {
        connection: bullConnection(),
        prefix: bullPrefix(),
        telemetry: new BullMQOtel({ tracerName: 'policy-approval' }),
        concurrency: 8,
        lockDuration: this.config.RELEASE_JOB_LOCK_MS,
        stalledInterval: this.config.RELEASE_STALLED_CHECK_MS,
      });
      this.worker.on('error', (error) => this.logger.warn({ err: error.name }, 'timer worker connection error'));
    }
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.config.RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  async process(job: Job<TimerJob>): Promise<void> {
    if (job.name === APPROVAL_EXPIRY_JOB && 'approvalId' in job.data) {
      await this.approvals.expireDue(job.data.approvalId);
      return;
    }
    if (job.name === QUEUE_TURN_JOB && 'queueId' in job.data) {
      await this.queue.turnEnded(job.data.queueId);
      return;
    }
    throw new Error(`no handler for job ${job.name}`);
  }

  reconcile(): Promise<void> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<void> {
    try {
      await this.approvals.expireDue();
      for (const p of await this.approvals.pendingDue()) await this.timers.expireAt(p.id, p.expires_at);
      for (const key of await this.queue.waitedFor()) await this.queue.advance(key);
    } catch (error) {
      this.logger.warn({ err: (error as Error).name }, 'reconciling approvals and queues failed; next round will retry');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
    await this.worker?.close();
  }
}
