import { SecretValue } from '@openecm/crypto';
import { z } from 'zod';
import {
  VaultHttp,
  VaultTransportError,
  isRetryableStatus,
  type VaultHttpAnswer,
  type VaultHttpLogger,
  type VaultRetryOptions,
  type VaultTransportFailure,
  type VaultTransportOptions,
} from '@openecm/vault-sdk';
import { PasswordSafeError, redactRequestIds, type PasswordSafeErrorKind } from './password-safe.errors';

export { PasswordSafeError, redactRequestIds, type PasswordSafeErrorKind } from './password-safe.errors';

/**
 * Everything needed to reuse a signed-in session: plain data, so a caller can cache it (encrypted) and
 * rebuild it later. It holds secrets (session cookie, and for API-key mode the PS-Auth header with the key).
 */
export interface PasswordSafeSession {
  /** One Cookie header value, `name=value` pairs only. */
  cookie: string;
  /** PS-Auth header resent on every call, because some API registrations re-check it. */
  authorization?: string;
}

export type PasswordSafeLogger = VaultHttpLogger;
export type PasswordSafeRetryOptions = VaultRetryOptions;

export interface PasswordSafeClientOptions extends VaultTransportOptions {
  /** e.g. `https://ps.example/BeyondTrust/api/public/v3/` */
  baseUrl: string;
}

export interface ManagedAccountQuery {
  systemName?: string;
  accountName?: string;
  systemId?: number;
  workgroupName?: string;
  ipAddress?: string;
  type?: 'system' | 'recent' | 'domainlinked' | 'database' | 'cloud' | 'application';
  limit?: number;
  offset?: number;
}

export type AccessType = 'View' | 'RDP' | 'SSH' | 'App';

export interface CreateRequestInput {
  systemId: number;
  accountId: number;
  durationMinutes: number;
  reason: string;
  accessType?: AccessType;
  /** Left out of the body when undefined, so the server applies its own policy. */
  rotateOnCheckin?: boolean;
}

const managedSystemSchema = z.looseObject({
  ManagedSystemID: z.number().int(),
  AssetID: z.number().int().nullish(),
  WorkgroupID: z.number().int().nullish(),
  HostName: z.string().nullish(),
  DnsName: z.string().nullish(),
  IPAddress: z.string().nullish(),
  SystemName: z.string(),
  PlatformID: z.number().int().nullish(),
  Port: z.number().int().nullish(),
  ReleaseDuration: z.number().nullish(),
  MaxReleaseDuration: z.number().nullish(),
  ChangePasswordAfterAnyReleaseFlag: z.boolean().nullish(),
  RemoteClientType: z.string().nullish(),
  Description: z.string().nullish(),
});

const systemsPageSchema = z.looseObject({ TotalCount: z.number().int().nonnegative(), Data: z.array(managedSystemSchema) });

const platformSchema = z.looseObject({
  PlatformID: z.number().int(),
  Name: z.string(),
  DefaultSessionType: z.string().nullish(),
});

const workgroupSchema = z.looseObject({ ID: z.number().int(), Name: z.string() });

const managedAccountSchema = z.looseObject({
  PlatformID: z.number().int().nullish(),
  SystemId: z.number().int(),
  SystemName: z.string().nullish(),
  DomainName: z.string().nullish(),
  AccountId: z.number().int(),
  AccountName: z.string(),
  InstanceName: z.string().nullish(),
  UserPrincipalName: z.string().nullish(),
  DefaultReleaseDuration: z.number().nullish(),
  MaximumReleaseDuration: z.number().nullish(),
  LastChangeDate: z.string().nullish(),
  NextChangeDate: z.string().nullish(),
  IsChanging: z.boolean().nullish(),
  ChangeState: z.number().nullish(),
  AccountDescription: z.string().nullish(),
});

/** ManagedAccounts answers one account as an object and several as an array; built once, not on every page. */
const managedAccountsSchema = z.union([z.array(managedAccountSchema), managedAccountSchema]);
const tokenSchema = z.looseObject({ access_token: z.string().min(1) });

/** One of the signed-in user's requests, as `GET Requests` answers it: `SystemID`/`AccountID` casing here. */
const requestSchema = z.looseObject({
  RequestID: z.number().int().positive(),
  SystemID: z.number().int().nullish(),
  SystemName: z.string().nullish(),
  AccountID: z.number().int().nullish(),
  AccountName: z.string().nullish(),
  DomainName: z.string().nullish(),
  AliasID: z.number().int().nullish(),
  ApplicationID: z.number().int().nullish(),
  RequestReleaseDate: z.string().nullish(),
  ApprovedDate: z.string().nullish(),
  ExpiresDate: z.string().nullish(),
  Status: z.string().nullish(),
  AccessType: z.string().nullish(),
});

export type ManagedSystem = z.infer<typeof managedSystemSchema>;
export type ReleaseRequest = z.infer<typeof requestSchema>;

/** The requests a user holds and the vault's clock when it answered (from `Date`; undefined without one). */
export interface HeldRequests {
  requests: ReleaseRequest[];
  vaultNow: number | undefined;
}
export type ManagedAccount = z.infer<typeof managedAccountSchema>;
export type Platform = z.infer<typeof platformSchema>;
export type Workgroup = z.infer<typeof workgroupSchema>;

const ENDED_OR_PENDING = /^\s*(pending|denied|rejected|expired|released|checked ?in|cancell?ed)\s*$/i;
const DEFAULT_ATTEMPTS = 5;
const PAGE_SIZE = 1000;
/** Bounds paging so a misbehaving server cannot keep the client looping. */
const MAX_PAGES = 100;

const TRANSPORT_KINDS: Record<VaultTransportFailure, PasswordSafeErrorKind> = {
  tls: 'tls',
  unreachable: 'unavailable',
  'too-large': 'unexpected',
  'refused-address': 'address-refused',
};

type Phase = 'sign-in' | 'call';

interface Exchange {
  /** Fixed label such as `GET Credentials/{id}`: the only way an operation is named in logs and messages. */
  op: string;
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  phase: Phase;
  /** Gives a status a call-specific meaning before the generic mapping applies. */
  classify?: (status: number) => PasswordSafeErrorKind | undefined;
}

type Answer = VaultHttpAnswer;

export class PasswordSafeClient {
  private readonly baseUrl: URL;
  private readonly http: VaultHttp;
  private readonly logger: PasswordSafeLogger | undefined;

  constructor(options: PasswordSafeClientOptions) {
    const base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new Error('Password Safe base URL must be http(s)');
    }
    this.baseUrl = base;
    this.logger = options.logger;
    this.http = new VaultHttp({
      ...options,
      vault: 'Password Safe',
      retry: { ...options.retry, attempts: options.retry?.attempts ?? DEFAULT_ATTEMPTS },
    });
  }

  async close(): Promise<void> {
    await this.http.close();
  }


  /** The key and password are revealed here only, into the header they sign in with. */
  async signInWithApiKey(input: { apiKey: SecretValue; runAs: string; password?: SecretValue }): Promise<PasswordSafeSession> {
    assertHeaderSafe([input.apiKey.reveal(), input.runAs, input.password?.reveal() ?? '']);
    const runAs = runAsProblem(input.runAs);
    if (runAs) throw new PasswordSafeError('bad-request', `the run-as user name ${runAs}`, { attempts: 0 });
    const authorization =
      `PS-Auth key=${input.apiKey.reveal()}; runas=${input.runAs};` + (input.password === undefined ? '' : ` pwd=[${input.password.reveal()}];`);
    const answer = await this.exchange({
      op: 'POST Auth/SignAppin',
      method: 'POST',
      path: 'Auth/SignAppin',
      headers: { authorization },
      phase: 'sign-in',
    });
    return { cookie: this.sessionCookie('POST Auth/SignAppin', answer), authorization };
  }

  /** The client secret is revealed here only, into the token request's body. */
  async signInWithOAuth(input: { clientId: string; clientSecret: SecretValue }): Promise<PasswordSafeSession> {
    const tokenOp = 'POST Auth/connect/token';
    const tokenAnswer = await this.exchange({
      op: tokenOp,
      method: 'POST',
      path: 'Auth/connect/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: input.clientId,
        client_secret: input.clientSecret.reveal(),
      }).toString(),
      phase: 'sign-in',
      // The token endpoint speaks OAuth, where a refused client is 400/401 invalid_client rather than a PS status.
      classify: (status) => (status === 400 || status === 401 ? 'bad-credentials' : undefined),
    });
    const token = tokenSchema.safeParse(parseJson(tokenAnswer.text));
    if (!token.success) {
      throw new PasswordSafeError('unexpected', `${tokenOp} answered without an access token`, { status: tokenAnswer.status });
    }
    assertHeaderSafe([token.data.access_token]);
    const signInOp = 'POST Auth/SignAppIn';
    const answer = await this.exchange({
      op: signInOp,
      method: 'POST',
      path: 'Auth/SignAppIn',
      headers: { authorization: `Bearer ${token.data.access_token}` },
      phase: 'sign-in',
    });
    return { cookie: this.sessionCookie(signInOp, answer) };
  }

  /** Ends the session. A session the server already dropped counts as signed out. */
  async signOut(session: PasswordSafeSession): Promise<void> {
    try {
      await this.exchange({ op: 'POST Auth/Signout', method: 'POST', path: 'Auth/Signout', headers: sessionHeaders(session), phase: 'call' });
    } catch (error) {
      if (error instanceof PasswordSafeError && error.kind === 'session-expired') return;
      throw error;
    }
  }


  /** Every managed system, a page at a time: unpaged, a large inventory would be one answer of tens of megabytes. */
  async listManagedSystems(session: PasswordSafeSession): Promise<ManagedSystem[]> {
    const first = await this.managedSystemsPage(session, { limit: PAGE_SIZE, offset: 0 });
    const all = [...first.Data];
    for (let page = 1; page < MAX_PAGES && all.length < first.TotalCount; page += 1) {
      const next = await this.managedSystemsPage(session, { limit: PAGE_SIZE, offset: page * PAGE_SIZE });
      if (next.Data.length === 0) break;
      all.push(...next.Data);
    }
    return all;
  }

  /** With `limit` the vendor answers `{TotalCount, Data}` (an array without it); `offset` goes only with `limit`. */
  async managedSystemsPage(session: PasswordSafeSession, page: { limit: number; offset: number }): Promise<{ TotalCount: number; Data: ManagedSystem[] }> {
    const op = 'GET ManagedSystems';
    const answer = await this.exchange({
      op,
      method: 'GET',
      path: `ManagedSystems?limit=${positiveId('limit', page.limit)}&offset=${Math.max(0, Math.floor(page.offset))}`,
      headers: sessionHeaders(session),
      phase: 'call',
    });
    return parseBody(op, answer, systemsPageSchema);
  }

  /** The platforms, with the session type (RDP, SSH or none) each is reached with. Needs no permission. */
  async listPlatforms(session: PasswordSafeSession): Promise<Platform[]> {
    const op = 'GET Platforms';
    const answer = await this.exchange({ op, method: 'GET', path: 'Platforms', headers: sessionHeaders(session), phase: 'call' });
    return parseBody(op, answer, z.array(platformSchema));
  }

  async listWorkgroups(session: PasswordSafeSession): Promise<Workgroup[]> {
    const op = 'GET Workgroups';
    const answer = await this.exchange({ op, method: 'GET', path: 'Workgroups', headers: sessionHeaders(session), phase: 'call' });
    return parseBody(op, answer, z.array(workgroupSchema));
  }

  /**
   * Always an array. The API answers ONE OBJECT when both systemName and accountName are given (and 404
   * when that one is missing); both are folded into the list form here. Without limit/offset it pages
   * through everything.
   */
  async listManagedAccounts(session: PasswordSafeSession, query: ManagedAccountQuery = {}): Promise<ManagedAccount[]> {
    const single = Boolean(query.systemName && query.accountName);
    if (single || query.limit !== undefined || query.offset !== undefined) {
      return this.managedAccountsPage(session, query);
    }
    const all: ManagedAccount[] = [];
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const items = await this.managedAccountsPage(session, { ...query, limit: PAGE_SIZE, offset: page * PAGE_SIZE });
      all.push(...items);
      if (items.length < PAGE_SIZE) return all;
    }
    this.logger?.warn({ op: 'GET ManagedAccounts', pages: MAX_PAGES }, 'password safe account listing truncated');
    return all;
  }

  async listDomainLinkedAccounts(session: PasswordSafeSession, systemId: number): Promise<ManagedAccount[]> {
    return this.listManagedAccounts(session, { type: 'domainlinked', systemId: positiveId('systemId', systemId) });
  }


  /**
   * Always sends ConflictOption "reuse": concurrent pulls then share one request instead of failing with
   * 4091, and a retry after a lost answer gets the same id back instead of a second request.
   */
  async createRequest(session: PasswordSafeSession, input: CreateRequestInput): Promise<number> {
    const op = 'POST Requests';
    const body = {
      AccessType: input.accessType ?? 'View',
      SystemID: positiveId('systemId', input.systemId),
      AccountID: positiveId('accountId', input.accountId),
      DurationMinutes: input.durationMinutes,
      Reason: input.reason,
      ConflictOption: 'reuse',
      ...(input.rotateOnCheckin === undefined ? {} : { RotateOnCheckin: input.rotateOnCheckin }),
    };
    const answer = await this.exchange({
      op,
      method: 'POST',
      path: 'Requests',
      headers: { ...sessionHeaders(session), 'content-type': 'application/json' },
      body: JSON.stringify(body),
      phase: 'call',
    });
    const match = /^\s*"?(\d{1,15})"?\s*$/.exec(answer.text);
    if (!match?.[1]) throw new PasswordSafeError('unexpected', `${op} answered without a request id`, { status: answer.status });
    return Number(match[1]);
  }

  /**
   * The signed-in user's requests (the run-as user in API-key mode, the application in OAuth mode) that are
   * active: approved and neither released nor expired. Each `RequestID` is a bearer capability: the caller keeps
   * it out of logs, traces and answers. `vaultNow` is the vault's clock, to read request ages against.
   */
  async listActiveRequests(session: PasswordSafeSession): Promise<HeldRequests> {
    const op = 'GET Requests';
    const answer = await this.exchange({ op, method: 'GET', path: 'Requests?status=active&queue=req', headers: sessionHeaders(session), phase: 'call' });
    // asked for active ones; a status that says otherwise (an older server ignoring the filter) is left out
    const requests = parseBody(op, answer, z.array(requestSchema)).filter((r) => !ENDED_OR_PENDING.test(r.Status ?? ''));
    const date = answer.headers['date'];
    const vaultNow = Date.parse((Array.isArray(date) ? date[0] : date) ?? '');
    return { requests, vaultNow: Number.isNaN(vaultNow) ? undefined : vaultNow };
  }

  /** The checked-out password, held as a SecretValue from the moment it is parsed. */
  async getCredential(session: PasswordSafeSession, requestId: number): Promise<SecretValue> {
    const op = 'GET Credentials/{id}';
    const answer = await this.exchange({
      op,
      method: 'GET',
      path: `Credentials/${positiveId('requestId', requestId)}?type=password`,
      headers: sessionHeaders(session),
      phase: 'call',
    });
    const secret = parseJson(answer.text);
    if (typeof secret !== 'string') {
      throw new PasswordSafeError('unexpected', `${op} answered something other than a JSON string`, { status: answer.status });
    }
    return SecretValue.of(secret);
  }

  async checkin(session: PasswordSafeSession, requestId: number, reason: string): Promise<void> {
    const op = 'PUT Requests/{id}/Checkin';
    try {
      await this.exchange({
        op,
        method: 'PUT',
        path: `Requests/${positiveId('requestId', requestId)}/Checkin`,
        headers: { ...sessionHeaders(session), 'content-type': 'application/json' },
        body: JSON.stringify({ Reason: reason }),
        phase: 'call',
      });
    } catch (error) {
      // After a retry, 404 means an earlier attempt checked the request in and only its answer was lost.
      if (error instanceof PasswordSafeError && error.kind === 'not-found' && error.attempts > 1) return;
      throw error;
    }
  }

  async rotateOnCheckin(session: PasswordSafeSession, requestId: number): Promise<void> {
    await this.exchange({
      op: 'PUT Requests/{id}/RotateOnCheckin',
      method: 'PUT',
      path: `Requests/${positiveId('requestId', requestId)}/RotateOnCheckin`,
      headers: sessionHeaders(session),
      phase: 'call',
    });
  }


  private async managedAccountsPage(session: PasswordSafeSession, query: ManagedAccountQuery): Promise<ManagedAccount[]> {
    const op = 'GET ManagedAccounts';
    const params = new URLSearchParams();
    const set = (name: string, value: string | number | undefined): void => {
      if (value !== undefined && value !== '') params.set(name, String(value));
    };
    set('systemName', query.systemName);
    set('accountName', query.accountName);
    set('systemID', query.systemId);
    set('workgroupName', query.workgroupName);
    set('ipAddress', query.ipAddress);
    set('type', query.type);
    set('limit', query.limit);
    set('offset', query.offset);
    const qs = params.toString();
    try {
      const answer = await this.exchange({
        op,
        method: 'GET',
        path: qs ? `ManagedAccounts?${qs}` : 'ManagedAccounts',
        headers: sessionHeaders(session),
        phase: 'call',
      });
      const parsed = parseBody(op, answer, managedAccountsSchema);
      return Array.isArray(parsed) ? parsed : [parsed];
    } catch (error) {
      // ManagedAccounts itself always exists, so its 404 can only be the "Managed Account not found" quirk.
      if (error instanceof PasswordSafeError && error.kind === 'not-found') return [];
      throw error;
    }
  }

  private sessionCookie(op: string, answer: Answer): string {
    const raw = answer.headers['set-cookie'];
    const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const pairs = new Map<string, string>();
    for (const line of lines) {
      // Only name=value goes back: replaying Path/HttpOnly/Secure attributes breaks real servers.
      const pair = line.split(';')[0]?.trim() ?? '';
      const eq = pair.indexOf('=');
      if (eq > 0) pairs.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    if (pairs.size === 0) throw new PasswordSafeError('unexpected', `${op} answered without session cookies`, { status: answer.status });
    return [...pairs].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  /**
   * Sends one call through the shared transport (retries on transport errors, 5xx and 408 only) and turns
   * a failed transport or any non-2xx answer into a PasswordSafeError.
   */
  private async exchange(call: Exchange): Promise<Answer> {
    let answer: Answer;
    try {
      answer = await this.http.send({
        op: call.op,
        method: call.method,
        url: new URL(call.path, this.baseUrl).toString(),
        headers: call.headers,
        body: call.body,
      });
    } catch (error) {
      if (!(error instanceof VaultTransportError)) throw error;
      throw new PasswordSafeError(TRANSPORT_KINDS[error.failure], error.message, error.details);
    }
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw toError(call, answer);
  }
}

/**
 * Runs `call` with the session from `getSession`; if the server says the session died, gets a new one
 * from `refresh` and runs `call` exactly once more.
 */
export async function withSessionRetry<T>(
  getSession: () => Promise<PasswordSafeSession>,
  refresh: (stale: PasswordSafeSession) => Promise<PasswordSafeSession>,
  call: (session: PasswordSafeSession) => Promise<T>,
): Promise<T> {
  const session = await getSession();
  try {
    return await call(session);
  } catch (error) {
    if (!(error instanceof PasswordSafeError) || error.kind !== 'session-expired') throw error;
    return call(await refresh(session));
  }
}


function sessionHeaders(session: PasswordSafeSession): Record<string, string> {
  return session.authorization === undefined ? { cookie: session.cookie } : { cookie: session.cookie, authorization: session.authorization };
}

function positiveId(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new PasswordSafeError('bad-request', `${name} must be a positive integer`, { attempts: 0 });
  }
  return value;
}

/** A CR, LF or NUL would let a value inject headers; refusing here keeps undici from echoing it in an error. */
/**
 * Why a user name cannot be the `runas` of a PS-Auth header, or undefined when it can. A header carries bytes:
 * a character beyond Latin-1 has no byte to travel as (fetch refuses it before any connection), a control
 * character ends or corrupts the header, and `;` would start a parameter of the caller's choosing.
 */
export function runAsProblem(user: string): string | undefined {
  if (/\p{Cc}/u.test(user)) return 'must not contain control characters to be sent to Password Safe';
  if ([...user].some((ch) => (ch.codePointAt(0) as number) > 0xff)) {
    return 'must hold Latin-1 characters only to be sent to Password Safe (its API key sign-in names the user in an HTTP header)';
  }
  if (user.includes(';')) return 'must not contain ";" to be sent to Password Safe (it separates the sign-in header\'s parameters)';
  return undefined;
}

function assertHeaderSafe(values: string[]): void {
  if (values.some((v) => /[\r\n\0]/.test(v))) {
    throw new PasswordSafeError('bad-request', 'credential values must not contain line-break or NUL characters', { attempts: 0 });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseBody<T>(op: string, answer: Answer, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(parseJson(answer.text));
  if (!parsed.success) throw new PasswordSafeError('unexpected', `${op} answered a body of an unexpected shape`, { status: answer.status });
  return parsed.data;
}

/**
 * A Password Safe date as milliseconds: the API writes ISO 8601, often without a zone, which is the server's
 * UTC; undefined for anything else.
 */
export function vaultDate(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim()) ? text.trim() : `${text.trim()}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : ms;
}

function vendorCode(text: string): number | undefined {
  const match = /^\s*"?(\d{4})"?\s*$/.exec(text);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** A short, redacted server message for 400s; everything else is described by status and code only. */
function serverMessage(text: string): string {
  const parsed = parseJson(text);
  const raw = typeof parsed === 'string' ? parsed : text;
  const cleaned = redactRequestIds(raw).replace(/[^\x20-\x7E]/g, ' ').trim();
  return cleaned.length > 200 ? `${cleaned.slice(0, 200)}...` : cleaned;
}

function toError(call: Exchange, answer: Answer): PasswordSafeError {
  const { status } = answer;
  const code = vendorCode(answer.text);
  const head = `Password Safe answered ${status}${code === undefined ? '' : ` (${code})`} to ${call.op}`;
  const kind = call.classify?.(status) ?? kindOf(status, code, call.phase);
  const details = { status, attempts: answer.attempts, ...(code === undefined ? {} : { code }) };
  if (kind === 'bad-request') {
    // the vault's own words stay in the details, for the log; an answer to a caller never echoes a vault's body
    const detail = serverMessage(answer.text);
    return new PasswordSafeError(kind, head, { ...details, ...(detail ? { vaultMessage: detail } : {}) });
  }
  if (kind === 'unavailable') return new PasswordSafeError(kind, `${head} after ${answer.attempts} attempts`, details);
  return new PasswordSafeError(kind, head, details);
}

function kindOf(status: number, code: number | undefined, phase: Phase): PasswordSafeErrorKind {
  if (isRetryableStatus(status)) return 'unavailable';
  switch (status) {
    case 400:
      return 'bad-request';
    case 401:
      return phase === 'sign-in' ? 'bad-credentials' : 'session-expired';
    case 403:
      if (phase === 'sign-in') return 'licence';
      if (code === 4033) return 'approver-only';
      if (code === 4034) return 'approval-pending';
      return 'forbidden';
    case 404:
      return 'not-found';
    case 409:
      return 'conflict';
    case 410:
      return 'api-disabled';
    default:
      return 'unexpected';
  }
}
