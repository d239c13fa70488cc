import { z } from 'zod';
import {
  Endpoint,
  LeaseState,
  LeaseView,
  OfferedCredential,
  PendingVault,
  Protocol,
  Secret,
  UserName,
  VaultCredential,
  VaultName,
  VaultRef,
} from './model';
import {
  JumpItemList,
  JumpItemSettings,
  JumpItemSettingsView,
  JumpItemsQuery,
  RecentJumpItems,
  RecentJumpItemsQuery,
  SystemSearchReply,
  SystemSearchRequest,
} from './jump-items';
import {
  AccessPolicyDefinition,
  AccessPolicyView,
  ApprovalDecisionRequest,
  ApprovalView,
  ApprovalsQuery,
  GroupDefinition,
  GroupName,
  GroupView,
  PendingInjection,
  PolicyName,
  QueueView,
  RevokedApproval,
  RevokedLease,
} from './policies';
import { REPORTING_SUBJECTS } from './reporting';
import { KeyringEnvelope, SealedBox, SealingPublicKey } from './sealed';
import { VaultConnectionView } from './vault-settings';

/** How many leases one sweep request names: 20 000 ids keep it under NATS's default 1 MiB payload. */
export const MAX_SWEEP_LEASES = 20_000;

/**
 * One vault's sweep: `held` what OpenECM's identities hold there, `owned` of those what a lease still holds,
 * `young` what is inside the grace period (an in-flight check-out), `checkedIn` and `failed` the rest;
 * `error` the code of a failure that kept the vault from being swept at all (the counts are then partial).
 */
export const VaultSweepCounts = z.strictObject({
  vault: VaultName,
  held: z.number().int().nonnegative(),
  owned: z.number().int().nonnegative(),
  young: z.number().int().nonnegative(),
  checkedIn: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  error: z.string().nullable(),
});
export type VaultSweepCounts = z.infer<typeof VaultSweepCounts>;

/** Where a listing failed, in the order a listing runs; what Test Settings reports. */
export const TestStep = z.enum(['configuration', 'tls', 'connect', 'authentication', 'impersonation', 'search']);
export type TestStep = z.infer<typeof TestStep>;

export const VaultTestResult = z.discriminatedUnion('result', [
  z.strictObject({
    result: z.literal('ok'),
    credentials: z.array(z.strictObject({ name: z.string(), username: z.string(), domain: z.string().nullable(), scope: z.enum(['machine', 'domain']) })),
  }),
  z.strictObject({ result: z.literal('pending'), reason: z.string(), approveUrl: z.string().optional() }),
  z.strictObject({ result: z.literal('failed'), step: TestStep, code: z.string(), message: z.string() }),
]);
export type VaultTestResult = z.infer<typeof VaultTestResult>;

/** The appliance's session id (its `lsid`), which links the broker's events to the appliance's session. */
export const ApplianceSessionId = z.string().min(1).max(128).refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters');

/** What the appliance asks to inject. */
export const InjectionRequest = z.strictObject({
  credentialId: z.string().uuid(),
  user: UserName,
  endpoint: Endpoint,
  sessionId: ApplianceSessionId,
  /** Why the user needs the credential: required by policies with `requireReason`, and for emergency access. */
  reason: z.string().trim().min(1).max(512).optional(),
  /** Emergency ("break glass") access: granted without approvers where a policy allows it, always with a reason, always audited. */
  emergency: z.boolean().optional(),
});
/** The injection as the appliance receives it, over HTTPS: the one answer with the secret in it. */
export const Injection = z.strictObject({
  leaseId: z.string().uuid(),
  username: z.string(),
  domain: z.string().nullable(),
  secret: Secret,
  releaseAt: z.string(),
});
export type Injection = z.infer<typeof Injection>;

/** A lease's path at the gateway. */
export const LeasePath = z.strictObject({ leaseId: z.string().uuid() });

/** The API account a lease belongs to: the client id of the account that opened it. */
const LeaseOwner = z.string().min(1).max(256);
/** Whose lease may be read or released: that account's only, or null for any account's (an account holding `admin`). */
const LeaseOwnerFilter = LeaseOwner.nullable();

/** The key the checked-out secret is sealed to: one the gateway instance that asked made for this request. */
const SealTo = SealingPublicKey.meta({ description: 'The public key the secret is sealed to; its private key never leaves the gateway instance that asked.' });

/** Which vault sessions to drop: all, one vault's, one user's, or one user's at one vault. */
const VaultSessionSelector = z.strictObject({ vault: VaultName.optional(), user: z.string().min(1).optional() });
const VaultSessionsDeleted = z.strictObject({ deleted: z.number().int().nonnegative() });

/** The token-cache keyring at work (token.keyring.check.v1). */
const KeyringCheck = z.strictObject({
  keyId: z.string(),
  canary: z.boolean(),
  sampled: z.number().int().nonnegative(),
  unreadable: z.number().int().nonnegative(),
});

/** What a re-seal did with one kind of sealed value. */
const ResealCounts = z.strictObject({
  resealed: z.number().int().nonnegative(),
  current: z.number().int().nonnegative(),
  unreadable: z.number().int().nonnegative(),
});

/**
 * Every request/reply subject: `<domain>.<entity>.<verb>.v<N>`, its request and its reply schema.
 * The one place both sides take their types from; a wrong payload is a compile error and, at run time,
 * a VALIDATION_FAILED reply.
 */
export const SUBJECTS = {
  /**
   * The whole list in one call: policy-approval decides (a user who may not request causes no vault traffic),
   * asks the vaults, and swaps their locators for credential ids bound to this user and endpoint. `sessionId`:
   * the appliance session the list is for, reported with the names listed (session reporting).
   */
  'policy.credentials.list.v1': {
    request: z.strictObject({ user: UserName, endpoint: Endpoint, protocol: Protocol.optional(), sessionId: ApplianceSessionId.optional() }),
    reply: z.strictObject({ credentials: z.array(OfferedCredential), pending: z.array(PendingVault) }),
  },
  /** The secret stays sealed to the gateway's `sealTo` key (SEAL_CONTEXTS.checkoutSecret of the lease id). */
  'policy.lease.open.v1': {
    request: InjectionRequest.extend({ sealTo: SealTo, owner: LeaseOwner }),
    /** The lease and its sealed secret, or an approval request an approver must act on first. */
    reply: z.union([Injection.extend({ secret: SealedBox }), PendingInjection]),
  },
  /** Released and rotated at once, whatever its connection says; `policy.lease.revoked.v1` ends the appliance session. */
  'policy.lease.revoke.v1': {
    request: LeasePath.extend({ reason: z.string().min(1).max(1000), by: z.string().min(1).max(256) }),
    reply: RevokedLease,
  },
  'policy.access-policy.put.v1': {
    request: z.strictObject({ name: PolicyName, policy: AccessPolicyDefinition }),
    reply: z.strictObject({ policy: AccessPolicyView, created: z.boolean() }),
  },
  'policy.access-policy.get.v1': {
    request: z.strictObject({ name: PolicyName }),
    reply: AccessPolicyView,
  },
  'policy.access-policy.list.v1': {
    request: z.strictObject({}),
    reply: z.strictObject({ policies: z.array(AccessPolicyView) }),
  },
  /** Refused (POLICY_IN_USE) while a group uses the policy. */
  'policy.access-policy.delete.v1': {
    request: z.strictObject({ name: PolicyName }),
    reply: z.strictObject({ name: z.string(), deleted: z.literal(true) }),
  },
  /** Creates the group or sets its policies; its members stay. */
  'policy.group.put.v1': {
    request: GroupDefinition.extend({ name: GroupName }),
    reply: z.strictObject({ group: GroupView, created: z.boolean() }),
  },
  'policy.group.list.v1': {
    request: z.strictObject({}),
    reply: z.strictObject({ groups: z.array(GroupView) }),
  },
  'policy.approval.list.v1': {
    request: ApprovalsQuery,
    reply: z.strictObject({ approvals: z.array(ApprovalView) }),
  },
  /** `owner`: only that API account's request (an appliance reads the requests it made); absent, any. */
  'policy.approval.get.v1': {
    request: z.strictObject({ approvalId: z.string().uuid(), owner: LeaseOwner.optional() }),
    reply: ApprovalView,
  },
  'policy.approval.decide.v1': {
    request: ApprovalDecisionRequest.extend({ approvalId: z.string().uuid() }),
    reply: ApprovalView,
  },
  /** The approval can no longer be used; a lease opened with it is revoked too. */
  'policy.approval.revoke.v1': {
    request: z.strictObject({ approvalId: z.string().uuid(), reason: z.string().min(1).max(1000), by: z.string().min(1).max(256) }),
    reply: RevokedApproval,
  },
  'policy.queue.get.v1': {
    request: z.strictObject({ queueId: z.string().uuid() }),
    reply: QueueView,
  },
  /** Another account's lease is LEASE_NOT_FOUND, as if it did not exist. */
  'policy.lease.release.v1': {
    request: LeasePath.extend({ owner: LeaseOwnerFilter }),
    reply: z.strictObject({
      leaseId: z.string().uuid(),
      releasedAt: z.string(),
      rotation: z.enum(['scheduled', 'not-required']),
    }),
  },
  /** Another account's lease is LEASE_NOT_FOUND, as if it did not exist. */
  'policy.lease.get.v1': {
    request: LeasePath.extend({ owner: LeaseOwnerFilter }),
    reply: LeaseView,
  },
  /** Newest first; `nextCursor` fetches the page after this one (null on the last page). */
  'policy.lease.list.v1': {
    request: z.strictObject({
      state: LeaseState.optional(),
      user: UserName.optional(),
      limit: z.number().int().min(1).max(200).default(50),
      cursor: z.string().min(1).max(512).optional(),
    }),
    reply: z.strictObject({ leases: z.array(LeaseView), nextCursor: z.string().nullable() }),
  },
  'policy.defaults.ensure.v1': {
    request: z.strictObject({}),
    reply: z.strictObject({ group: z.string(), policy: z.string(), created: z.boolean() }),
  },
  'policy.group-member.add.v1': {
    request: z.strictObject({ group: z.string().min(1).max(128), user: UserName }),
    reply: z.strictObject({ group: z.string(), user: z.string(), added: z.boolean() }),
  },
  'policy.group-member.remove.v1': {
    request: z.strictObject({ group: z.string().min(1).max(128), user: UserName }),
    reply: z.strictObject({ group: z.string(), user: z.string(), removed: z.boolean() }),
  },
  /** External jump items: the access check as for a list, then the vaults (answers kept briefly in Redis), one page. */
  'policy.jump-items.search.v1': {
    request: JumpItemsQuery,
    reply: JumpItemList,
  },
  'policy.jump-items.recent.v1': {
    request: RecentJumpItemsQuery,
    reply: RecentJumpItems,
  },
  'policy.jump-settings.get.v1': {
    request: z.strictObject({}),
    reply: JumpItemSettingsView,
  },
  'policy.jump-settings.put.v1': {
    request: JumpItemSettings,
    reply: JumpItemSettingsView,
  },
  'vault.credentials.list.v1': {
    request: z.strictObject({ user: UserName, endpoint: Endpoint, protocol: Protocol.optional() }),
    reply: z.strictObject({ credentials: z.array(VaultCredential), pending: z.array(PendingVault) }),
  },
  'vault.credentials.checkout.v1': {
    request: z.strictObject({
      leaseId: z.string().uuid(),
      vault: VaultName,
      ref: VaultRef,
      user: UserName,
      durationMinutes: z.number().int().positive(),
      reason: z.string().max(256),
      sealTo: SealTo,
    }),
    /** `secret`: a Secret sealed to `sealTo`, bound to the lease (SEAL_CONTEXTS.checkoutSecret). */
    reply: z.strictObject({ username: z.string(), domain: z.string().nullable(), secret: SealedBox }),
  },
  'vault.credentials.checkin.v1': {
    request: z.strictObject({ leaseId: z.string().uuid(), rotate: z.boolean(), reason: z.string().max(256) }),
    reply: z.strictObject({ checkedIn: z.boolean(), rotationRequested: z.boolean() }),
  },
  /**
   * The vault-side sweep: per connection, what OpenECM's identities hold at the vault (Password Safe requests,
   * Secret Server check-outs), and a check-in of what no lease in `leaseIds` owns and is older than the grace
   * period. `leaseIds`: the leases policy-approval still holds a check-out for (active, or still to be checked
   * in by its release path). Counts only: a vault's request id is a bearer capability and never leaves.
   */
  'vault.checkouts.sweep.v1': {
    request: z.strictObject({ leaseIds: z.array(z.string().uuid()).max(MAX_SWEEP_LEASES) }),
    reply: z.strictObject({ vaults: z.array(VaultSweepCounts) }),
  },
  /**
   * External jump items: per connected vault (but those in `skip`), the systems the user may reach whose name,
   * host name, DNS name or IP contains `search`; each vault as the user (Password Safe run-as, Secret Server
   * impersonation) where the connection allows.
   */
  'vault.systems.search.v1': {
    request: SystemSearchRequest,
    reply: SystemSearchReply,
  },
  /**
   * Seal everything vault-adapters keeps at rest again under the active key of VAULT_SETTINGS_KEYS, so that
   * an older key can be removed; what no configured key opens is counted as unreadable and left as it is.
   */
  'vault.keys.reseal.v1': {
    request: z.strictObject({}),
    reply: z.strictObject({
      activeKey: z.string(),
      connections: ResealCounts,
      checkouts: ResealCounts,
    }),
  },
  /** The vault-adapters key that connection settings are sealed to (derived from VAULT_SETTINGS_KEYS). */
  'vault.sealing-key.get.v1': {
    request: z.strictObject({}),
    reply: SealingPublicKey,
  },
  /** `connection`: a VaultConnectionInput sealed to vault-adapters' key (SEAL_CONTEXTS.vaultConnection of the name). */
  'vault.connection.upsert.v1': {
    request: z.strictObject({ name: VaultName, connection: SealedBox }),
    reply: z.strictObject({ connection: VaultConnectionView, created: z.boolean() }),
  },
  'vault.connection.list.v1': {
    request: z.strictObject({}),
    reply: z.strictObject({ connections: z.array(VaultConnectionView) }),
  },
  'vault.connection.test.v1': {
    request: z.strictObject({
      /** Settings as entered (saved or not), sealed to vault-adapters' key (SEAL_CONTEXTS.vaultTest), or the name of a saved connection. */
      target: z.union([z.strictObject({ connection: SealedBox }), z.strictObject({ name: VaultName })]),
      user: UserName,
      endpoint: Endpoint,
    }),
    reply: VaultTestResult,
  },
  /**
   * The vault's clock as its HTTP `Date` header tells it, against the clock of the vault-adapters instance
   * that asked; `failure` says why the vault gave no answer to read it from.
   */
  'vault.clock.check.v1': {
    request: z.strictObject({ name: VaultName }),
    reply: z.strictObject({
      vault: VaultName,
      vaultTime: z.string().nullable(),
      localTime: z.string(),
      skewSeconds: z.number().nullable(),
      failure: z.string().nullable(),
    }),
  },
  /**
   * "Clear Token Cache": vault-adapters forgets the vault sessions selected and has token-cache drop them. Only
   * vault-adapters talks to token-cache, so the admin API comes through here.
   */
  'vault.sessions.clear.v1': {
    request: VaultSessionSelector,
    reply: VaultSessionsDeleted,
  },
  /** token-cache's keyring check (token.keyring.check.v1), relayed by vault-adapters for the diagnostics. */
  'vault.session-keyring.check.v1': {
    request: z.strictObject({}),
    reply: KeyringCheck,
  },
  /**
   * The token-cache keyring at work: a canary sealed, stored, read back and opened, and a sample of the stored
   * sessions tried with the configured keys (one that no longer opens is a miss: that user signs in again).
   */
  'token.keyring.check.v1': {
    request: z.strictObject({}),
    reply: KeyringCheck,
  },
  /**
   * Vault sessions are sealed by vault-adapters before they leave it (KeyringEnvelope, bound to the connection
   * and user): token-cache keeps and answers them as they came, unable to read them.
   */
  'token.cache.get.v1': {
    request: z.strictObject({ vault: VaultName, user: z.string().min(1), slideTtlSeconds: z.number().int().positive().optional() }),
    reply: z.strictObject({ value: KeyringEnvelope.nullable() }),
  },
  /**
   * Single flight across every vault-adapters instance: answers the cached value, or `fill: true` to
   * exactly one caller at a time, who signs in and puts (or abandons); the others wait for the value.
   */
  'token.cache.claim.v1': {
    request: z.strictObject({
      vault: VaultName,
      user: z.string().min(1),
      slideTtlSeconds: z.number().int().positive().optional(),
      waitMs: z.number().int().min(0).max(60_000).default(15_000),
      /** A value the vault has just rejected: treated as absent, so one caller renews it for all. */
      stale: KeyringEnvelope.optional(),
    }),
    reply: z.strictObject({ value: KeyringEnvelope.nullable(), fill: z.boolean() }),
  },
  'token.cache.abandon.v1': {
    request: z.strictObject({ vault: VaultName, user: z.string().min(1) }),
    reply: z.strictObject({ released: z.boolean() }),
  },
  'token.cache.put.v1': {
    request: z.strictObject({
      vault: VaultName,
      user: z.string().min(1),
      value: KeyringEnvelope,
      ttlSeconds: z.number().int().positive(),
    }),
    reply: z.strictObject({ stored: z.boolean() }),
  },
  'token.cache.delete.v1': {
    request: VaultSessionSelector,
    reply: VaultSessionsDeleted,
  },
  ...REPORTING_SUBJECTS,
} as const;

export type Subject = keyof typeof SUBJECTS;
export type RequestOf<S extends Subject> = z.input<(typeof SUBJECTS)[S]['request']>;
export type ParsedRequestOf<S extends Subject> = z.output<(typeof SUBJECTS)[S]['request']>;
export type ReplyOf<S extends Subject> = z.output<(typeof SUBJECTS)[S]['reply']>;

export const SUBJECT_GRAMMAR = /^[a-z]+\.[a-z-]+\.[a-z-]+\.v[1-9][0-9]*$/;

/** Subjects carry the deployment's namespace so several deployments (or test runs) share one NATS. */
export function qualify(subject: string, namespace: string | undefined): string {
  return namespace ? `${namespace}.${subject}` : subject;
}
