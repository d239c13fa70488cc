import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Queue } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { bullConnection, bullPrefix } from '../release-queue/bullmq-connection';

export const TIMERS_QUEUE = 'policy-timers';
/** A pending approval request reaches its end unanswered. */
export const APPROVAL_EXPIRY_JOB = 'approval-expiry';
/** The turn of an exclusive credential's first waiter ends. */
export const QUEUE_TURN_JOB = 'queue-turn-end';

/** What a timer job carries: an id, never more. */
export type TimerJob = { approvalId: string } | { queueId: string };

/**
 * Delayed jobs for what must happen at a time: an approval request expiring, a queue turn ending. One job per
 * thing, its id derived from the thing's id, so scheduling twice (a retry, the reconciler) never doubles it;
 * PostgreSQL decides what the job does, and the reconciler covers a lost one.
 */
@Injectable()
export class ApprovalTimers implements OnApplicationShutdown {
  private readonly logger = new Logger(ApprovalTimers.name);
  readonly queue: Queue<TimerJob>;

  constructor() {
    this.queue = new Queue<TimerJob>(TIMERS_QUEUE, {
      connection: { ...bullConnection(), enableOfflineQueue: false },
      prefix: bullPrefix(),
      telemetry: new BullMQOtel({ tracerName: 'policy-approval' }),
      defaultJobOptions: { attempts: 10, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 },
    });
    this.queue.on('error', (error) => this.logger.warn({ err: error.name }, 'timer queue connection error'));
  }

  expireAt(approvalId: string, at: Date): Promise<void> {
    return this.add(APPROVAL_EXPIRY_JOB, `approval-expiry-${approvalId}`, { approvalId }, at);
  }

  turnEndsAt(queueId: string, at: Date): Promise<void> {
    return this.add(QUEUE_TURN_JOB, `queue-turn-${queueId}`, { queueId }, at);
  }

  /** A queue out of reach is logged, never the caller's failure: the reconciler reads PostgreSQL and schedules again. */
  private async add(name: string, jobId: string, data: TimerJob, at: Date): Promise<void> {
    try {
      if (await this.queue.getJob(jobId)) return;
      await this.queue.add(name, data, { jobId, delay: Math.max(0, at.getTime() - Date.now()) });
    } catch (error) {
      this.logger.warn({ msg: 'timer not scheduled now: the reconciler covers it', job: name, err: (error as Error).name });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.close();
  }
}
