import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { LeaseRepository } from '../leases/lease.repository';
import { ReleaseProducer } from './release.producer';

/**
 * Postgres is the source of truth, BullMQ only executes: at start and on an interval, every lease that still
 * needs a check-in gets its job (again). A Redis that lost its data therefore loses no rotation.
 */
/** An injection schedules its own lease's job; the reconciler covers it only if that did not happen. */
const RECENT_OPEN_GRACE_SECONDS = 30;

@Injectable()
export class ReleaseReconciler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReleaseReconciler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly leases: LeaseRepository,
    private readonly producer: ReleaseProducer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { RECONCILE_INTERVAL_MS } = loadConfig(policyConfig);
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), RECONCILE_INTERVAL_MS);
    this.timer.unref();
  }

  reconcile(): Promise<number> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<number> {
    try {
      const open = await this.leases.open(RECENT_OPEN_GRACE_SECONDS);
      for (const lease of open) {
        await this.producer.schedule(lease.id, lease.state === 'active' ? lease.release_at : new Date());
      }
      return open.length;
    } catch (error) {
      this.logger.warn({ err: (error as Error).name }, 'reconciling leases failed; next round will retry');
      return 0;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
