import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { LEASE_EVENTS_STREAM, LISTINGS_STREAM, type EventOf, type EventSubject } from '@openecm/contracts';
import { NatsConnectionProvider, ensureEventStream, publishEvent } from '@openecm/messaging';

/** Publishes the lease lifecycle and the listings to JetStream; the lease id and event name make the dedupe key. */
@Injectable()
export class LeaseEvents implements OnApplicationBootstrap {
  constructor(private readonly nats: NatsConnectionProvider) {}

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.get();
    const jsm = await nc.jetstreamManager();
    // the lease stream first: one of an earlier release gives the listings' subject up before their stream takes it
    await ensureEventStream(jsm, LEASE_EVENTS_STREAM);
    await ensureEventStream(jsm, LISTINGS_STREAM);
  }

  async publish<E extends EventSubject>(subject: E, event: EventOf<E>): Promise<void> {
    // a lease event is one per lease and kind; the other events carry an id of their own
    const { eventId, leaseId } = event as { eventId?: string; leaseId?: string | null };
    await publishEvent(await this.nats.jetstream(), subject, event, `${eventId ?? leaseId}:${subject}`);
  }
}
