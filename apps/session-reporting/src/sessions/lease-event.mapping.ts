import { EVENTS, OpenEcmError, SESSION_EVENT_TYPES, parseOrThrow, type EventOf, type EventSubject } from '@openecm/contracts';
import type { SessionAttributes, SessionEventRecord } from './session-event.record';

export { SESSION_EVENT_TYPES };
export type { SessionEventRecord };
export type PerformedByType = 'representative' | 'system';

interface Classified {
  type: string;
  performedByType: PerformedByType;
  /** Where the fact lives: a lease event's lease, or the event's own id. */
  key: string;
  sessionLsid: string | undefined;
  credentialName: string | null;
  vault: string | null;
  leaseId: string | null;
  extra: Record<string, string>;
  session: SessionAttributes;
}

type LeaseEvent = Pick<EventOf<'policy.lease.opened.v1'>, 'leaseId' | 'at' | 'sessionId' | 'credentialName' | 'vault' | 'username'>;
const ofLease = (e: LeaseEvent) => ({
  key: `${e.leaseId}:${new Date(e.at).toISOString()}`,
  sessionLsid: e.sessionId,
  credentialName: e.credentialName,
  vault: e.vault,
  leaseId: e.leaseId,
});
const leaseData = (e: LeaseEvent) => ({ leaseId: e.leaseId, vault: e.vault, credentialName: e.credentialName, username: e.username });

// A mapped type over every event subject: a new event in the contracts does not compile here until it is mapped.
const CLASSIFY: { [E in EventSubject]: (event: EventOf<E>) => Classified } = {
  'policy.lease.opened.v1': (e) => ({
    ...ofLease(e),
    type: SESSION_EVENT_TYPES.credentialsUsed,
    performedByType: 'representative',
    extra: { ...leaseData(e), releaseAt: e.releaseAt, ...(e.policy ? { policy: e.policy } : {}), ...(e.approvalId ? { approvalId: e.approvalId } : {}) },
    session: {
      credential: e.credentialName,
      vault: e.vault,
      leaseId: e.leaseId,
      ...(e.approvalId ? { approvalId: e.approvalId } : {}),
      ...(e.emergency ? { emergency: true } : {}),
    },
  }),
  'policy.lease.revoked.v1': (e) => ({
    ...ofLease(e),
    type: SESSION_EVENT_TYPES.credentialRevoked,
    performedByType: 'system',
    extra: { ...leaseData(e), reason: e.reason, by: e.by },
    session: {},
  }),
  'policy.access.emergency.v1': (e) => ({
    ...ofLease(e),
    type: SESSION_EVENT_TYPES.emergencyAccess,
    performedByType: 'representative',
    extra: { ...leaseData(e), policy: e.policy, reason: e.reason },
    session: { emergency: true },
  }),
  'policy.approval.requested.v1': (e) => ({
    key: e.eventId,
    sessionLsid: e.sessionId,
    type: SESSION_EVENT_TYPES.approvalRequested,
    performedByType: 'representative',
    credentialName: e.credentialName,
    vault: e.vault,
    leaseId: null,
    extra: { approvalId: e.approvalId, policy: e.policy, required: String(e.required), ...(e.reason ? { reason: e.reason } : {}) },
    session: { approvalId: e.approvalId },
  }),
  'policy.approval.decided.v1': (e) => ({
    key: e.eventId,
    sessionLsid: e.sessionId,
    type: SESSION_EVENT_TYPES.approvalDecided,
    performedByType: e.approver ? 'representative' : 'system',
    credentialName: e.credentialName,
    vault: e.vault,
    leaseId: null,
    extra: { approvalId: e.approvalId, policy: e.policy, status: e.status, ...(e.approver ? { approver: e.approver } : {}) },
    session: { approvalId: e.approvalId },
  }),
  // a turn belongs to no appliance session yet: the waiter's next injection names one
  'policy.queue.turn.v1': (e) => ({
    key: e.eventId,
    sessionLsid: undefined,
    type: SESSION_EVENT_TYPES.queueTurn,
    performedByType: 'system',
    credentialName: e.credentialName,
    vault: e.vault,
    leaseId: null,
    extra: { queueId: e.queueId, turnUntil: e.turnUntil },
    session: {},
  }),
  'policy.lease.released.v1': (e) => ({
    ...ofLease(e),
    type: SESSION_EVENT_TYPES.credentialsReleased,
    // the appliance releases when the representative's session ends; expiry is OpenECM acting alone
    performedByType: e.releasedBy === 'appliance' ? 'representative' : 'system',
    extra: { ...leaseData(e), releasedBy: e.releasedBy },
    session: {},
  }),
  'policy.lease.rotated.v1': (e) => ({
    ...ofLease(e),
    // a check-in without a password change must not count as a rotation on a dashboard
    type: e.rotated ? SESSION_EVENT_TYPES.credentialRotated : SESSION_EVENT_TYPES.credentialCheckedIn,
    performedByType: 'system',
    extra: { ...leaseData(e), rotated: String(e.rotated) },
    session: {},
  }),
  'policy.lease.failed.v1': (e) => ({
    ...ofLease(e),
    // a failed check-out is not a failed rotation: the rotations-failed card must not count it
    type: e.phase === 'checkout' ? SESSION_EVENT_TYPES.credentialCheckoutFailed : SESSION_EVENT_TYPES.credentialReleaseFailed,
    performedByType: 'system',
    extra: { ...leaseData(e), code: e.code, message: e.message },
    session: {},
  }),
  'policy.credentials.listed.v1': (e) => ({
    key: e.eventId,
    sessionLsid: e.sessionId,
    type: SESSION_EVENT_TYPES.credentialsListed,
    performedByType: 'representative',
    credentialName: null,
    vault: null,
    leaseId: null,
    // names only: the event carries nothing else of a credential
    extra: Object.fromEntries([
      ['count', String(e.credentials.length)],
      ...e.credentials.map((c, i) => [`credential.${i + 1}`, `${c.vault}: ${c.name}`]),
    ]),
    session: {},
  }),
  'policy.injection.failed.v1': (e) => ({
    key: e.eventId,
    sessionLsid: e.sessionId,
    type: SESSION_EVENT_TYPES.credentialRequestFailed,
    performedByType: 'representative',
    credentialName: e.credentialName,
    vault: e.vault,
    leaseId: e.leaseId,
    extra: Object.fromEntries(
      Object.entries({ code: e.code, credentialName: e.credentialName, vault: e.vault, leaseId: e.leaseId }).filter(
        (entry): entry is [string, string] => entry[1] !== null,
      ),
    ),
    session: {},
  }),
};

function classify<E extends EventSubject>(subject: E, event: EventOf<E>): Classified {
  const fn: (event: EventOf<E>) => Classified = CLASSIFY[subject];
  return fn(event);
}

/**
 * Validates a broker event against its contract and maps it to the session-event row it becomes; null for an
 * event that belongs to no appliance session (a list the appliance named no session for).
 * Throws VALIDATION_FAILED for an event that can never be stored (so it is not redelivered forever).
 */
export function toSessionEvent<E extends EventSubject>(subject: E, payload: unknown): SessionEventRecord | null {
  // zod cannot carry the generic through the indexed schema; the schema parsed is exactly EVENTS[subject]
  const event = parseOrThrow(EVENTS[subject], payload, subject) as EventOf<E> & { user: string; endpoint: string; at: string; traceId?: string };
  const timestamp = new Date(event.at);
  if (Number.isNaN(timestamp.getTime())) {
    throw new OpenEcmError('VALIDATION_FAILED', `invalid ${subject}: at (not a timestamp)`, [{ field: 'at', message: 'not a timestamp' }]);
  }
  const c = classify(subject, event);
  if (!c.sessionLsid) return null;
  const traceId = event.traceId ?? null;
  return {
    sessionLsid: c.sessionLsid,
    type: c.type,
    performedByType: c.performedByType,
    performedBy: event.user,
    destination: event.endpoint,
    timestamp,
    // The fact itself, not the stream sequence: a republished copy (new sequence) and a replay into a
    // recreated stream (sequences restart) must still be recognised.
    eventKey: `${subject}:${c.key}`,
    source: 'broker',
    traceId,
    leaseId: c.leaseId,
    credentialName: c.credentialName,
    vault: c.vault,
    data: Object.entries(c.extra).map(([name, value]) => ({ name, value })),
    session: { user: event.user, endpoint: event.endpoint, ...(traceId ? { traceId } : {}), ...c.session },
  };
}
