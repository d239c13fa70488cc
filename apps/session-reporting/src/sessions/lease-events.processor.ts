import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LEASE_EVENTS_STREAM, LISTINGS_STREAM, OpenEcmError } from '@openecm/contracts';
import { NatsConnectionProvider, consumeDurably, ensureEventStream, eventSubjectOf, type DurableConsumer } from '@openecm/messaging';
import { metricsRegistry } from '@openecm/telemetry';
import { Counter } from 'prom-client';
import { toSessionEvent, type SessionEventRecord } from './lease-event.mapping';
import { SessionEventsService } from './session-events.service';

/** Every instance pulls from this one durable, so instances share the events and a restart resumes where it stopped. */
export const DURABLE_NAME = 'session-reporting';

/** Events of each stream handled at once in each instance: what one batch written to PostgreSQL can take. */
const EVENTS_IN_FLIGHT = 128;

const handled = new Counter({
  name: 'openecm_session_reporting_events_total',
  help: 'Broker events handled by session reporting, by subject and outcome (recorded, duplicate, rejected, sessionless)',
  labelNames: ['subject', 'outcome'],
  registers: [metricsRegistry],
});

/** Turns the lease lifecycle and the listings into session events. */
@Injectable()
export class LeaseEventsProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LeaseEventsProcessor.name);
  private consumers: DurableConsumer[] = [];

  constructor(
    private readonly nats: NatsConnectionProvider,
    private readonly sessions: SessionEventsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.get();
    // policy-approval ensures the same streams; whichever starts first creates them, so neither depends on the other
    const jsm = await nc.jetstreamManager();
    for (const base of [LEASE_EVENTS_STREAM, LISTINGS_STREAM]) {
      const stream = await ensureEventStream(jsm, base);
      // many at once, so the events that arrive while a batch is written go together in the next (one transaction)
      this.consumers.push(
        await consumeDurably(nc, stream, DURABLE_NAME, (subject, data, sequence) => this.handle(subject, data, sequence), { concurrency: EVENTS_IN_FLIGHT }),
      );
    }
  }

  // Global modules (the NATS connection, the DataSource) shut down after this app module, so the message in
  // flight is still written and acknowledged before either closes.
  async onApplicationShutdown(): Promise<void> {
    const consumers = this.consumers.splice(0);
    await Promise.all(consumers.map((c) => c.stop()));
  }

  /**
   * Throws only for what may succeed later (Postgres unavailable), so the event is redelivered. An event
   * that can never be stored is logged by its stream sequence, without its values, and acknowledged: it
   * stays in the stream for inspection instead of being redelivered forever. Log messages go inside the
   * object: Nest's Logger would pass a second string argument on as the context.
   */
  private async handle(qualifiedSubject: string, data: unknown, sequence: number): Promise<void> {
    const subject = eventSubjectOf(qualifiedSubject);
    if (!subject) {
      handled.inc({ subject: 'unknown', outcome: 'rejected' });
      this.logger.warn({ msg: 'lease event with an unknown subject skipped', subject: qualifiedSubject, sequence });
      return;
    }
    let record: SessionEventRecord | null;
    try {
      record = toSessionEvent(subject, data);
    } catch (error) {
      if (!(error instanceof OpenEcmError) || error.code !== 'VALIDATION_FAILED') throw error;
      handled.inc({ subject, outcome: 'rejected' });
      this.logger.warn({ msg: 'invalid lease event skipped', subject, sequence, fields: error.fields });
      return;
    }
    // a list the appliance named no session for belongs to no session: the audit trail has it
    if (!record) {
      handled.inc({ subject, outcome: 'sessionless' });
      return;
    }
    handled.inc({ subject, outcome: await this.sessions.record(record) });
  }
}
