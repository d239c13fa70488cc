import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { OpenEcmError } from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { DelayedError, Worker, type Job } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { releaseCheckinFailures, releaseRotationFailed } from '@openecm/telemetry';
import { LeaseEvents } from '../events/lease-events';
import { CredentialQueue } from '../exclusive/credential-queue.service';
import { LeaseRepository, type LeaseRow } from '../leases/lease.repository';
import { eventBase } from '../leases/lease.service';
import { bullConnection, bullPrefix } from './bullmq-connection';
import { RELEASE_JOB, RELEASE_QUEUE, type ReleaseJob } from './release-job';

/** Vault errors that retrying cannot cure: the lease is marked failed at once. */
const FINAL = new Set(['VAULT_FORBIDDEN', 'VAULT_NOT_FOUND', 'VAULT_ACCOUNT_NOT_FOUND', 'VALIDATION_FAILED', 'VAULT_AUTH_FAILED']);

/**
 * Executes releases: an active lease past its due time is released by expiry; a released lease is checked
 * in at the vault, with rotation when its connection asks for it. The lease row is read fresh every time,
 * so a duplicate or stale job does nothing.
 */
@Injectable()
export class ReleaseProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReleaseProcessor.name);
  private worker?: Worker<ReleaseJob>;
  private readonly config = loadConfig(policyConfig);

  constructor(
    private readonly leases: LeaseRepository,
    private readonly bus: Bus,
    private readonly events: LeaseEvents,
    private readonly queue: CredentialQueue,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.RUN_RELEASE_WORKER) return;
    this.worker = new Worker<ReleaseJob>(RELEASE_QUEUE, (job, token) => this.process(job, token), {
      connection: bullConnection(),
      prefix: bullPrefix(),
      telemetry: new BullMQOtel({ tracerName: 'policy-approval' }),
      concurrency: 16,
      settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade, this.config) },
      lockDuration: this.config.RELEASE_JOB_LOCK_MS,
      stalledInterval: this.config.RELEASE_STALLED_CHECK_MS,
    });
    this.worker.on('error', (error) => this.logger.warn({ err: error.name }, 'release worker connection error'));
  }

  async process(job: Job<ReleaseJob>, token?: string): Promise<void> {
    if (job.name !== RELEASE_JOB) throw new Error(`no handler for job ${job.name}`);
    let lease = await this.leases.find(job.data.leaseId);
    if (!lease) return;
    if (lease.state === 'active') {
      if (lease.release_at.getTime() > Date.now()) {
        // scheduled again by the reconciler ahead of time: wait for the due time
        await job.moveToDelayed(lease.release_at.getTime(), token);
        throw new DelayedError();
      }
      const released = await this.leases.markReleased(lease.id, 'expiry');
      if (released) await this.events.publish('policy.lease.released.v1', { ...eventBase(released), releasedBy: 'expiry' });
      lease = (await this.leases.find(lease.id)) as LeaseRow;
    }
    if (lease.state === 'failed' && lease.checkin_due) return this.checkInFailedCheckout(lease);
    if (lease.state !== 'released') return;
    await this.checkIn(job, lease);
  }

  /** A check-out that failed: check in whatever the vault holds for it, rotated as the lease asks. */
  private async checkInFailedCheckout(lease: LeaseRow): Promise<void> {
    const result = await this.bus.request('vault.credentials.checkin.v1', {
      leaseId: lease.id,
      rotate: lease.rotate,
      reason: `OpenECM check-out for session ${lease.session_id} failed`,
    });
    const done = await this.leases.markFailedCheckedIn(lease.id, lease.rotate && result.checkedIn && result.rotationRequested);
    if (done) await this.freed(done);
  }

  /** An exclusive credential is free once its lease is checked in (or given up on): the next waiter's turn. */
  private async freed(lease: LeaseRow): Promise<void> {
    if (!lease.exclusive || !lease.credential_key) return;
    // the reconciler advances the queue should this fail
    await this.queue.advance(lease.credential_key).catch((error: Error) => this.logger.warn({ msg: 'credential queue not advanced', leaseId: lease.id, err: error.name }));
  }

  private async checkIn(job: Job<ReleaseJob>, lease: LeaseRow): Promise<void> {
    try {
      const result = await this.bus.request('vault.credentials.checkin.v1', {
        leaseId: lease.id,
        rotate: lease.rotate,
        reason: `OpenECM session ${lease.session_id} ended`,
      });
      const done = await this.leases.markCheckedIn(lease.id, lease.rotate && result.rotationRequested);
      if (done) {
        await this.events.publish('policy.lease.rotated.v1', { ...eventBase(done), rotated: done.state === 'rotated' });
        await this.freed(done);
      }
    } catch (error) {
      const err = error instanceof OpenEcmError ? error : new OpenEcmError('INTERNAL', 'check-in failed');
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const releasedFor = Date.now() - (lease.released_at ?? lease.release_at).getTime();
      if (FINAL.has(err.code) || lastAttempt || releasedFor >= this.config.ROTATION_RETRY_FOR_MS) {
        const failed = await this.leases.markFailed(lease.id, ['released'], err.code, err.message);
        if (failed) {
          releaseRotationFailed.inc({ code: err.code });
          this.logger.error({ leaseId: lease.id, code: err.code }, 'giving up on the check-in of a released lease');
          await this.events.publish('policy.lease.failed.v1', { ...eventBase(failed), code: err.code, message: err.message, phase: 'release' });
          await this.freed(failed);
        }
        return;
      }
      releaseCheckinFailures.inc({ code: err.code });
      await this.leases.noteRetrying(lease.id, err.code, err.message);
      throw err;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
  }
}

/** Doubling from RELEASE_JOB_BACKOFF_MS up to RELEASE_JOB_BACKOFF_MAX_MS, with up to 20% jitter so retries of many leases spread out. */
export function retryDelay(attemptsMade: number, config: { RELEASE_JOB_BACKOFF_MS: number; RELEASE_JOB_BACKOFF_MAX_MS: number }): number {
  const exponential = config.RELEASE_JOB_BACKOFF_MS * 2 ** Math.min(Math.max(attemptsMade - 1, 0), 30);
  const capped = Math.min(exponential, config.RELEASE_JOB_BACKOFF_MAX_MS);
  return Math.round(capped * (1 - Math.random() * 0.2));
}
