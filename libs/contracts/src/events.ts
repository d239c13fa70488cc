import { z } from 'zod';

const TraceId = z.string().regex(/^[0-9a-f]{32}$/, 'a W3C trace id');

/** Lease lifecycle facts; published to JetStream, never carrying a secret or a vault request id. */
const LeaseEventBase = z.strictObject({
  leaseId: z.string().uuid(),
  user: z.string(),
  endpoint: z.string(),
  sessionId: z.string(),
  vault: z.string(),
  credentialName: z.string(),
  username: z.string(),
  at: z.string(),
  /** The W3C trace id of the flow that caused the event. */
  traceId: TraceId.optional(),
});

const ApprovalEventBase = z.strictObject({
  eventId: z.string().uuid(),
  approvalId: z.string().uuid(),
  user: z.string(),
  endpoint: z.string(),
  sessionId: z.string(),
  vault: z.string(),
  credentialName: z.string(),
  policy: z.string(),
  at: z.string(),
  traceId: TraceId.optional(),
});

export const EVENTS = {
  'policy.lease.opened.v1': LeaseEventBase.extend({
    releaseAt: z.string(),
    /** The access policy that granted it, the approval it was opened with, and whether it is emergency access. */
    policy: z.string().optional(),
    approvalId: z.string().uuid().optional(),
    emergency: z.boolean().optional(),
  }),
  'policy.lease.released.v1': LeaseEventBase.extend({ releasedBy: z.enum(['appliance', 'expiry', 'revocation']) }),
  /** An admin revoked the lease (or the approval it was opened with): released and rotated at once, the appliance session ended. */
  'policy.lease.revoked.v1': LeaseEventBase.extend({ reason: z.string(), by: z.string(), approvalId: z.string().uuid().nullable() }),
  /** Emergency access granted without approvers: always announced, with the reason given. */
  'policy.access.emergency.v1': LeaseEventBase.extend({ policy: z.string(), reason: z.string() }),
  'policy.lease.rotated.v1': LeaseEventBase.extend({ rotated: z.boolean() }),
  'policy.lease.failed.v1': LeaseEventBase.extend({
    code: z.string(),
    message: z.string(),
    /** Where it failed: the check-out of an injection, or the check-in and rotation after the release (absent: release). */
    phase: z.enum(['checkout', 'release']).optional(),
  }),
  /**
   * A list answered for a session the appliance named: the names offered, never a secret or an opaque id. A list
   * without a session is not published (the audit trail has it); `sessionId` stays optional in the schema, as an
   * earlier release published those too and they may still be in the stream.
   */
  'policy.credentials.listed.v1': z.strictObject({
    /** One per list answered: the idempotency key of the fact. */
    eventId: z.string().uuid(),
    user: z.string(),
    endpoint: z.string(),
    sessionId: z.string().optional(),
    credentials: z.array(z.strictObject({ name: z.string(), vault: z.string() })),
    at: z.string(),
    traceId: TraceId.optional(),
  }),
  /** An injection refused or failed before a secret went out: the error code, never a vault's message with values. */
  'policy.injection.failed.v1': z.strictObject({
    eventId: z.string().uuid(),
    user: z.string(),
    endpoint: z.string(),
    sessionId: z.string(),
    credentialName: z.string().nullable(),
    vault: z.string().nullable(),
    leaseId: z.string().uuid().nullable(),
    code: z.string(),
    at: z.string(),
    traceId: TraceId.optional(),
  }),
  /** An injection waits for approvers: who asked for what, under which policy, until when. */
  'policy.approval.requested.v1': ApprovalEventBase.extend({
    required: z.number().int(),
    approverGroups: z.array(z.string()),
    reason: z.string().nullable(),
    expiresAt: z.string(),
  }),
  /** An approval request reached its end: approved (the last required approval), denied, expired unanswered, or revoked. */
  'policy.approval.decided.v1': ApprovalEventBase.extend({
    status: z.enum(['approved', 'denied', 'expired', 'revoked']),
    /** Who decided last (null when it expired). */
    approver: z.string().nullable(),
    /** Approved: until when the injection may be repeated to check out. */
    expiresAt: z.string(),
  }),
  /** The first waiter for an exclusive credential may now inject it, until `turnUntil`. */
  'policy.queue.turn.v1': z.strictObject({
    eventId: z.string().uuid(),
    queueId: z.string().uuid(),
    user: z.string(),
    endpoint: z.string(),
    vault: z.string(),
    credentialName: z.string(),
    turnUntil: z.string(),
    at: z.string(),
    traceId: TraceId.optional(),
  }),
} as const;

export type EventSubject = keyof typeof EVENTS;
export type EventOf<E extends EventSubject> = z.infer<(typeof EVENTS)[E]>;

/** The JetStream stream that keeps the lease lifecycle (name is qualified by the namespace). */
export const LEASE_EVENTS_STREAM = 'LEASE_EVENTS';
/**
 * The stream that keeps what was listed, apart from the lease lifecycle: a list is the busiest event by far
 * and only session reporting reads it, so the other consumers of the lease lifecycle never receive it.
 */
export const LISTINGS_STREAM = 'CREDENTIAL_LISTINGS';
export const LISTING_EVENTS: readonly EventSubject[] = ['policy.credentials.listed.v1'];
/** Every event but the listings: the lease lifecycle, approvals and the queue. */
export const LEASE_STREAM_EVENTS: readonly EventSubject[] = (Object.keys(EVENTS) as EventSubject[]).filter((e) => !LISTING_EVENTS.includes(e));

export function streamName(base: string, namespace: string | undefined): string {
  return namespace ? `${namespace.toUpperCase().replace(/-/g, '_')}_${base}` : base;
}
