import { z } from 'zod';

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
});

export const EVENTS = {
  'policy.lease.opened.v1': LeaseEventBase.extend({ releaseAt: z.string() }),
  'policy.lease.released.v1': LeaseEventBase.extend({ releasedBy: z.enum(['appliance', 'expiry']) }),
  'policy.lease.rotated.v1': LeaseEventBase.extend({ rotated: z.boolean() }),
  'policy.lease.failed.v1': LeaseEventBase.extend({ code: z.string(), message: z.string() }),
} as const;

export type EventSubject = keyof typeof EVENTS;
export type EventOf<E extends EventSubject> = z.infer<(typeof EVENTS)[E]>;

/** The JetStream stream that keeps the lease lifecycle (name is qualified by the namespace). */
export const LEASE_EVENTS_STREAM = 'LEASE_EVENTS';

export function streamName(base: string, namespace: string | undefined): string {
  return namespace ? `${namespace.toUpperCase().replace(/-/g, '_')}_${base}` : base;
}
