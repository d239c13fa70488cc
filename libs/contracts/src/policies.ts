import { z } from 'zod';
import { Endpoint, UserName, VaultName } from './model';

/**
 * Access policies, requester groups, approvals and the exclusive-credential queue: the shapes the admin API,
 * the approvals API and policy-approval share.
 */

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const Weekday = z.enum(WEEKDAYS);

/** A name of a policy or group as an admin gives it: what the URL path carries. */
export const PolicyName = z
  .string()
  .trim()
  .min(1)
  .max(128)
  .refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters')
  .meta({ description: 'The name of an access policy.', examples: ['Secure Remote Access Approval Policy'] });
export const GroupName = PolicyName.meta({ description: 'The name of a requester or approver group.', examples: ['Secure Remote Access Requesters'] });

const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a local time HH:MM (00:00 to 24:00)');

/** A time zone the runtime knows (IANA name). */
const TimeZone = z
  .string()
  .min(1)
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'an IANA time zone such as Europe/Berlin')
  .meta({ examples: ['Europe/Berlin'] });

/** An ISO date (local midnight in the schedule's zone) or an instant with its offset. */
const ScheduleBound = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

export const ScheduleWindow = z
  .strictObject({
    days: z.array(Weekday).min(1).max(7).refine((d) => new Set(d).size === d.length, 'each day at most once'),
    from: LocalTime.refine((v) => v !== '24:00', 'a window starts before 24:00'),
    to: LocalTime,
  })
  .refine((w) => w.from !== w.to, { message: 'a window must not start where it ends', path: ['to'] })
  .meta({ description: 'Open from `from` on each of `days` until `to`, local time; `to` before `from` crosses midnight into the next day.' });

export const PolicySchedule = z
  .strictObject({
    timeZone: TimeZone,
    windows: z.array(ScheduleWindow).max(32).default([]),
    startsAt: ScheduleBound.optional(),
    endsAt: ScheduleBound.optional(),
  })
  .refine((s) => !s.startsAt || !s.endsAt || boundValue(s.startsAt) < boundValue(s.endsAt), { message: 'must be after startsAt', path: ['endsAt'] })
  .meta({ description: 'When the policy applies: no windows is always, within startsAt (inclusive) and endsAt (exclusive).' });
export type PolicySchedule = z.output<typeof PolicySchedule>;

function boundValue(bound: string): string {
  return bound.length === 10 ? `${bound}T00:00:00Z` : new Date(bound).toISOString();
}

export const ApprovalRule = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('auto') }),
  z
    .strictObject({
      mode: z.literal('manual'),
      approverGroups: z.array(GroupName).min(1).max(16),
      required: z.number().int().min(1).max(16).default(1),
      expiresAfterMinutes: z.number().int().min(1).max(7 * 24 * 60).default(60),
    })
    .refine((a) => a.required === 1 || a.required <= new Set(a.approverGroups.map((g) => g.toLowerCase())).size, {
      message: 'with more than one approver required, each is counted for a different approver group: at most as many as there are groups',
      path: ['required'],
    }),
]);
export type ApprovalRule = z.output<typeof ApprovalRule>;

/** A glob: `*` any run of characters, `?` one; matched case-insensitively. */
const Glob = z.string().min(1).max(256);

export const PolicyScope = z
  .strictObject({
    vaults: z.array(VaultName).min(1).max(64).optional(),
    endpoints: z.array(Glob).min(1).max(256).optional(),
    accounts: z.array(Glob).min(1).max(256).optional(),
  })
  .meta({ description: 'Narrows the policy to some vaults, endpoints (globs such as `srv-*.corp.example`) and credential names (globs); absent: all.' });
export type PolicyScope = z.output<typeof PolicyScope>;

/** A policy as an admin writes it (`PUT /api/v1/admin/policies/{name}`). */
export const AccessPolicyDefinition = z.strictObject({
  description: z.string().max(1000).optional(),
  schedule: PolicySchedule.default({ timeZone: 'UTC', windows: [] }),
  approval: ApprovalRule.default({ mode: 'auto' }),
  requireReason: z.boolean().default(false),
  maxReleaseMinutes: z.number().int().min(1).max(7 * 24 * 60).optional(),
  exclusive: z.boolean().default(false),
  emergency: z.strictObject({ allowed: z.boolean().default(false) }).default({ allowed: false }),
  scope: PolicyScope.optional(),
});
export type AccessPolicyDefinition = z.output<typeof AccessPolicyDefinition>;

export const AccessPolicyView = AccessPolicyDefinition.extend({
  name: z.string(),
  groups: z.array(z.string()),
  updatedAt: z.string(),
});
export type AccessPolicyView = z.infer<typeof AccessPolicyView>;

export const PolicyPath = z.strictObject({ name: PolicyName });
export const GroupDefinition = z.strictObject({ policies: z.array(PolicyName).max(64) });
export const GroupView = z.strictObject({ name: z.string(), policies: z.array(z.string()), members: z.number().int().nonnegative() });
export const GroupsPath = z.strictObject({ name: GroupName });

// ---- approvals ----

export const ApprovalStatus = z.enum(['pending', 'approved', 'denied', 'expired', 'revoked']);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

export const ApprovalDecisionView = z.strictObject({
  approver: z.string(),
  decision: z.enum(['approve', 'deny']),
  /** The approver group the approval counted for; null for a denial. */
  group: z.string().nullable(),
  comment: z.string().nullable(),
  at: z.string(),
});

export const ApprovalView = z.strictObject({
  approvalId: z.string().uuid(),
  status: ApprovalStatus,
  user: z.string(),
  endpoint: z.string(),
  sessionId: z.string(),
  vault: z.string(),
  credentialName: z.string(),
  policy: z.string(),
  reason: z.string().nullable(),
  required: z.number().int(),
  approverGroups: z.array(z.string()),
  approvals: z.number().int(),
  decisions: z.array(ApprovalDecisionView),
  createdAt: z.string(),
  /** Pending: when it expires unanswered. Approved: until when the injection may be repeated to check out. */
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  /** The lease the approval was used for, once the injection was repeated. */
  leaseId: z.string().uuid().nullable(),
});
export type ApprovalView = z.infer<typeof ApprovalView>;

export const ApprovalPath = z.strictObject({ approvalId: z.string().uuid() });
export const ApprovalsQuery = z.strictObject({
  status: ApprovalStatus.optional(),
  /** Only the requests this person may still decide (a member of an approver group, not the requester, not yet decided). */
  approver: UserName.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const ApprovalDecisionRequest = z.strictObject({
  approver: UserName,
  decision: z.enum(['approve', 'deny']),
  comment: z.string().trim().max(1000).optional(),
});
export const RevokeRequest = z.strictObject({ reason: z.string().trim().min(1).max(1000) });

/** What an injection answers when an approver must act first (202). */
export const PendingInjection = z.strictObject({
  approvalId: z.string().uuid(),
  status: z.literal('pending'),
  expiresAt: z.string(),
  policy: z.string(),
});
export type PendingInjection = z.infer<typeof PendingInjection>;

// ---- the exclusive-credential queue ----

export const QueueStatus = z.enum(['waiting', 'your-turn', 'served', 'expired']);
export const QueueView = z.strictObject({
  queueId: z.string().uuid(),
  status: QueueStatus,
  /** 1 is next; 0 when it is this waiter's turn (or the wait is over). */
  queuePosition: z.number().int().nonnegative(),
  user: z.string(),
  endpoint: Endpoint,
  vault: z.string(),
  credentialName: z.string(),
  createdAt: z.string(),
  /** Waiting: when the wait times out. Your turn: until when the credential is held for this waiter. */
  expiresAt: z.string(),
});
export type QueueView = z.infer<typeof QueueView>;
export const QueuePath = z.strictObject({ queueId: z.string().uuid() });

/** A revoked lease is always rotated: whoever saw the secret may not keep using it. */
export const RevokedLease = z.strictObject({ leaseId: z.string().uuid(), revokedAt: z.string(), rotation: z.literal('scheduled') });
export const RevokedApproval = z.strictObject({ approvalId: z.string().uuid(), status: z.literal('revoked'), leaseId: z.string().uuid().nullable() });
