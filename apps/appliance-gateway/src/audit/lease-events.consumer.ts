import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENTS, LEASE_EVENTS_STREAM, type AuditKind, type EventSubject } from '@openecm/contracts';
import { NatsConnectionProvider, consumeDurably, ensureEventStream, eventSubjectOf, type DurableConsumer } from '@openecm/messaging';
import { AuditTrail } from './audit-trail.service';

/** Every gateway instance pulls from this one durable, so each event is recorded by one of them. */
export const DURABLE_NAME = 'appliance-gateway';

/** The lease facts the gateway never sees itself: a release at expiry, the rotation, its failure. */
const KIND: Partial<Record<EventSubject, AuditKind>> = {
  'policy.lease.released.v1': 'lease.expired',
  'policy.lease.rotated.v1': 'lease.rotated',
  'policy.lease.failed.v1': 'lease.failed',
  'policy.lease.revoked.v1': 'lease.revoked',
  'policy.access.emergency.v1': 'access.emergency',
  'policy.approval.decided.v1': 'approval.decided',
};

/** What a record keeps of an event besides its common fields: identifiers and outcomes, never a secret. */
const DETAIL_FIELDS = ['message', 'reason', 'by', 'policy', 'approvalId', 'approver', 'status'] as const;

/** Records policy-approval's lease events in the audit trail, each once (by its stream sequence). */
/** Lease events handled at once in each instance. */
const EVENTS_IN_FLIGHT = 64;

@Injectable()
export class AuditLeaseEvents implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('audit');
  private consumer?: DurableConsumer;
  private stream = '';

  constructor(
    private readonly nats: NatsConnectionProvider,
    private readonly trail: AuditTrail,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const nc = await this.nats.get();
    this.stream = await ensureEventStream(await nc.jetstreamManager(), LEASE_EVENTS_STREAM);
    // many at once: the records of the events that arrive while an insert runs go together in the next (AuditTrail),
    // still in stream order, since each handler hands its record over before it first waits
    this.consumer = await consumeDurably(nc, this.stream, DURABLE_NAME, (subject, data, sequence) => this.handle(subject, data, sequence), {
      concurrency: EVENTS_IN_FLIGHT,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
  }

  /** Throws only when the record cannot be written now, so the event is delivered again. */
  private async handle(qualifiedSubject: string, data: unknown, sequence: number): Promise<void> {
    const subject = eventSubjectOf(qualifiedSubject);
    const kind = subject ? KIND[subject] : undefined;
    if (!subject || !kind) return;
    const parsed = EVENTS[subject].safeParse(data);
    if (!parsed.success) {
      this.logger.warn({ msg: 'invalid lease event not recorded', subject, sequence });
      return;
    }
    const event = parsed.data as Record<string, unknown> & { leaseId?: string; user: string; endpoint: string; vault: string; credentialName: string; sessionId: string; at: string };
    if (kind === 'lease.expired' && event['releasedBy'] !== 'expiry') return;
    const outcome =
      kind === 'lease.failed' ? String(event['code'])
      : kind === 'lease.rotated' && event['rotated'] === false ? 'not-rotated'
      : kind === 'approval.decided' ? String(event['status'])
      : 'ok';
    const details = Object.fromEntries(DETAIL_FIELDS.filter((f) => event[f] !== undefined && event[f] !== null).map((f) => [f, event[f]]));
    await this.trail.record(
      {
        kind,
        actor: null,
        user: event.user,
        endpoint: event.endpoint,
        vault: event.vault,
        credential: event.credentialName,
        leaseId: event.leaseId ?? null,
        outcome,
        details: { sessionId: event.sessionId, eventAt: event.at, ...details },
      },
      `${this.stream}:${sequence}`,
    );
  }
}
