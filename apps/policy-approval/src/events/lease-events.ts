import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { EVENTS, LEASE_EVENTS_STREAM, type EventOf, type EventSubject } from '@openecm/contracts';
import { NatsConnectionProvider, ensureStream, publishEvent } from '@openecm/messaging';

/** Publishes the lease lifecycle to JetStream; the lease id and event name make the dedupe key. */
@Injectable()
export class LeaseEvents implements OnApplicationBootstrap {
  constructor(private readonly nats: NatsConnectionProvider) {}

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.get();
    await ensureStream(await nc.jetstreamManager(), LEASE_EVENTS_STREAM, Object.keys(EVENTS) as EventSubject[]);
  }

  async publish<E extends EventSubject>(subject: E, event: EventOf<E>): Promise<void> {
    // a lease event is one per lease and kind; the other events carry an id of their own
    const { eventId, leaseId } = event as { eventId?: string; leaseId?: string | null };
    await publishEvent(await this.nats.jetstream(), subject, event, `${eventId ?? leaseId}:${subject}`);
  }
}
