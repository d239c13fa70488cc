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
    await publishEvent(await this.nats.jetstream(), subject, event, `${event.leaseId}:${subject}`);
  }
}
