import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENTS, LEASE_EVENTS_STREAM } from '@openecm/contracts';
import { NatsConnectionProvider, consumeDurably, ensureEventStream, eventSubjectOf, type DurableConsumer } from '@openecm/messaging';
import { JumpItemsService } from './jump-items.service';

/** The durable consumer is named after the service, as its bus role grants; every instance pulls from it. */
export const DURABLE_NAME = 'policy-approval';

/**
 * Turns opened leases into recent jump items: the lease event stream is the record that an injection happened,
 * whichever instance opened it, and a consumer that was down catches up. Only an opened lease on an endpoint the
 * user was shown as a jump item records anything.
 */
@Injectable()
export class JumpItemUsesConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JumpItemUsesConsumer.name);
  private consumer?: DurableConsumer;

  constructor(
    private readonly nats: NatsConnectionProvider,
    private readonly jumpItems: JumpItemsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.get();
    const stream = await ensureEventStream(await nc.jetstreamManager(), LEASE_EVENTS_STREAM);
    this.consumer = await consumeDurably(nc, stream, DURABLE_NAME, (subject, data, sequence) => this.handle(subject, data, sequence));
  }

  async onApplicationShutdown(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
  }

  /** Throws only for what may succeed later (Redis or Postgres out of reach), so the event comes again. */
  private async handle(qualifiedSubject: string, data: unknown, sequence: number): Promise<void> {
    if (eventSubjectOf(qualifiedSubject) !== 'policy.lease.opened.v1') return;
    const parsed = EVENTS['policy.lease.opened.v1'].safeParse(data);
    if (!parsed.success) {
      this.logger.warn({ msg: 'opened-lease event of an unexpected shape skipped', sequence });
      return;
    }
    await this.jumpItems.recordUse(parsed.data.user, parsed.data.endpoint, new Date(parsed.data.at));
  }
}
