import { z } from 'zod';
import { Endpoint, LeaseState, UserName } from './model';
import type { TestStep } from './subjects';

/** The five services; an instance answers the ops broadcasts under one of these names. */
export const SERVICE_NAMES = ['appliance-gateway', 'policy-approval', 'vault-adapters', 'token-cache', 'session-reporting'] as const;
export const ServiceName = z.enum(SERVICE_NAMES);
export type ServiceName = z.infer<typeof ServiceName>;

export const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
export type LogLevel = z.infer<typeof LogLevel>;

/** How long a level switched at run time holds before the instance returns to its configured LOG_LEVEL. */
export const LOG_LEVEL_REVERT = { defaultSeconds: 15 * 60, maxSeconds: 24 * 3600 } as const;

export const HealthState = z.enum(['up', 'down']);

/** What one running instance says about itself when pinged. */
export const InstanceStatus = z.strictObject({
  service: z.string(),
  /** Host name and process id: a pod name in Kubernetes, a process on one host. */
  instance: z.string(),
  version: z.string(),
  startedAt: z.string(),
  uptimeSeconds: z.number().nonnegative(),
  /** Every readiness check up, as `/health/ready` says. */
  ready: z.boolean(),
  checks: z.record(z.string(), HealthState),
  /** The service's own migrations against its schema: in the code but not applied, applied but unknown to the code. */
  migrations: z.strictObject({ schema: z.string(), pending: z.array(z.string()), unknown: z.array(z.string()) }).optional(),
  logLevel: LogLevel,
  logLevelRevertsAt: z.string().nullable(),
});
export type InstanceStatus = z.infer<typeof InstanceStatus>;

export const LogLevelApplied = z.strictObject({
  service: z.string(),
  instance: z.string(),
  level: LogLevel,
  revertsAt: z.string().nullable(),
});
export type LogLevelApplied = z.infer<typeof LogLevelApplied>;

/**
 * The in-process caches on the credential path: what each keeps, and what invalidates it across instances.
 * `vault-connections` (vault-adapters: the connections, opened and parsed), `vault-sessions` (vault-adapters: a
 * short first level in front of token-cache), `access-decisions` (policy-approval: who may request now).
 */
export const CacheName = z.enum(['vault-connections', 'vault-sessions', 'access-decisions']);
export type CacheName = z.infer<typeof CacheName>;

export const CacheInvalidated = z.strictObject({ service: z.string(), instance: z.string(), cache: CacheName, dropped: z.number().int().nonnegative() });
export type CacheInvalidated = z.infer<typeof CacheInvalidated>;

/**
 * Subjects every instance of every service answers (no queue group): the sender gathers the replies for a
 * bounded time. `<domain>.<entity>.<verb>.v<N>` like the request subjects, and never one of them.
 */
export const BROADCASTS = {
  'ops.instance.ping.v1': {
    request: z.strictObject({ service: ServiceName.optional() }),
    reply: InstanceStatus,
  },
  'ops.log-level.set.v1': {
    request: z.strictObject({
      level: LogLevel,
      /** Only this service's instances apply it (the others stay silent); every service when left out. */
      service: ServiceName.optional(),
      revertAfterSeconds: z.number().int().min(1).max(LOG_LEVEL_REVERT.maxSeconds).default(LOG_LEVEL_REVERT.defaultSeconds),
    }),
    reply: LogLevelApplied,
  },
  /**
   * Sent by the instance that changed what a cache holds (a connection saved, a member removed), before it
   * answers the change: each instance holding that cache drops the entries in scope (all, one vault, one user)
   * and says so, so the next request on any instance that answered sees the change.
   */
  'ops.cache.invalidate.v1': {
    request: z.strictObject({ cache: CacheName, vault: z.string().min(1).max(256).optional(), user: z.string().min(1).max(512).optional() }),
    reply: CacheInvalidated,
  },
} as const;

export type BroadcastSubject = keyof typeof BROADCASTS;
export type BroadcastRequestOf<B extends BroadcastSubject> = z.input<(typeof BROADCASTS)[B]['request']>;
export type ParsedBroadcastRequestOf<B extends BroadcastSubject> = z.output<(typeof BROADCASTS)[B]['request']>;
export type BroadcastReplyOf<B extends BroadcastSubject> = z.output<(typeof BROADCASTS)[B]['reply']>;

/** What to do when Test Settings fails at a step; the doctor and `openecm vault test` say it. */
export const TEST_STEP_REMEDIES: Record<TestStep, string> = {
  configuration: 'the saved settings do not fit this vault type: enter them again (PUT /api/v1/admin/vaults/{name})',
  tls: "the vault's certificate is not trusted: add the certificate of the CA that issued it (PEM) as the connection's caBundle",
  connect:
    'vault-adapters cannot reach the vault: check the URL and port, DNS, the firewalls and proxies on the way, and that the vault is running',
  authentication:
    'the vault refused the API account: check the API user and password (Secret Server) or the API key or OAuth client (Password Safe), and the addresses the vault accepts the account from',
  impersonation:
    'the vault would not act as this user: check the user mapping (a DOMAIN\\user tested, but the appliance may send no domain or another one for local or RADIUS users: see the default domain for local users) and that the user approved delegated trust',
  search:
    "the vault refused or failed the search: check the permissions of the API account (or the user) on the folders and secrets, and the connection's Domain and Machine fields",
};

export const CheckStatus = z.enum(['ok', 'warn', 'fail', 'info']);
export type CheckStatus = z.infer<typeof CheckStatus>;

/** One step of the diagnostics walk: what was checked, how it went, and what to do when it did not go well. */
export const DiagnosticCheck = z.strictObject({
  /** Stable, e.g. `nats`, `service:vault-adapters`, `vault:password-safe`, `clock:password-safe`. */
  id: z.string(),
  title: z.string(),
  status: CheckStatus,
  detail: z.string(),
  /** The step that failed, when the check has steps (a vault test: tls, connect, authentication...). */
  step: z.string().optional(),
  remedy: z.string().optional(),
});
export type DiagnosticCheck = z.infer<typeof DiagnosticCheck>;

export const DiagnosticsReport = z.strictObject({
  /** The worst of the checks: `fail` over `warn` over `ok` (`info` counts as ok). */
  status: z.enum(['ok', 'warn', 'fail']),
  generatedAt: z.string(),
  checks: z.array(DiagnosticCheck),
});
export type DiagnosticsReport = z.infer<typeof DiagnosticsReport>;

export function worstStatus(checks: ReadonlyArray<{ status: CheckStatus }>): DiagnosticsReport['status'] {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  return 'ok';
}

// ---- the gateway's ops routes ----

/** `PUT /api/v1/admin/log-level`: the broadcast's own request. */
export const LogLevelRequest = BROADCASTS['ops.log-level.set.v1'].request;
export const LogLevelAnswer = z.strictObject({
  level: LogLevel,
  service: ServiceName.nullable(),
  revertAfterSeconds: z.number().int().positive(),
  /** Every instance that applied it within the gathering time. */
  applied: z.array(LogLevelApplied),
});
export type LogLevelAnswer = z.infer<typeof LogLevelAnswer>;

export const InstanceList = z.strictObject({ instances: z.array(InstanceStatus) });
export type InstanceList = z.infer<typeof InstanceList>;

/** Both or neither: the vault tests list for this user on this endpoint, and are skipped without them. */
export const DiagnosticsQuery = z
  .strictObject({ user: UserName.optional(), endpoint: Endpoint.optional() })
  .refine((q) => (q.user === undefined) === (q.endpoint === undefined), { message: 'give both user and endpoint, or neither', path: ['endpoint'] });
export type DiagnosticsQuery = z.infer<typeof DiagnosticsQuery>;

/** `GET /api/v1/leases`: newest first, `cursor` from the previous page's `nextCursor`. */
export const LeaseListQuery = z.strictObject({
  state: LeaseState.optional(),
  user: UserName.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(512).optional(),
});
