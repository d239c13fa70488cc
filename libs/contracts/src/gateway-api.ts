import { z } from 'zod';
import { CONSOLE_CSRF_HEADER, CONSOLE_ROUTES } from './console-api';
import { ERROR_CODES, type ErrorCode } from './errors';
import { ApiPermission, Endpoint, LeaseView, UserName, VaultName } from './model';
import { DiagnosticsQuery, DiagnosticsReport, InstanceList, LeaseListQuery, LogLevelAnswer, LogLevelRequest } from './ops';
import {
  AccessPolicyDefinition,
  AccessPolicyView,
  ApprovalDecisionRequest,
  ApprovalPath,
  ApprovalView,
  ApprovalsQuery,
  GroupDefinition,
  GroupView,
  GroupsPath,
  PendingInjection,
  PolicyPath,
  QueuePath,
  QueueView,
  RevokeRequest,
  RevokedApproval,
  RevokedLease,
} from './policies';
import { Injection, InjectionRequest, LeasePath, SUBJECTS, VaultTestResult } from './subjects';
import {
  DEFAULT_JUMP_ITEM_GROUP,
  JumpItemList,
  JumpItemSettings,
  JumpItemSettingsView,
  JumpItemsQuery,
  NO_JUMPOINT_COMMENT,
  RecentJumpItems,
  RecentJumpItemsQuery,
} from './jump-items';
import { VAULT_CONNECTION_SCHEMAS, VaultConnectionSubmission, VaultConnectionView, refineVaultUrl } from './vault-settings';
import {
  ApplianceConnectionInput,
  ApplianceConnectionView,
  EventPage,
  EventsQuery,
  IngestResult,
  ReportSummary,
  SessionDetail,
  SessionEventBatchDescribed,
  SessionPage,
  SessionPath,
  SessionsQuery,
  SummaryQuery,
} from './reporting';

/**
 * The appliance gateway's public HTTP API: every route with the schemas its controller validates with and the
 * answers it gives. The gateway's controllers parse with these schemas and its OpenAPI document is generated
 * from this table, so the two cannot drift apart; a route that Nest serves but this table lacks fails a test.
 */

// ---- errors ----

/** `type` of a problem answer: one URI per error code. */
export function problemType(code: ErrorCode): string {
  return `https://openecm.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`;
}

/** RFC 6749 5.2 error names, added to the token endpoint's problems for OAuth client libraries. */
export const OAuthErrorName = z.enum(['invalid_request', 'invalid_client', 'unsupported_grant_type']);
export type OAuthErrorName = z.infer<typeof OAuthErrorName>;

/** Every error answer: RFC 9457 problem details (`application/problem+json`) with the broker's stable `code`. */
export const ProblemDetails = z.strictObject({
  type: z.string().url(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]),
  /** One entry per rejected field; an unknown field is named with the message "unknown field". */
  errors: z.array(z.strictObject({ field: z.string(), message: z.string() })).optional(),
  /** The request path. */
  instance: z.string().optional(),
  error: OAuthErrorName.optional(),
  /** CREDENTIAL_IN_USE: the caller's place in the exclusive credential's queue (`GET /api/v1/queue/{queueId}`). */
  queueId: z.string().uuid().optional(),
  queuePosition: z.number().int().nonnegative().optional(),
  /** ACCESS_DENIED outside every window: when the next window opens. */
  opensAt: z.string().optional(),
  /** APPROVAL_DENIED: the approval request that was denied. */
  approvalId: z.string().uuid().optional(),
});
export type ProblemDetails = z.infer<typeof ProblemDetails>;

/** What each code means to a caller; the document shows it beside the code. */
export const ERROR_MEANINGS: Record<ErrorCode, string> = {
  VALIDATION_FAILED: 'The request is malformed: `errors` names each bad or unknown field.',
  UNAUTHENTICATED: 'No valid access token (or, at the token endpoint, no valid client credentials).',
  PERMISSION_MISSING: "The API account lacks the route's permission.",
  CSRF_TOKEN_INVALID: `A state-changing call of a console session without the session's CSRF token in \`${CONSOLE_CSRF_HEADER}\`.`,
  ACCESS_DENIED: "The user is in no requester group, or no group's access policy allows access now.",
  CREDENTIAL_NOT_OFFERED: 'The credential id was not listed for this user on this endpoint.',
  APPROVAL_REQUIRED: 'The access policy requires an approver.',
  APPROVAL_DENIED: 'An approver denied this request; `approvalId` names it.',
  APPROVER_NOT_ELIGIBLE: 'The approver is not in an approver group of the policy, has decided already, or is the requester.',
  POLICY_NOT_FOUND: 'No access policy by that name.',
  APPROVAL_NOT_FOUND: 'No approval request by that id.',
  QUEUE_ENTRY_NOT_FOUND: 'No place in a credential queue by that id.',
  POLICY_IN_USE: 'A requester group uses the policy; take it off the group first.',
  APPROVAL_NOT_PENDING: 'The approval request is decided, expired or revoked already.',
  VAULT_FORBIDDEN: 'The vault refuses this user the credential (delegated trust denied or revoked, no permission).',
  VAULT_APPROVAL_PENDING: 'The vault waits for an approval (a request or delegated trust) before it answers.',
  NOT_FOUND: 'No such object.',
  CREDENTIAL_NOT_FOUND: 'No credential has this id.',
  LEASE_NOT_FOUND: 'No lease has this id.',
  VAULT_NOT_FOUND: 'No vault connection has this name.',
  VAULT_ACCOUNT_NOT_FOUND: 'The vault no longer has the account behind the credential.',
  GROUP_NOT_FOUND: 'No requester group has this name.',
  JUMP_ITEMS_DISABLED: 'Search for external jump items is switched off (PUT /api/v1/admin/jump-items).',
  CREDENTIAL_IN_USE: 'The credential is checked out by someone else: at the vault, or an exclusive credential whose queue (`queueId`, `queuePosition`) the caller is now in.',
  VAULT_CONFLICT: 'The vault reports a conflicting change.',
  LEASE_NOT_ACTIVE: 'The lease was never released (it failed before a credential was checked out).',
  RATE_LIMITED:
    'Too many sign-ins from this address or for this client id, or this client id is locked after repeated wrong secrets: ' +
    'try again after `Retry-After` seconds.',
  REQUEST_HEADERS_TOO_LARGE: 'The request line and headers together are larger than the gateway accepts.',
  VAULT_AUTH_FAILED: 'The vault rejected the connection\'s own credentials.',
  VAULT_ERROR: 'The vault answered with an error.',
  VAULT_TLS_ERROR: "The vault's TLS certificate is not trusted.",
  VAULT_ADDRESS_REFUSED:
    "The vault URL leads to an address OpenECM does not call: loopback, link-local, cloud metadata or the broker's own infrastructure, unless VAULT_ALLOWED_ADDRESSES names it.",
  VAULT_SETTINGS_UNREADABLE: "The vault connection's settings cannot be opened with the configured keys (VAULT_SETTINGS_KEYS changed): restore the key or enter the settings again.",
  VAULT_UNAVAILABLE: 'The vault cannot be reached.',
  SERVICE_UNAVAILABLE: 'A service behind the gateway cannot be reached.',
  GATEWAY_BUSY:
    'The gateway has as many appliance calls in flight as it takes at once (GATEWAY_MAX_IN_FLIGHT): try again after `Retry-After` seconds, ' +
    'or at another gateway instance.',
  UPSTREAM_TIMEOUT: 'A service or vault behind the gateway did not answer in time.',
  INTERNAL: 'An unexpected failure; it is logged without its details.',
};

// ---- requests and answers ----

export const TokenRequest = z.strictObject({
  grant_type: z.literal('client_credentials'),
  client_id: z.string().min(1).max(256).refine((v) => !/\p{Cc}/u.test(v), 'must not contain control characters').optional(),
  client_secret: z.string().min(1).max(1024).optional(),
  /** Accepted because OAuth clients send it, and ignored: a token carries every permission of its account. */
  scope: z.string().max(1024).optional(),
});
export type TokenRequest = z.infer<typeof TokenRequest>;

export const TokenResponse = z.strictObject({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().positive(),
});
export type TokenResponse = z.infer<typeof TokenResponse>;

/** The query of a list is exactly what the access check takes: user, endpoint and an optional protocol. */
export const CredentialsQuery = SUBJECTS['policy.credentials.list.v1'].request;
export const CredentialList = SUBJECTS['policy.credentials.list.v1'].reply;
export type CredentialList = z.infer<typeof CredentialList>;

export const LeaseRelease = SUBJECTS['policy.lease.release.v1'].reply;

export const VaultPath = z.strictObject({ name: VaultName });
export const VaultList = z.strictObject({ vaults: z.array(VaultConnectionView) });
export type VaultList = z.infer<typeof VaultList>;
const TestTarget = { user: UserName, endpoint: Endpoint };
type WithTestTarget<T extends readonly z.ZodObject[]> = { -readonly [K in keyof T]: ReturnType<T[K]['extend']> & z.ZodObject<T[K]['shape'] & typeof TestTarget, z.core.$strict> };
/** Test Settings with the settings as entered: a connection (saved or not) plus the user and endpoint to list for. */
export const UnsavedVaultTest = z
  .discriminatedUnion('type', VAULT_CONNECTION_SCHEMAS.map((schema) => schema.extend(TestTarget)) as unknown as WithTestTarget<typeof VAULT_CONNECTION_SCHEMAS>)
  .superRefine(refineVaultUrl);
export const SavedVaultTest = z.strictObject(TestTarget);

export const GroupPath = SUBJECTS['policy.group-member.add.v1'].request.pick({ group: true });
export const GroupMemberRequest = SUBJECTS['policy.group-member.add.v1'].request.pick({ user: true });
/** A `DOMAIN\user` name travels URL-encoded in the path. */
export const GroupMemberPath = SUBJECTS['policy.group-member.remove.v1'].request;

export const ApiAccountClientId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{2,127}$/, '3 to 128 letters, digits, dots, dashes, underscores or @');
export const ApiAccountRequest = z.strictObject({
  clientId: ApiAccountClientId,
  permissions: z
    .array(ApiPermission)
    .min(1)
    .refine((p) => new Set(p).size === p.length, 'each permission once'),
});
// Deletion takes any stored id, including a bootstrap id outside the creation pattern.
export const ApiAccountPath = z.strictObject({ clientId: z.string().min(1).max(128) });
export const ApiAccount = z.strictObject({ clientId: z.string(), permissions: z.array(ApiPermission), createdAt: z.string() });
export type ApiAccount = z.infer<typeof ApiAccount>;
/** The generated secret is in this answer only; the broker keeps a hash of it. */
export const CreatedApiAccount = ApiAccount.extend({ clientSecret: z.string() });
export const ApiAccountList = z.strictObject({ accounts: z.array(ApiAccount) });
export const ApiAccountDeleted = z.strictObject({ clientId: z.string(), deleted: z.literal(true) });

export const TokenCacheQuery = SUBJECTS['token.cache.delete.v1'].request;

const CheckState = z.enum(['up', 'down']);
export const Liveness = z.strictObject({ status: z.literal('up') });
export const Readiness = z.strictObject({ status: CheckState, checks: z.record(z.string(), CheckState) });

// ---- the audit trail ----

/** What an audit record is about: every use of a credential and every change an operator makes. */
export const AuditKind = z.enum([
  'credentials.list',
  'injection',
  'lease.release',
  /** policy-approval released a lease whose release duration ran out. */
  'lease.expired',
  /** The vault checked the credential in (and rotated it, unless the outcome says `not-rotated`). */
  'lease.rotated',
  /** Check-in or rotation failed for good: the outcome is the error code. */
  'lease.failed',
  'admin.change',
  'sign-in.failed',
  /** An approver approved or denied a request (the outcome is the error code when refused). */
  'approval.decision',
  /** An approval request reached its end: approved, denied, expired or revoked (the outcome). */
  'approval.decided',
  /** Emergency access granted without approvers; the reason is in the details. */
  'access.emergency',
  /** A lease revoked: released and rotated at once, the appliance session ended. */
  'lease.revoked',
]);
export type AuditKind = z.infer<typeof AuditKind>;

/** One audit record as stored: never a secret, a token or a vault request id. `seq` is a decimal string. */
export const AuditRecord = z.strictObject({
  seq: z.string().regex(/^\d+$/),
  at: z.string().datetime(),
  kind: AuditKind,
  /** The API account that called, or the client id a failed sign-in named (null when none could be read). */
  actor: z.string().nullable(),
  user: z.string().nullable(),
  endpoint: z.string().nullable(),
  vault: z.string().nullable(),
  credential: z.string().nullable(),
  leaseId: z.string().nullable(),
  /** `ok`, or the error code the call was answered with. */
  outcome: z.string(),
  traceId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  /** Whether the record is linked into the HMAC chain yet (within about a second of being written). */
  chained: z.boolean(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;

const AuditRange = {
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
};
export const AuditQuery = z.strictObject({
  ...AuditRange,
  kind: AuditKind.optional(),
  user: z.string().min(1).max(256).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d{1,19}$/, "the previous page's nextCursor").optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;
export const AuditPage = z.strictObject({ records: z.array(AuditRecord), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;
export const AuditExportQuery = z.strictObject(AuditRange);
export type AuditExportQuery = z.infer<typeof AuditExportQuery>;

/** The first place the chain does not hold: a record changed, missing, out of its place, or never linked. */
export const AuditProblem = z.strictObject({
  problem: z.enum(['changed', 'removed', 'reordered', 'unchained', 'unknown-key']),
  /** The record at which it was found (for `removed`, the first record after the gap). */
  seq: z.string(),
  /** Its place in the chain, when it has one. */
  position: z.string().nullable(),
  detail: z.string(),
});
export const AuditVerification = z.strictObject({
  ok: z.boolean(),
  /** Chained records checked. */
  checked: z.number().int().min(0),
  /** Records written but not linked yet (the chainer links them within about a second). */
  unchained: z.number().int().min(0),
  firstProblem: AuditProblem.optional(),
});
export type AuditVerification = z.infer<typeof AuditVerification>;

/** The reference page's files: Swagger UI's bundle and styles, and the script that starts it on this document. */
export const API_DOCS_ASSETS = ['swagger-ui-bundle.js', 'swagger-ui.css', 'index.css', 'start.js'] as const;
export const ApiDocsAssetPath = z.strictObject({ file: z.enum(API_DOCS_ASSETS) });

// ---- the routes ----

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/**
 * Who may call a route: API accounts holding a permission (with a Bearer access token), API accounts
 * signing in with their client credentials (the token endpoint), or anyone.
 */
export type RouteAccess = { permission: ApiPermission | readonly [ApiPermission, ...ApiPermission[]] } | 'client-credentials' | 'anyone';

/** The permissions that admit to a route: any one of them. */
export function permissionsOf(access: RouteAccess): readonly ApiPermission[] {
  if (typeof access !== 'object') return [];
  return typeof access.permission === 'string' ? [access.permission] : access.permission;
}

export interface RouteAnswer {
  description: string;
  /** The body; none for an empty answer. */
  schema?: z.ZodType;
  /** `application/json` unless named. */
  contentTypes?: readonly string[];
  /** An answer carrying a secret: `Cache-Control: no-store`, never kept by a cache on the way. */
  noStore?: boolean;
  /** Other media types the same answer comes in (by `Accept`), each with its body. */
  alternatives?: Readonly<Record<string, z.ZodType>>;
}

export interface GatewayRoute {
  method: HttpMethod;
  /** The OpenAPI path template: `{name}` for a path parameter. */
  path: string;
  tag: GatewayTag;
  summary: string;
  description?: string;
  access: RouteAccess;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** `application/json` unless named. */
  bodyTypes?: readonly string[];
  /** The successful answers by status. */
  answers: Partial<Record<number, RouteAnswer>>;
  /**
   * The error codes this route can answer besides those every route can (VALIDATION_FAILED for an unreadable
   * body, INTERNAL) and the access errors its access implies.
   */
  errors: readonly ErrorCode[];
}

export const GATEWAY_TAGS = {
  'OAuth 2.0': 'Signing in: the client credentials grant.',
  Credentials: 'What an appliance does at a login screen: list, inject, release, watch.',
  Vaults: 'Vault connections, Test Settings and the token cache.',
  'Requester groups': 'Who may request credentials, and who approves.',
  'Access policies': 'When, how and what a requester group may request: schedules, approval, exclusivity, emergency access, scope.',
  Approvals: 'Approval requests and their decisions; revocation of leases and approvals.',
  'API accounts': 'The accounts appliances and operators sign in with.',
  Audit: 'The tamper-evident record of every credential use and every change: query, export, verify.',
  'External jump items': 'Searching the vaults for the RDP and shell systems a user may reach, and the ones used lately.',
  Operations: 'Liveness, readiness, metrics and this description.',
  Console: 'The web console: its pages, and people signing in with OpenID Connect.',
  Reports: 'Session reporting: summary cards, the session and event grids (filter, sort, page, CSV), a session in detail.',
  'Appliance sessions': "The appliance's session events, and the appliance connection the broker polls its reports with.",
} as const;
export type GatewayTag = keyof typeof GATEWAY_TAGS;

/** Errors of every route that asks a service over NATS. */
const BUS_ERRORS = ['SERVICE_UNAVAILABLE', 'UPSTREAM_TIMEOUT'] as const satisfies readonly ErrorCode[];
/** Errors a vault's answer turns into. */
const VAULT_ERRORS = [
  'VAULT_AUTH_FAILED',
  'VAULT_ERROR',
  'VAULT_TLS_ERROR',
  'VAULT_ADDRESS_REFUSED',
  'VAULT_UNAVAILABLE',
  'VAULT_SETTINGS_UNREADABLE',
  'VAULT_FORBIDDEN',
  'VAULT_APPROVAL_PENDING',
] as const satisfies readonly ErrorCode[];

const CREDENTIALS = { permission: 'credentials' } as const;
const ADMIN = { permission: 'admin' } as const;
const REPORTING = { permission: 'reporting' } as const;
const GRID_DESCRIPTION =
  'Filters on every column: `col=v` equals, `col.prefix=v` starts with (text), `col.from`/`col.to` a range (time: from inclusive, ' +
  'to exclusive; integers: both inclusive). `sort` on an indexed column, `-` for descending; `cursor` takes the previous page\'s ' +
  '`nextCursor` (keyset paging: no page is skipped or repeated while rows are added). With `Accept: text/csv` the answer is every ' +
  'matching row as CSV (header: the column names), streamed as it is read, with no limit.';

export const GATEWAY_ROUTES = {
  issueToken: {
    method: 'post',
    path: '/oauth2/token',
    tag: 'OAuth 2.0',
    summary: 'Get an access token',
    description:
      'The OAuth 2.0 client credentials grant (RFC 6749 4.4): the client id and secret in HTTP Basic or in the body, never both. ' +
      'The token carries every permission of its API account; an account holds at most 30 live tokens, the oldest go first. ' +
      'Sign-ins are limited per client id and per source address, and a client id is locked for a while after repeated wrong ' +
      'secrets: both answer 429 with `Retry-After`.',
    access: 'client-credentials',
    body: TokenRequest,
    bodyTypes: ['application/x-www-form-urlencoded', 'application/json'],
    answers: { 200: { description: 'An access token for `Authorization: Bearer`.', schema: TokenResponse, noStore: true } },
    errors: ['RATE_LIMITED'],
  },
  listCredentials: {
    method: 'get',
    path: '/api/v1/credentials',
    tag: 'Credentials',
    summary: 'List the credentials a user may use on an endpoint',
    description:
      'Names and opaque ids only, never a secret, merged from every connected vault. A vault that fails or is slower than its ' +
      'timeout is named in `pending` while the others answer; when every vault fails, the error of the first is answered.',
    access: CREDENTIALS,
    query: CredentialsQuery,
    answers: { 200: { description: 'The credentials, and the vaults that did not answer.', schema: CredentialList } },
    errors: ['ACCESS_DENIED', 'APPROVAL_REQUIRED', ...VAULT_ERRORS, ...BUS_ERRORS, 'GATEWAY_BUSY'],
  },
  injectCredential: {
    method: 'post',
    path: '/api/v1/injections',
    tag: 'Credentials',
    summary: 'Check out a listed credential for injection',
    description:
      'Opens a lease on a credential listed for this user and endpoint and answers its secret, the one answer that carries one. ' +
      'The lease is released by the appliance or at `releaseAt`, whichever comes first.',
    access: CREDENTIALS,
    body: InjectionRequest,
    answers: {
      201: { description: 'The lease and the secret to inject.', schema: Injection, noStore: true },
      202: {
        description:
          'The access policy asks approvers first: poll `GET /api/v1/approvals/{approvalId}`, or repeat this injection, which checks out once the request is approved (and answers this again while it is pending).',
        schema: PendingInjection,
        noStore: true,
      },
    },
    errors: [
      'CREDENTIAL_NOT_FOUND',
      'CREDENTIAL_NOT_OFFERED',
      'ACCESS_DENIED',
      'APPROVAL_REQUIRED',
      'APPROVAL_DENIED',
      'CREDENTIAL_IN_USE',
      'VAULT_NOT_FOUND',
      'VAULT_ACCOUNT_NOT_FOUND',
      ...VAULT_ERRORS,
      ...BUS_ERRORS,
      'GATEWAY_BUSY',
    ],
  },
  getQueuePlace: {
    method: 'get',
    path: '/api/v1/queue/{queueId}',
    tag: 'Credentials',
    summary: 'Show a place in the queue of an exclusive credential',
    description:
      'The `queueId` of a 409 CREDENTIAL_IN_USE. When the holder is done, the first waiter is told (`policy.queue.turn.v1`) and has ' +
      'the credential for EXCLUSIVE_TURN_SECONDS (status `your-turn`): repeating the injection then checks it out.',
    access: CREDENTIALS,
    params: QueuePath,
    answers: { 200: { description: 'The place: status, position (1 is next), and until when.', schema: QueueView } },
    errors: ['QUEUE_ENTRY_NOT_FOUND', ...BUS_ERRORS],
  },
  listApprovals: {
    method: 'get',
    path: '/api/v1/approvals',
    tag: 'Approvals',
    summary: 'List approval requests',
    description: 'Newest first. With `approver`, only the pending requests that person may still decide (in an approver group, not the requester, not decided yet).',
    access: { permission: 'approvals' },
    query: ApprovalsQuery,
    answers: { 200: { description: 'The requests with their decisions.', schema: SUBJECTS['policy.approval.list.v1'].reply } },
    errors: [...BUS_ERRORS],
  },
  getApproval: {
    method: 'get',
    path: '/api/v1/approvals/{approvalId}',
    tag: 'Approvals',
    summary: 'Show an approval request',
    description:
      'What the appliance polls after a 202: `approved` means repeating the injection checks out (until `expiresAt`). An account holding only ' +
      '`credentials` reads the requests its own injections made; another account\'s is not found.',
    access: { permission: ['approvals', 'credentials'] },
    params: ApprovalPath,
    answers: { 200: { description: 'The request, its status and decisions.', schema: ApprovalView } },
    errors: ['APPROVAL_NOT_FOUND', ...BUS_ERRORS],
  },
  decideApproval: {
    method: 'post',
    path: '/api/v1/approvals/{approvalId}/decision',
    tag: 'Approvals',
    summary: 'Approve or deny an approval request',
    description:
      'The approver must be in one of the policy\'s approver groups and is never the requester; with N approvers required, each counts for a different group. ' +
      'A denial ends the request. A person signed in to the console decides as themselves.',
    access: { permission: 'approvals' },
    params: ApprovalPath,
    body: ApprovalDecisionRequest,
    answers: { 200: { description: 'The request after the decision.', schema: ApprovalView } },
    errors: ['APPROVAL_NOT_FOUND', 'APPROVAL_NOT_PENDING', 'APPROVER_NOT_ELIGIBLE', ...BUS_ERRORS],
  },
  releaseLease: {
    method: 'post',
    path: '/api/v1/leases/{leaseId}/release',
    tag: 'Credentials',
    summary: 'Release a lease',
    description:
      'Checks the credential back in at the vault, which rotates it when the connection says so. Idempotent: releasing twice answers the first release. ' +
      'A lease belongs to the API account that opened it: another account gets 404, unless it holds `admin`.',
    access: CREDENTIALS,
    params: LeasePath,
    answers: { 200: { description: 'The release, and whether a rotation follows.', schema: LeaseRelease } },
    errors: ['LEASE_NOT_FOUND', 'LEASE_NOT_ACTIVE', ...BUS_ERRORS],
  },
  getLease: {
    method: 'get',
    path: '/api/v1/leases/{leaseId}',
    tag: 'Credentials',
    summary: 'Show a lease',
    description:
      'Its state goes active → released → rotated (or checked-in without rotation, or failed). ' +
      'A lease belongs to the API account that opened it: another account gets 404, unless it holds `admin`.',
    access: CREDENTIALS,
    params: LeasePath,
    answers: { 200: { description: 'The lease.', schema: LeaseView } },
    errors: ['LEASE_NOT_FOUND', ...BUS_ERRORS],
  },
  listLeases: {
    method: 'get',
    path: '/api/v1/leases',
    tag: 'Credentials',
    summary: "List every user's leases",
    description: 'Newest first, an operator\'s view; `cursor` takes the previous page\'s `nextCursor`.',
    access: ADMIN,
    query: LeaseListQuery,
    answers: { 200: { description: 'One page of leases.', schema: SUBJECTS['policy.lease.list.v1'].reply } },
    errors: [...BUS_ERRORS],
  },
  putVault: {
    method: 'put',
    path: '/api/v1/admin/vaults/{name}',
    tag: 'Vaults',
    summary: 'Create or replace a vault connection',
    description:
      'Answers the connection with every secret setting masked. Also ensures the requesters group and its access policy, ' +
      'so a call that failed half way is completed by repeating it.',
    access: ADMIN,
    params: VaultPath,
    body: VaultConnectionSubmission,
    answers: {
      200: { description: 'The connection was replaced.', schema: VaultConnectionView },
      201: { description: 'The connection was created.', schema: VaultConnectionView },
    },
    errors: [...BUS_ERRORS],
  },
  listVaults: {
    method: 'get',
    path: '/api/v1/admin/vaults',
    tag: 'Vaults',
    summary: 'List the vault connections',
    access: ADMIN,
    answers: { 200: { description: 'Every connection, secrets masked.', schema: VaultList } },
    errors: [...BUS_ERRORS],
  },
  testVaultSettings: {
    method: 'post',
    path: '/api/v1/admin/vaults/test',
    tag: 'Vaults',
    summary: 'Test Settings as entered',
    description:
      'Lists for the user and endpoint with settings as entered, saved or not: the list (names only), `pending` with the ' +
      "approve URL, or the failing step with the vault's own message. An empty list is a valid answer.",
    access: ADMIN,
    body: UnsavedVaultTest,
    answers: { 200: { description: 'What the vault answered, or where it failed.', schema: VaultTestResult } },
    errors: [...BUS_ERRORS],
  },
  testSavedVault: {
    method: 'post',
    path: '/api/v1/admin/vaults/{name}/test',
    tag: 'Vaults',
    summary: 'Test Settings of a saved connection',
    access: ADMIN,
    params: VaultPath,
    body: SavedVaultTest,
    answers: { 200: { description: 'What the vault answered, or where it failed.', schema: VaultTestResult } },
    errors: ['VAULT_NOT_FOUND', ...BUS_ERRORS],
  },
  clearTokenCache: {
    method: 'delete',
    path: '/api/v1/admin/token-cache',
    tag: 'Vaults',
    summary: 'Clear Token Cache',
    description: "Drops the cached vault sessions: all, one vault's or one user's; the next call signs in anew.",
    access: ADMIN,
    query: TokenCacheQuery,
    answers: { 200: { description: 'How many sessions were dropped.', schema: SUBJECTS['token.cache.delete.v1'].reply } },
    errors: [...BUS_ERRORS],
  },
  resealKeys: {
    method: 'post',
    path: '/api/v1/admin/keys/reseal',
    tag: 'Vaults',
    summary: 'Seal everything again under the active key',
    description:
      'Vault connection settings and check-out handles sealed with an older key of VAULT_SETTINGS_KEYS are sealed again with the active one, so the older key can be removed. What no configured key opens is counted as unreadable and left as it is.',
    access: ADMIN,
    answers: { 200: { description: 'What was sealed again, per kind.', schema: SUBJECTS['vault.keys.reseal.v1'].reply } },
    errors: [...BUS_ERRORS],
  },
  putPolicy: {
    method: 'put',
    path: '/api/v1/admin/policies/{name}',
    tag: 'Access policies',
    summary: 'Create or replace an access policy',
    description:
      'When several policies apply to a user and credential, the most permissive one in its window decides: auto before manual, fewer ' +
      'approvers before more, then not exclusive, no reason asked, the longer release, and the name. Every list and injection names it.',
    access: ADMIN,
    params: PolicyPath,
    body: AccessPolicyDefinition,
    answers: {
      200: { description: 'The policy was replaced.', schema: AccessPolicyView },
      201: { description: 'The policy was created.', schema: AccessPolicyView },
    },
    errors: [...BUS_ERRORS],
  },
  listPolicies: {
    method: 'get',
    path: '/api/v1/admin/policies',
    tag: 'Access policies',
    summary: 'List the access policies',
    access: ADMIN,
    answers: { 200: { description: 'Every policy, with the groups holding it.', schema: SUBJECTS['policy.access-policy.list.v1'].reply } },
    errors: [...BUS_ERRORS],
  },
  getPolicy: {
    method: 'get',
    path: '/api/v1/admin/policies/{name}',
    tag: 'Access policies',
    summary: 'Show an access policy',
    access: ADMIN,
    params: PolicyPath,
    answers: { 200: { description: 'The policy.', schema: AccessPolicyView } },
    errors: ['POLICY_NOT_FOUND', ...BUS_ERRORS],
  },
  deletePolicy: {
    method: 'delete',
    path: '/api/v1/admin/policies/{name}',
    tag: 'Access policies',
    summary: 'Delete an access policy',
    description: 'Refused while a group holds it.',
    access: ADMIN,
    params: PolicyPath,
    answers: { 200: { description: 'The policy is gone.', schema: SUBJECTS['policy.access-policy.delete.v1'].reply } },
    errors: ['POLICY_NOT_FOUND', 'POLICY_IN_USE', ...BUS_ERRORS],
  },
  putGroup: {
    method: 'put',
    path: '/api/v1/admin/groups/{name}',
    tag: 'Requester groups',
    summary: 'Create a requester group or set its policies',
    description: 'The members stay as they are. A group is also what a policy names as an approver group.',
    access: ADMIN,
    params: GroupsPath,
    body: GroupDefinition,
    answers: {
      200: { description: 'The group was changed.', schema: GroupView },
      201: { description: 'The group was created.', schema: GroupView },
    },
    errors: [...BUS_ERRORS],
  },
  listGroups: {
    method: 'get',
    path: '/api/v1/admin/groups',
    tag: 'Requester groups',
    summary: 'List the requester groups',
    access: ADMIN,
    answers: { 200: { description: 'Every group, its policies and how many members it has.', schema: SUBJECTS['policy.group.list.v1'].reply } },
    errors: [...BUS_ERRORS],
  },
  revokeLease: {
    method: 'post',
    path: '/api/v1/admin/leases/{leaseId}/revoke',
    tag: 'Approvals',
    summary: 'Revoke a lease',
    description:
      'Released and rotated at once, whatever the connection says; `policy.lease.revoked.v1` is published and, with an appliance connection ' +
      'configured, the session is ended through the appliance Command API (`terminate_session`).',
    access: ADMIN,
    params: LeasePath,
    body: RevokeRequest,
    answers: { 200: { description: 'The revocation.', schema: RevokedLease } },
    errors: ['LEASE_NOT_FOUND', 'LEASE_NOT_ACTIVE', ...BUS_ERRORS],
  },
  revokeApproval: {
    method: 'post',
    path: '/api/v1/admin/approvals/{approvalId}/revoke',
    tag: 'Approvals',
    summary: 'Revoke an approval',
    description: 'The approval can no longer be used; a lease opened with it is revoked as with `POST /api/v1/admin/leases/{leaseId}/revoke`.',
    access: ADMIN,
    params: ApprovalPath,
    body: RevokeRequest,
    answers: { 200: { description: 'The revoked approval and its lease, if any.', schema: RevokedApproval } },
    errors: ['APPROVAL_NOT_FOUND', ...BUS_ERRORS],
  },
  addGroupMember: {
    method: 'post',
    path: '/api/v1/admin/groups/{group}/members',
    tag: 'Requester groups',
    summary: 'Add a member to a requester group',
    access: ADMIN,
    params: GroupPath,
    body: GroupMemberRequest,
    answers: {
      200: { description: 'The user was a member already.', schema: SUBJECTS['policy.group-member.add.v1'].reply },
      201: { description: 'The user was added.', schema: SUBJECTS['policy.group-member.add.v1'].reply },
    },
    errors: ['GROUP_NOT_FOUND', ...BUS_ERRORS],
  },
  removeGroupMember: {
    method: 'delete',
    path: '/api/v1/admin/groups/{group}/members/{user}',
    tag: 'Requester groups',
    summary: 'Remove a member from a requester group',
    access: ADMIN,
    params: GroupMemberPath,
    answers: { 200: { description: 'Whether the user was a member.', schema: SUBJECTS['policy.group-member.remove.v1'].reply } },
    errors: ['GROUP_NOT_FOUND', ...BUS_ERRORS],
  },
  createApiAccount: {
    method: 'post',
    path: '/api/v1/admin/api-accounts',
    tag: 'API accounts',
    summary: 'Create an API account',
    description: 'The generated client secret is in this answer only; the broker keeps a hash of it. Permissions do not imply each other.',
    access: ADMIN,
    body: ApiAccountRequest,
    answers: { 201: { description: 'The account and its secret.', schema: CreatedApiAccount, noStore: true } },
    errors: [],
  },
  listApiAccounts: {
    method: 'get',
    path: '/api/v1/admin/api-accounts',
    tag: 'API accounts',
    summary: 'List the API accounts',
    access: ADMIN,
    answers: { 200: { description: 'Every account, without secrets.', schema: ApiAccountList } },
    errors: [],
  },
  deleteApiAccount: {
    method: 'delete',
    path: '/api/v1/admin/api-accounts/{clientId}',
    tag: 'API accounts',
    summary: 'Delete an API account',
    description: 'Its tokens stop working (within 5 s on other gateway instances). The last account with `admin` cannot be deleted.',
    access: ADMIN,
    params: ApiAccountPath,
    answers: { 200: { description: 'The account is gone.', schema: ApiAccountDeleted } },
    errors: ['NOT_FOUND'],
  },
  setLogLevel: {
    method: 'put',
    path: '/api/v1/admin/log-level',
    tag: 'Operations',
    summary: 'Switch the log level at run time',
    description:
      "Every running instance of every service (or of one) switches now and returns to its configured LOG_LEVEL after " +
      '`revertAfterSeconds`. Answers the instances that applied it.',
    access: ADMIN,
    body: LogLevelRequest,
    answers: { 200: { description: 'The level and the instances that applied it.', schema: LogLevelAnswer } },
    errors: ['SERVICE_UNAVAILABLE'],
  },
  listInstances: {
    method: 'get',
    path: '/api/v1/admin/instances',
    tag: 'Operations',
    summary: 'List the running instances',
    description: 'Every instance of every service that answered: version, uptime, readiness, migrations and log level.',
    access: ADMIN,
    answers: { 200: { description: 'The instances that answered.', schema: InstanceList } },
    errors: [],
  },
  runDiagnostics: {
    method: 'get',
    path: '/api/v1/admin/diagnostics',
    tag: 'Operations',
    summary: 'Walk the troubleshooting checks',
    description:
      'Infrastructure, services, migrations, keys, API accounts, clock skew against each vault and, with a user and an ' +
      "endpoint, each vault's Test Settings; each check names what failed and what to do.",
    access: ADMIN,
    query: DiagnosticsQuery,
    answers: { 200: { description: 'Every check, and the worst status.', schema: DiagnosticsReport } },
    errors: [],
  },
  searchJumpItems: {
    method: 'get',
    path: '/api/v1/jump-items',
    tag: 'External jump items',
    summary: 'Search the systems a user may reach',
    description:
      "Every connected vault is searched, as the user where it allows (Password Safe's run-as, Secret Server's impersonation), for " +
      'the managed RDP and shell systems whose name, host name, DNS name or IP address contains `search` (case-insensitive), and ' +
      'only systems on which the user would get at least one credential from a list are answered. A search shorter than 2 ' +
      'characters finds nothing. Items are sorted by name across the vaults and paged: `cursor` takes the previous page\'s ' +
      "`nextCursor`. A vault that fails or is slow is named in `pending`. Answers are kept per vault, user and search for " +
      'JUMP_ITEMS_CACHE_SECONDS (30 s); no vault inventory is stored.',
    access: CREDENTIALS,
    query: JumpItemsQuery,
    answers: { 200: { description: 'One page of items, and the vaults that did not answer.', schema: JumpItemList } },
    errors: ['JUMP_ITEMS_DISABLED', 'ACCESS_DENIED', 'APPROVAL_REQUIRED', ...BUS_ERRORS],
  },
  listRecentJumpItems: {
    method: 'get',
    path: '/api/v1/jump-items/recent',
    tag: 'External jump items',
    summary: 'The items a user used lately',
    description: 'An injection on the endpoint of an item the user was shown records its use; the last 20, newest first.',
    access: CREDENTIALS,
    query: RecentJumpItemsQuery,
    answers: { 200: { description: 'The recently used items.', schema: RecentJumpItems } },
    errors: ['JUMP_ITEMS_DISABLED', ...BUS_ERRORS],
  },
  getJumpItemSettings: {
    method: 'get',
    path: '/api/v1/admin/jump-items',
    tag: 'External jump items',
    summary: 'Show the external jump item settings',
    access: ADMIN,
    answers: { 200: { description: 'The settings.', schema: JumpItemSettingsView } },
    errors: [...BUS_ERRORS],
  },
  putJumpItemSettings: {
    method: 'put',
    path: '/api/v1/admin/jump-items',
    tag: 'External jump items',
    summary: 'Set the external jump item settings',
    description:
      'Allow Search for External Jump Items, the Jumpoint sessions from them go through, and the group name the appliance shows ' +
      `them in (default "${DEFAULT_JUMP_ITEM_GROUP}"). Without a Jumpoint, items come back \`startable: false\` with the comment ` +
      `"${NO_JUMPOINT_COMMENT}".`,
    access: ADMIN,
    body: JumpItemSettings,
    answers: { 200: { description: 'The settings as saved.', schema: JumpItemSettingsView } },
    errors: [...BUS_ERRORS],
  },
  listAuditRecords: {
    method: 'get',
    path: '/api/v1/admin/audit',
    tag: 'Audit',
    summary: 'Query the audit trail',
    description:
      'Newest first: every list, injection, release, release at expiry, rotation and its failure, admin change and failed sign-in, with its actor, user, endpoint, vault, ' +
      "credential, lease, outcome and trace id, never a secret. `cursor` takes the previous page's `nextCursor`.",
    access: ADMIN,
    query: AuditQuery,
    answers: { 200: { description: 'One page of records.', schema: AuditPage } },
    errors: ['SERVICE_UNAVAILABLE'],
  },
  exportAuditRecords: {
    method: 'get',
    path: '/api/v1/admin/audit/export',
    tag: 'Audit',
    summary: 'Export the audit trail as JSON lines',
    description: 'Oldest first, one record per line (`application/x-ndjson`), streamed: for a SIEM.',
    access: ADMIN,
    query: AuditExportQuery,
    answers: { 200: { description: 'One audit record per line.', schema: z.string(), contentTypes: ['application/x-ndjson'] } },
    errors: ['SERVICE_UNAVAILABLE'],
  },
  verifyAuditChain: {
    method: 'post',
    path: '/api/v1/admin/audit/verify',
    tag: 'Audit',
    summary: 'Verify the audit chain',
    description:
      'Walks the HMAC chain (AUDIT_HMAC_KEYS) in its order and answers the first record that was changed, removed (a gap in the ' +
      'chain) or moved out of its place; records written in the last moments and not linked yet are counted, not judged.',
    access: ADMIN,
    answers: { 200: { description: 'Whether the chain holds, and where it does not.', schema: AuditVerification } },
    errors: ['SERVICE_UNAVAILABLE'],
  },
  getReportSummary: {
    method: 'get',
    path: '/api/v1/reports/summary',
    tag: 'Reports',
    summary: 'Summary cards, top 10s and the series of a time range',
    description:
      'Sessions started, injections, distinct users and endpoints, failed credential requests, failed rotations and emergency ' +
      'accesses in [from, to) (default: the 7 days before now), the top 10 endpoints, users and credentials by injections, and ' +
      'sessions and injections per hour (up to 72 hours) or per day. Hours and days are UTC; a range is at most ten years ' +
      '(3,660 days), and its answer is exact whatever its length (whole days are read from daily, monthly and yearly ' +
      'rollups, the partial days at either end from the events themselves). REPORT_CARD_GRIDS names the grid query behind each card.',
    access: REPORTING,
    query: SummaryQuery as unknown as z.ZodObject,
    answers: { 200: { description: 'The summary.', schema: ReportSummary } },
    errors: [...BUS_ERRORS],
  },
  listReportSessions: {
    method: 'get',
    path: '/api/v1/reports/sessions',
    tag: 'Reports',
    summary: 'The session grid',
    description: GRID_DESCRIPTION,
    access: REPORTING,
    query: SessionsQuery,
    answers: {
      200: {
        description: 'One page of sessions, or (`Accept: text/csv`) all of them.',
        schema: SessionPage,
        alternatives: { 'text/csv': z.string() },
      },
    },
    errors: [...BUS_ERRORS],
  },
  listReportEvents: {
    method: 'get',
    path: '/api/v1/reports/events',
    tag: 'Reports',
    summary: 'The event grid',
    description: `${GRID_DESCRIPTION} An event's \`data\` is a JSON object in its CSV column.`,
    access: REPORTING,
    query: EventsQuery,
    answers: {
      200: {
        description: 'One page of events, or (`Accept: text/csv`) all of them.',
        schema: EventPage,
        alternatives: { 'text/csv': z.string() },
      },
    },
    errors: [...BUS_ERRORS],
  },
  getReportSession: {
    method: 'get',
    path: '/api/v1/reports/sessions/{id}',
    tag: 'Reports',
    summary: 'A session and its events',
    description:
      "Its events oldest first, each with its data, source and (a broker event's) trace id: the first 1,000, and `moreEvents` when " +
      'the event grid (`sessionId=`) has more.',
    access: REPORTING,
    params: SessionPath,
    answers: { 200: { description: 'The session and its events.', schema: SessionDetail } },
    errors: ['NOT_FOUND', ...BUS_ERRORS],
  },
  ingestSessionEvents: {
    method: 'post',
    path: '/api/v1/sessions/events',
    tag: 'Appliance sessions',
    summary: "Record a batch of the appliance's session events",
    description:
      'Up to 1,000 events. Each is judged on its own: a malformed event is answered in `rejected` by its index with each bad field ' +
      'named (`events[3].timestamp`), the others are stored. Idempotent: an event with the same appliance `eventId` (or, without ' +
      'one, the same content) is stored once, and counted in `duplicates` when sent again. The session row takes its attributes.',
    access: REPORTING,
    // described event by event; the gateway validates the batch's shape and session-reporting each event
    body: SessionEventBatchDescribed,
    answers: { 200: { description: 'What was stored, what had been, and what was rejected.', schema: IngestResult } },
    errors: [...BUS_ERRORS],
  },
  getApplianceConnection: {
    method: 'get',
    path: '/api/v1/admin/appliance',
    tag: 'Appliance sessions',
    summary: 'Show the appliance connection',
    description: 'The connection the broker polls the appliance\'s reporting API with, and where the poller stands; never the client secret.',
    access: ADMIN,
    answers: { 200: { description: 'The connection, secret left out.', schema: ApplianceConnectionView } },
    errors: [...BUS_ERRORS],
  },
  putApplianceConnection: {
    method: 'put',
    path: '/api/v1/admin/appliance',
    tag: 'Appliance sessions',
    summary: 'Set the appliance connection',
    description:
      "The appliance's site URL and an API account (OAuth client credentials) with the Reporting API permission (and the Command " +
      'API, for ending sessions); its session reports are polled every `pollIntervalSeconds`. The client secret is kept encrypted ' +
      '(APPLIANCE_SETTINGS_KEYS) and never answered. A plain http:// URL needs `allowInsecureHttp`.',
    access: ADMIN,
    body: ApplianceConnectionInput,
    answers: { 200: { description: 'The connection as saved, secret left out.', schema: ApplianceConnectionView } },
    errors: [...BUS_ERRORS],
  },
  getLiveness: {
    method: 'get',
    path: '/health/live',
    tag: 'Operations',
    summary: 'Liveness',
    access: 'anyone',
    answers: { 200: { description: 'The process answers.', schema: Liveness } },
    errors: [],
  },
  getReadiness: {
    method: 'get',
    path: '/health/ready',
    tag: 'Operations',
    summary: 'Readiness',
    description: 'Ready when NATS, PostgreSQL and Redis are reachable.',
    access: 'anyone',
    answers: {
      200: { description: 'Every check is up.', schema: Readiness },
      503: { description: 'A check is down.', schema: Readiness },
    },
    errors: [],
  },
  getMetrics: {
    method: 'get',
    path: '/metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics',
    access: 'anyone',
    answers: { 200: { description: 'The Prometheus text format.', schema: z.string(), contentTypes: ['text/plain'] } },
    errors: [],
  },
  getOpenApiDocument: {
    method: 'get',
    path: '/api/openapi.json',
    tag: 'Operations',
    summary: 'This description',
    description: 'The OpenAPI 3.1 document of this API, generated from the schemas the gateway validates with.',
    access: 'anyone',
    answers: { 200: { description: 'The OpenAPI document.', schema: z.record(z.string(), z.unknown()) } },
    errors: [],
  },
  getApiReference: {
    method: 'get',
    path: '/api/docs',
    tag: 'Operations',
    summary: 'The API reference page',
    description: 'This description rendered by Swagger UI, served by the gateway itself: it works offline.',
    access: 'anyone',
    answers: { 200: { description: 'The page.', schema: z.string(), contentTypes: ['text/html'] } },
    errors: [],
  },
  getApiReferenceAsset: {
    method: 'get',
    path: '/api/docs/assets/{file}',
    tag: 'Operations',
    summary: "The reference page's scripts and styles",
    access: 'anyone',
    params: ApiDocsAssetPath,
    answers: { 200: { description: 'The file.', schema: z.string(), contentTypes: ['text/javascript', 'text/css'] } },
    errors: ['NOT_FOUND'],
  },
  ...CONSOLE_ROUTES,
} satisfies Record<string, GatewayRoute>;

export type GatewayRouteId = keyof typeof GATEWAY_ROUTES;

/**
 * Every error code a route can answer: its own, those its access implies, and those of every route
 * (VALIDATION_FAILED, REQUEST_HEADERS_TOO_LARGE for a request head over the limit, INTERNAL).
 */
export function routeErrors(route: GatewayRoute): ErrorCode[] {
  const access: ErrorCode[] =
    route.access === 'anyone' ? [] : route.access === 'client-credentials' ? ['UNAUTHENTICATED'] : ['UNAUTHENTICATED', 'PERMISSION_MISSING'];
  // a console session's state-changing call without its CSRF token
  if (typeof route.access === 'object' && route.method !== 'get') access.push('CSRF_TOKEN_INVALID');
  return [...new Set<ErrorCode>(['VALIDATION_FAILED', ...access, ...route.errors, 'REQUEST_HEADERS_TOO_LARGE', 'INTERNAL'])];
}
