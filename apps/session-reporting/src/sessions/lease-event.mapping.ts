import { EVENTS, OpenEcmError, parseOrThrow, type EventOf, type EventSubject } from '@openecm/contracts';

/** The `session_event.type` values this service writes; the first matches the vendor's vault-activity report. */
export const SESSION_EVENT_TYPES = {
  credentialsUsed: 'Credentials Used',
  credentialsReleased: 'Credentials Released',
  credentialRotated: 'Credential Rotated',
  credentialCheckedIn: 'Credential Checked In',
  credentialReleaseFailed: 'Credential Release Failed',
} as const;

export type SessionEventType = (typeof SESSION_EVENT_TYPES)[keyof typeof SESSION_EVENT_TYPES];
export type PerformedByType = 'representative' | 'system';

/** What one lease event becomes: a `session_event` row of session `sessionLsid` and its `session_event_data` rows. */
export interface SessionEventRecord {
  sessionLsid: string;
  type: SessionEventType;
  performedByType: PerformedByType;
  performedBy: string;
  destination: string;
  timestamp: Date;
  eventKey: string;
  data: Array<{ name: string; value: string }>;
}

interface Classified {
  type: SessionEventType;
  performedByType: PerformedByType;
  extra: Record<string, string>;
}

// A mapped type over every event subject: a new event in the contracts does not compile here until it is mapped.
const CLASSIFY: { [E in EventSubject]: (event: EventOf<E>) => Classified } = {
  'policy.lease.opened.v1': (e) => ({
    type: SESSION_EVENT_TYPES.credentialsUsed,
    performedByType: 'representative',
    extra: { releaseAt: e.releaseAt },
  }),
  'policy.lease.released.v1': (e) => ({
    type: SESSION_EVENT_TYPES.credentialsReleased,
    // the appliance releases when the representative's session ends; expiry is OpenECM acting alone
    performedByType: e.releasedBy === 'appliance' ? 'representative' : 'system',
    extra: { releasedBy: e.releasedBy },
  }),
  'policy.lease.rotated.v1': (e) => ({
    // a check-in without a password change must not count as a rotation on a dashboard
    type: e.rotated ? SESSION_EVENT_TYPES.credentialRotated : SESSION_EVENT_TYPES.credentialCheckedIn,
    performedByType: 'system',
    extra: { rotated: String(e.rotated) },
  }),
  'policy.lease.failed.v1': (e) => ({
    type: SESSION_EVENT_TYPES.credentialReleaseFailed,
    performedByType: 'system',
    extra: { code: e.code, message: e.message },
  }),
};

function classify<E extends EventSubject>(subject: E, event: EventOf<E>): Classified {
  const fn: (event: EventOf<E>) => Classified = CLASSIFY[subject];
  return fn(event);
}

/**
 * Validates a lease event against its contract and maps it to the session-event row it becomes.
 * Throws VALIDATION_FAILED for an event that can never be stored (so it is not redelivered forever).
 */
export function toSessionEvent<E extends EventSubject>(subject: E, payload: unknown): SessionEventRecord {
  // zod cannot carry the generic through the indexed schema; the schema parsed is exactly EVENTS[subject]
  const event = parseOrThrow(EVENTS[subject], payload, subject) as EventOf<E>;
  const timestamp = new Date(event.at);
  if (Number.isNaN(timestamp.getTime())) {
    throw new OpenEcmError('VALIDATION_FAILED', `invalid ${subject}: at (not a timestamp)`, [{ field: 'at', message: 'not a timestamp' }]);
  }
  const { type, performedByType, extra } = classify(subject, event);
  const common = { leaseId: event.leaseId, vault: event.vault, credentialName: event.credentialName, username: event.username };
  return {
    sessionLsid: event.sessionId,
    type,
    performedByType,
    performedBy: event.user,
    destination: event.endpoint,
    timestamp,
    // The fact itself, not the stream sequence: a republished copy (new sequence) and a replay into a
    // recreated stream (sequences restart) must still be recognised.
    eventKey: `${subject}:${event.leaseId}:${timestamp.toISOString()}`,
    data: Object.entries({ ...common, ...extra }).map(([name, value]) => ({ name, value })),
  };
}
