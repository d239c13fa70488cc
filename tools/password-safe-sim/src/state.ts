import { randomBytes, randomInt } from 'node:crypto';
import { SimStateBase, type FaultMatch } from '@openecm/sim-kit';
import {
  ACCOUNT_NOT_FOUND,
  ApiError,
  NOT_AUTHENTICATED,
  CODE_CONFLICT,
  CODE_NOT_APPROVED,
  badRequest,
  noPermission,
  notAuthenticated,
} from './errors';
import {
  parseSeed,
  type ParsedSeed,
  type SeedDomainLinkedAccount,
  type SeedManagedAccount,
  type SeedManagedSystem,
  type SeedPlatform,
  type SeedUser,
  type SimSeed,
} from './seed';

export type SignInMode = 'apiKey' | 'oauth';
export type AccessType = 'View' | 'RDP' | 'SSH' | 'App';
export type RequestStatus = 'open' | 'released' | 'expired' | 'cancelled';

type ApiRegistration = ParsedSeed['apiRegistrations'][number];
type OAuthClient = ParsedSeed['oauthClients'][number];

interface Identity {
  mode: SignInMode;
  /** Requests belong to this key: a run-as user in API-key mode, the application in OAuth mode. */
  ownerKey: string;
  user?: SeedUser;
  registration?: ApiRegistration;
  psAuth?: { key: string; runAs: string };
}

interface Session {
  id: string;
  csrf: string;
  identity: Identity;
  lastSeenAt: number;
}

type AccountRecord = ({ kind: 'local'; seed: SeedManagedAccount } | { kind: 'domain'; seed: SeedDomainLinkedAccount }) & {
  password: string;
  rotations: number;
  lastChangeAt: number;
  /** Lower-cased run-as names (and user groups) that may request the account; 'all' when anyone may. */
  requesterKeys: Set<string> | 'all';
  groupKeys: Set<string>;
};

type VisibleItem = { system: SeedManagedSystem; record: AccountRecord };

interface ReleaseRequest {
  id: number;
  ownerKey: string;
  systemId: number;
  accountId: number;
  accessType: AccessType;
  durationMinutes: number;
  reason: string;
  createdAt: number;
  expiresAt: number;
  approved: boolean;
  rotateOnCheckin: boolean;
  status: RequestStatus;
  /** How many times ending this request changed the account's password (a test's "exactly once"). */
  rotations: number;
}

interface Counters {
  apiKey: number;
  oauth: number;
  failedSignIns: number;
  tokensIssued: number;
  byUser: Record<string, number>;
  byClient: Record<string, number>;
}

export interface SimRequestView {
  requestId: number;
  owner: string;
  systemId: number;
  accountId: number;
  accessType: AccessType;
  durationMinutes: number;
  approved: boolean;
  rotateOnCheckin: boolean;
  createdAt: string;
  expiresAt: string;
}

/** One request as `GET Requests` answers it: the vendor's field names, `SystemID`/`AccountID` casing. */
export interface RequestItem {
  RequestID: number;
  SystemID: number;
  SystemName: string | null;
  AccountID: number;
  AccountName: string | null;
  DomainName: string | null;
  AliasID: number | null;
  ApplicationID: number | null;
  RequestReleaseDate: string;
  ApprovedDate: string | null;
  ExpiresDate: string;
  Status: 'Pending' | 'Active' | 'Released' | 'Expired' | 'Cancelled';
  AccessType: AccessType;
}

export interface SimStats {
  signIns: { apiKey: number; oauth: number; total: number };
  /** Successful API-key sign-ins per run-as user (seed spelling). */
  signInsByUser: Record<string, number>;
  /** Successful OAuth sign-ins per client id. */
  signInsByClient: Record<string, number>;
  failedSignIns: number;
  tokensIssued: number;
  activeSessions: number;
  activeRequests: number;
  faultsServed: number;
  faultsPending: number;
}

/** `path` is matched below the API base, e.g. `Auth/SignAppin`. */
export interface SimFault extends Pick<FaultMatch, 'count' | 'method' | 'path' | 'drop' | 'delayMs'> {
  status: number;
  body?: number | string | Record<string, unknown>;
  /** Let the call take effect, then answer with the fault: an answer lost after the server acted. */
  afterHandler?: boolean;
  /** After `delayMs`, the call goes through unchanged: a slow vault, not a failing one. */
  through?: boolean;
}

export interface SignInResult {
  session: { id: string; csrf: string };
  body: { UserId: number; SID: string; EmailAddress: string | null; UserName: string; Name: string };
}

const ACCESS_TYPES: readonly AccessType[] = ['View', 'RDP', 'SSH', 'App'];
const ACCOUNT_TYPES = ['system', 'recent', 'domainlinked', 'database', 'cloud', 'application'] as const;
const MAX_DURATION_MINUTES = 525600;
const TOKEN_LIFETIME_SECONDS = 3600;
const FIRST_REQUEST_ID = 101;
/** `GET ManagedSystems` answers at most this many systems, with or without `limit`, as the vendor's default limit. */
const MAX_SYSTEMS_PAGE = 100_000;
const ORGANIZATION_ID = '0b5a3c5e-2d1f-4f4e-9a57-6f0d2c1e7a10';
const COOKIE_ATTRIBUTES = new Set(['path', 'domain', 'expires', 'max-age', 'secure', 'httponly', 'samesite', 'partitioned', 'priority']);

const sameName = (a: string, b: string): boolean => a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;

const freshPassword = (): string => `Ps${randomInt(10, 99)}!${randomBytes(18).toString('base64url')}`;

export class SimState extends SimStateBase<SimSeed, ParsedSeed, SimFault> {
  private accounts = new Map<number, AccountRecord>();
  private systemsById = new Map<number, SeedManagedSystem>();
  /** What each identity may see, per account type: computed once per seed, as accounts never change visibility. */
  private visibleCache = new Map<string, VisibleItem[]>();
  private sessions = new Map<string, Session>();
  private tokens = new Map<string, { clientId: string; expiresAt: number }>();
  private requests = new Map<number, ReleaseRequest>();
  private nextRequestId = FIRST_REQUEST_ID;
  private counters = this.zeroCounters();

  constructor(
    initialSeed: SimSeed,
    readonly idleTimeoutMs: number,
  ) {
    super(initialSeed, parseSeed);
    this.reset();
  }

  protected override loadSeed(parsed: ParsedSeed): void {
    this.accounts = new Map();
    this.systemsById = new Map(parsed.managedSystems.map((s) => [s.ManagedSystemID, s]));
    this.visibleCache = new Map();
    const start = this.now();
    const access = (a: SeedManagedAccount | SeedDomainLinkedAccount) => ({
      requesterKeys: a.requesters === 'all' ? ('all' as const) : new Set(a.requesters.map((n) => n.toLowerCase())),
      groupKeys: new Set(a.requesterGroups.map((g) => g.toLowerCase())),
    });
    for (const account of parsed.managedAccounts) {
      this.accounts.set(account.AccountId, { kind: 'local', seed: account, password: account.password, rotations: 0, lastChangeAt: start, ...access(account) });
    }
    for (const account of parsed.domainLinkedAccounts) {
      this.accounts.set(account.AccountId, { kind: 'domain', seed: account, password: account.password, rotations: 0, lastChangeAt: start, ...access(account) });
    }
    this.sessions.clear();
    this.tokens.clear();
    this.requests.clear();
    this.nextRequestId = FIRST_REQUEST_ID;
    this.counters = this.zeroCounters();
  }

  hasAccount(accountId: number): boolean {
    return this.accounts.has(accountId);
  }

  passwordOf(accountId: number): string {
    return this.accountRecord(accountId).password;
  }

  rotationsOf(accountId: number): number {
    this.sweep();
    return this.accountRecord(accountId).rotations;
  }

  stats(): SimStats {
    this.sweep();
    const c = this.counters;
    return {
      signIns: { apiKey: c.apiKey, oauth: c.oauth, total: c.apiKey + c.oauth },
      signInsByUser: { ...c.byUser },
      signInsByClient: { ...c.byClient },
      failedSignIns: c.failedSignIns,
      tokensIssued: c.tokensIssued,
      activeSessions: this.sessions.size,
      activeRequests: this.activeRequests().length,
      faultsServed: this.faults.served,
      faultsPending: this.faults.pending,
    };
  }

  /** Every request made, open or ended, oldest first: how each ended and how often it rotated its account. */
  requestHistory(): Array<SimRequestView & { status: RequestStatus; rotations: number }> {
    this.sweep();
    return [...this.requests.values()].map((r) => ({ ...this.view(r), status: r.status, rotations: r.rotations }));
  }

  activeRequests(): SimRequestView[] {
    this.sweep();
    return [...this.requests.values()].filter((r) => r.status === 'open').map((r) => this.view(r));
  }

  private view(r: ReleaseRequest): SimRequestView {
    return {
      requestId: r.id,
      owner: r.ownerKey,
      systemId: r.systemId,
      accountId: r.accountId,
      accessType: r.accessType,
      durationMinutes: r.durationMinutes,
      approved: r.approved,
      rotateOnCheckin: r.rotateOnCheckin,
      createdAt: new Date(r.createdAt).toISOString(),
      expiresAt: new Date(r.expiresAt).toISOString(),
    };
  }

  /** A request of any status (ended ones included), for tests; undefined when there is none. */
  requestStatus(requestId: number): { status: RequestStatus; rotateOnCheckin: boolean } | undefined {
    this.sweep();
    const request = this.requests.get(requestId);
    return request && { status: request.status, rotateOnCheckin: request.rotateOnCheckin };
  }

  /**
   * Moves a request's creation back by `ms` (its expiry stays): a request made that long ago, without moving
   * the clock for everything else. False when there is no such open request.
   */
  backdateRequest(requestId: number, ms: number): boolean {
    this.sweep();
    const request = this.requests.get(requestId);
    if (!request || request.status !== 'open') return false;
    request.createdAt -= ms;
    return true;
  }

  expireAllSessions(): number {
    const count = this.sessions.size;
    this.sessions.clear();
    return count;
  }

  /** Approves a pending request; false when there is no such open, pending request. */
  approve(requestId: number): boolean {
    this.sweep();
    const request = this.requests.get(requestId);
    if (!request || request.status !== 'open' || request.approved) return false;
    request.approved = true;
    return true;
  }

  takeFault(method: string, relativePath: string): SimFault | undefined {
    return this.faults.take({ method, path: relativePath });
  }


  signInWithPsAuth(header: string): SignInResult {
    this.sweep();
    const parsed = parsePsAuth(header);
    const registration = parsed && this.seed.apiRegistrations.find((r) => r.key === parsed.key);
    const user = parsed && this.findUser(parsed.runAs);
    if (!parsed || !registration || !user) return this.failSignIn();
    if (registration.requirePassword && parsed.password === undefined) return this.failSignIn();
    if (parsed.password !== undefined && parsed.password !== user.password) return this.failSignIn();
    const identity: Identity = {
      mode: 'apiKey',
      ownerKey: `user:${user.userId}`,
      user,
      registration,
      psAuth: { key: parsed.key, runAs: parsed.runAs },
    };
    this.counters.apiKey += 1;
    this.counters.byUser[user.userName] = (this.counters.byUser[user.userName] ?? 0) + 1;
    return {
      session: this.openSession(identity),
      body: {
        UserId: user.userId,
        SID: user.sid ?? `S-1-5-21-1004336348-1177238915-682003330-${user.userId}`,
        EmailAddress: user.email,
        UserName: user.userName,
        Name: user.name ?? user.userName,
      },
    };
  }

  issueToken(form: Record<string, string>, basicAuth: { id: string; secret: string } | undefined): {
    access_token: string;
    expires_in: number;
    token_type: 'Bearer';
    scope: string;
  } {
    this.sweep();
    if (form['grant_type'] !== 'client_credentials') {
      throw new ApiError(400, { error: 'unsupported_grant_type' });
    }
    const clientId = basicAuth?.id ?? form['client_id'];
    const clientSecret = basicAuth?.secret ?? form['client_secret'];
    const client = this.seed.oauthClients.find((c) => c.clientId === clientId && c.clientSecret === clientSecret);
    if (!client) {
      this.counters.failedSignIns += 1;
      throw new ApiError(400, { error: 'invalid_client' });
    }
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, { clientId: client.clientId, expiresAt: this.now() + TOKEN_LIFETIME_SECONDS * 1000 });
    this.counters.tokensIssued += 1;
    return { access_token: token, expires_in: TOKEN_LIFETIME_SECONDS, token_type: 'Bearer', scope: 'publicapi' };
  }

  signInWithBearer(token: string): SignInResult {
    this.sweep();
    const grant = this.tokens.get(token);
    const client: OAuthClient | undefined = grant && this.seed.oauthClients.find((c) => c.clientId === grant.clientId);
    if (!grant || !client || grant.expiresAt <= this.now()) return this.failSignIn();
    this.counters.oauth += 1;
    this.counters.byClient[client.clientId] = (this.counters.byClient[client.clientId] ?? 0) + 1;
    return {
      session: this.openSession({ mode: 'oauth', ownerKey: `app:${client.clientId}` }),
      body: {
        UserId: client.userId,
        SID: `S-1-5-21-1004336348-1177238915-682003330-${client.userId}`,
        EmailAddress: null,
        UserName: client.clientId,
        Name: client.name,
      },
    };
  }

  /**
   * Resolves the caller's session from its Cookie header and slides the idle timer. A header that still
   * carries Set-Cookie attributes is refused outright, because replaying raw Set-Cookie lines is the
   * client bug that broke real servers and it must not pass unnoticed here.
   */
  authenticate(cookieHeader: string | undefined, authorization: string | undefined): Session {
    this.sweep();
    const cookies = parseCookieHeader(cookieHeader ?? '');
    if (cookies === 'malformed') {
      throw badRequest('Malformed Cookie header: send name=value pairs only, without Set-Cookie attributes');
    }
    const session = this.sessions.get(cookies.get('ASP.NET_SessionId') ?? '');
    if (!session || session.csrf !== cookies.get('__RequestVerificationToken')) throw notAuthenticated();
    if (session.identity.registration?.checkHeaderEveryCall) {
      const again = authorization === undefined ? undefined : parsePsAuth(authorization);
      const expected = session.identity.psAuth;
      if (!again || !expected || again.key !== expected.key || !sameName(again.runAs, expected.runAs)) {
        throw notAuthenticated();
      }
    }
    session.lastSeenAt = this.now();
    return session;
  }

  signOut(session: Session): void {
    this.sessions.delete(session.id);
  }


  /**
   * The vendor's paging quirk: without `limit` an array (of at most 100 000, the default limit); with `limit` an
   * object `{TotalCount, Data}`. `offset` goes only with `limit`. `name` matches the system name exactly.
   */
  listManagedSystems(rawQuery: Record<string, string>): Record<string, unknown>[] | { TotalCount: number; Data: Record<string, unknown>[] } {
    const query = lowerKeys(rawQuery);
    const limit = optionalInt(query['limit'], 'limit', 1, MAX_SYSTEMS_PAGE);
    const offset = optionalInt(query['offset'], 'offset', 0, Number.MAX_SAFE_INTEGER);
    if (offset !== undefined && limit === undefined) badRequestThrow('offset can be used only in conjunction with limit');
    const type = optionalInt(query['type'], 'type', 0, 4);
    const name = query['name'];
    // entity types: asset 1, database 2, directory 3, cloud 4; every simulated system is an asset
    const all = type !== undefined && type !== 1 ? [] : name ? this.seed.managedSystems.filter((s) => sameName(s.SystemName, name)) : this.seed.managedSystems;
    const from = offset ?? 0;
    const page = all.slice(from, from + (limit ?? MAX_SYSTEMS_PAGE)).map((s) => ({ ...s }));
    return limit === undefined ? page : { TotalCount: all.length, Data: page };
  }

  listPlatforms(): SeedPlatform[] {
    return this.seed.platforms.map((p) => ({ ...p }));
  }

  /** `GET Workgroups`: the vendor names the id `ID` here, not `WorkgroupID`. */
  listWorkgroups(): { OrganizationID: string; ID: number; Name: string }[] {
    return this.seed.workgroups.map((w) => ({ OrganizationID: ORGANIZATION_ID, ID: w.WorkgroupID, Name: w.Name }));
  }

  /** Returns an object when both systemName and accountName are given, an array otherwise: the vendor's quirk. */
  listManagedAccounts(session: Session, rawQuery: Record<string, string>): Record<string, unknown> | Record<string, unknown>[] {
    const query = lowerKeys(rawQuery);
    const type = (query['type'] ?? 'system').toLowerCase();
    if (!(ACCOUNT_TYPES as readonly string[]).includes(type)) badRequestThrow(`Invalid type '${query['type']}'`);
    const limit = optionalInt(query['limit'], 'limit', 1, 1000) ?? 1000;
    const offset = optionalInt(query['offset'], 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0;
    const systemId = optionalInt(query['systemid'], 'systemID', 1, Number.MAX_SAFE_INTEGER);
    const { systemname: systemName, accountname: accountName, workgroupname: workgroupName, ipaddress: ipAddress } = query;

    const items = this.visibleItems(session.identity, type).filter(({ system, record }) => {
      if (systemId !== undefined && system.ManagedSystemID !== systemId) return false;
      if (systemName && !sameName(system.SystemName, systemName)) return false;
      if (ipAddress && system.IPAddress !== ipAddress) return false;
      if (workgroupName && !sameName(this.workgroupName(system.WorkgroupID) ?? '', workgroupName)) return false;
      if (accountName && !accountNameMatches(record, accountName)) return false;
      return true;
    });

    if (systemName && accountName) {
      const first = items[0];
      if (!first) throw new ApiError(404, ACCOUNT_NOT_FOUND);
      return this.accountItem(first.system, first.record);
    }
    return items.slice(offset, offset + limit).map(({ system, record }) => this.accountItem(system, record));
  }

  changePassword(session: Session, accountId: number, body: unknown): void {
    const record = this.accounts.get(accountId);
    if (!record) throw new ApiError(404, ACCOUNT_NOT_FOUND);
    if (!this.mayUse(session.identity, record)) throw noPermission();
    const fields = body === undefined ? {} : bodyFields(body);
    const password = fields['password'];
    if (password !== undefined && (typeof password !== 'string' || password.length === 0)) {
      badRequestThrow('Password must be a non-empty string');
    }
    const updateSystem = fields['updatesystem'];
    if (updateSystem !== undefined && typeof updateSystem !== 'boolean') badRequestThrow('UpdateSystem must be a boolean');
    this.rotate(record, typeof password === 'string' ? password : undefined);
  }


  createRequest(session: Session, body: unknown): { requestId: number; reused: boolean } {
    this.sweep();
    const input = parseRequestBody(body);
    const record = this.accounts.get(input.accountId);
    const system = this.systemsById.get(input.systemId);
    if (!record || !system || !this.mayUse(session.identity, record) || !accountOnSystem(record, system.ManagedSystemID)) {
      throw noPermission();
    }
    const durationMinutes = Math.min(
      input.durationMinutes ?? record.seed.DefaultReleaseDuration,
      record.seed.MaximumReleaseDuration,
      system.MaxReleaseDuration,
    );
    const ownerKey = session.identity.ownerKey;
    const existing = [...this.requests.values()].find(
      (r) =>
        r.status === 'open' &&
        r.ownerKey === ownerKey &&
        r.systemId === input.systemId &&
        r.accountId === input.accountId &&
        r.accessType === input.accessType,
    );
    if (existing) {
      if (input.conflictOption === 'reuse') return { requestId: existing.id, reused: true };
      if (input.conflictOption !== 'renew') throw new ApiError(409, CODE_CONFLICT);
      existing.status = 'cancelled';
    }
    const now = this.now();
    const request: ReleaseRequest = {
      id: this.nextRequestId++,
      ownerKey,
      systemId: input.systemId,
      accountId: input.accountId,
      accessType: input.accessType,
      durationMinutes,
      reason: input.reason,
      createdAt: now,
      expiresAt: now + durationMinutes * 60_000,
      approved: !record.seed.requiresApproval,
      // Absent means "rotate when policy allows", which finish() already applies via the system's flag.
      rotateOnCheckin: input.rotateOnCheckin === true,
      status: 'open',
      rotations: 0,
    };
    this.requests.set(request.id, request);
    return { requestId: request.id, reused: false };
  }

  /**
   * `GET Requests`: the signed-in identity's own requests (the run-as user's in API-key mode, the application's
   * in OAuth mode), newest first. `status` all (the default: open and ended), active (approved and open) or
   * pending (awaiting approval); `queue` req (the requestor's, the default) or app (the approver's: none here).
   */
  listRequests(session: Session, rawQuery: Record<string, string>): RequestItem[] {
    this.sweep();
    const query = lowerKeys(rawQuery);
    const status = (query['status'] ?? 'all').toLowerCase();
    const queue = (query['queue'] ?? 'req').toLowerCase();
    if (!['all', 'active', 'pending'].includes(status)) badRequestThrow(`Invalid status '${query['status']}'`);
    if (!['req', 'app'].includes(queue)) badRequestThrow(`Invalid queue '${query['queue']}'`);
    if (queue === 'app') return [];
    return [...this.requests.values()]
      .filter((r) => r.ownerKey === session.identity.ownerKey)
      .filter((r) => status === 'all' || (r.status === 'open' && (status === 'active' ? r.approved : !r.approved)))
      .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id)
      .map((r) => this.requestItem(r));
  }

  credential(session: Session, requestId: number, rawType: string | undefined): string {
    const request = this.ownOpenRequest(session, requestId);
    const record = this.accountRecord(request.accountId);
    if (!record.seed.apiEnabled) throw noPermission();
    if (!request.approved) throw new ApiError(403, CODE_NOT_APPROVED);
    const type = (rawType ?? 'password').toLowerCase();
    if (type === 'password') return record.password;
    if (type === 'dsskey' || type === 'passphrase') throw new ApiError(404, `No ${type} is stored for this account`);
    throw badRequest(`Invalid type '${rawType}'`);
  }

  checkin(session: Session, requestId: number, body: unknown): void {
    const request = this.ownOpenRequest(session, requestId);
    if (body !== undefined) {
      const reason = bodyFields(body)['reason'];
      if (reason !== undefined && reason !== null && typeof reason !== 'string') badRequestThrow('Reason must be a string');
    }
    this.finish(request, request.approved ? 'released' : 'cancelled');
  }

  markRotateOnCheckin(session: Session, requestId: number): void {
    this.ownOpenRequest(session, requestId).rotateOnCheckin = true;
  }


  private zeroCounters(): Counters {
    return { apiKey: 0, oauth: 0, failedSignIns: 0, tokensIssued: 0, byUser: {}, byClient: {} };
  }

  private failSignIn(): never {
    this.counters.failedSignIns += 1;
    throw new ApiError(401, NOT_AUTHENTICATED);
  }

  private openSession(identity: Identity): { id: string; csrf: string } {
    const session: Session = {
      id: randomBytes(12).toString('hex'),
      csrf: randomBytes(24).toString('base64url'),
      identity,
      lastSeenAt: this.now(),
    };
    this.sessions.set(session.id, session);
    return { id: session.id, csrf: session.csrf };
  }

  private findUser(runAs: string): SeedUser | undefined {
    return this.seed.users.find((u) => sameName(u.userName, runAs));
  }

  private accountRecord(accountId: number): AccountRecord {
    const record = this.accounts.get(accountId);
    if (!record) throw new Error(`no managed account ${accountId} in the simulator`);
    return record;
  }

  private workgroupName(id: number): string | undefined {
    return this.seed.workgroups.find((w) => w.WorkgroupID === id)?.Name;
  }

  private mayUse(identity: Identity, record: AccountRecord): boolean {
    if (!record.seed.apiEnabled) return false;
    if (identity.mode === 'oauth' || record.requesterKeys === 'all') return true;
    const user = identity.user;
    if (user === undefined) return false;
    return record.requesterKeys.has(user.userName.toLowerCase()) || user.groups.some((g) => record.groupKeys.has(g.toLowerCase()));
  }

  /**
   * Domain-linked accounts are listed once per system they are linked to, with that system's ids, so a
   * caller can request them for that system. Other account types exist in the vendor API but not here.
   */
  private visibleItems(identity: Identity, type: string): VisibleItem[] {
    const cacheKey = `${identity.ownerKey}|${type}`;
    const cached = this.visibleCache.get(cacheKey);
    if (cached) return cached;
    const out: VisibleItem[] = [];
    if (type !== 'system' && type !== 'domainlinked') return out;
    for (const record of this.accounts.values()) {
      if (!this.mayUse(identity, record)) continue;
      if (type === 'system' && record.kind === 'local') {
        const system = this.systemsById.get(record.seed.SystemId);
        if (system) out.push({ system, record });
      }
      if (type === 'domainlinked' && record.kind === 'domain') {
        for (const id of record.seed.linkedSystemIds) {
          const system = this.systemsById.get(id);
          if (system) out.push({ system, record });
        }
      }
    }
    this.visibleCache.set(cacheKey, out);
    return out;
  }

  private accountItem(system: SeedManagedSystem, record: AccountRecord): Record<string, unknown> {
    const a = record.seed;
    return {
      PlatformID: system.PlatformID,
      SystemId: system.ManagedSystemID,
      SystemName: system.SystemName,
      DomainName: a.DomainName,
      AccountId: a.AccountId,
      AccountName: a.AccountName,
      InstanceName: '',
      UserPrincipalName: a.UserPrincipalName,
      DefaultReleaseDuration: a.DefaultReleaseDuration,
      MaximumReleaseDuration: a.MaximumReleaseDuration,
      LastChangeDate: new Date(record.lastChangeAt).toISOString(),
      NextChangeDate: null,
      IsChanging: false,
      ChangeState: 0,
      AccountDescription: a.AccountDescription,
    };
  }

  private requestItem(r: ReleaseRequest): RequestItem {
    const record = this.accounts.get(r.accountId);
    const system = this.systemsById.get(r.systemId);
    const status: RequestItem['Status'] =
      r.status === 'open' ? (r.approved ? 'Active' : 'Pending') : r.status === 'released' ? 'Released' : r.status === 'expired' ? 'Expired' : 'Cancelled';
    return {
      RequestID: r.id,
      SystemID: r.systemId,
      SystemName: system?.SystemName ?? null,
      AccountID: r.accountId,
      AccountName: record?.seed.AccountName ?? null,
      DomainName: record?.seed.DomainName ?? null,
      AliasID: null,
      ApplicationID: null,
      RequestReleaseDate: new Date(r.createdAt).toISOString(),
      ApprovedDate: r.approved ? new Date(r.createdAt).toISOString() : null,
      ExpiresDate: new Date(r.expiresAt).toISOString(),
      Status: status,
      AccessType: r.accessType,
    };
  }

  private ownOpenRequest(session: Session, requestId: number): ReleaseRequest {
    this.sweep();
    const request = this.requests.get(requestId);
    if (!request || request.status !== 'open') throw new ApiError(404, 'Request not found');
    if (request.ownerKey !== session.identity.ownerKey) throw noPermission();
    return request;
  }

  private finish(request: ReleaseRequest, status: Exclude<RequestStatus, 'open'>): void {
    request.status = status;
    if (!request.approved || status === 'cancelled') return;
    const system = this.systemsById.get(request.systemId);
    if (request.rotateOnCheckin || system?.ChangePasswordAfterAnyReleaseFlag) {
      this.rotate(this.accountRecord(request.accountId));
      request.rotations += 1;
    }
  }

  private rotate(record: AccountRecord, password?: string): void {
    let next = password ?? freshPassword();
    while (password === undefined && next === record.password) next = freshPassword();
    record.password = next;
    record.rotations += 1;
    record.lastChangeAt = this.now();
  }

  /** Lazily applies everything time decides: idle sessions, expired tokens, requests that ran out. */
  protected override sweep(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) {
      if (now - session.lastSeenAt > this.idleTimeoutMs) this.sessions.delete(id);
    }
    for (const [token, grant] of this.tokens) {
      if (grant.expiresAt <= now) this.tokens.delete(token);
    }
    for (const request of this.requests.values()) {
      if (request.status === 'open' && request.expiresAt <= now) this.finish(request, 'expired');
    }
  }
}


interface PsAuth {
  key: string;
  runAs: string;
  password?: string;
}

/**
 * `PS-Auth key=<k>; runas=<user>; pwd=[<password>];`. The password is everything between `pwd=[` and the
 * last `]`, so it may itself contain `;` or `]`; a pwd without brackets is rejected as the vendor does.
 */
export function parsePsAuth(header: string): PsAuth | undefined {
  const match = /^PS-Auth\s+(.*)$/is.exec(header.trim());
  if (!match?.[1]) return undefined;
  let rest = match[1];
  let password: string | undefined;
  const pwdAt = rest.search(/pwd\s*=/i);
  if (pwdAt >= 0) {
    const pwdPart = rest.slice(pwdAt).replace(/^pwd\s*=\s*/i, '');
    const bracketed = /^\[(.*)\]\s*;?\s*$/s.exec(pwdPart);
    if (!bracketed) return undefined;
    password = bracketed[1];
    rest = rest.slice(0, pwdAt);
  }
  const fields = new Map<string, string>();
  for (const part of rest.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const key = fields.get('key');
  const runAs = fields.get('runas');
  if (!key || !runAs) return undefined;
  return password === undefined ? { key, runAs } : { key, runAs, password };
}

function parseCookieHeader(header: string): Map<string, string> | 'malformed' {
  const cookies = new Map<string, string>();
  for (const part of header.split(';')) {
    const trimmed = part.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    const name = (eq < 0 ? trimmed : trimmed.slice(0, eq)).trim();
    if (eq < 0 || COOKIE_ATTRIBUTES.has(name.toLowerCase())) return 'malformed';
    cookies.set(name, trimmed.slice(eq + 1).trim());
  }
  return cookies;
}

function lowerKeys(input: Record<string, string>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(input).map(([k, v]) => [k.toLowerCase(), v]));
}

/** ASP.NET binds JSON properties case-insensitively; the simulator does too. */
function bodyFields(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) badRequestThrow('The request body must be a JSON object');
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k.toLowerCase(), v]));
}

function badRequestThrow(message: string): never {
  throw badRequest(message);
}

function optionalInt(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) badRequestThrow(`Invalid ${name} '${value}'`);
  return n;
}

function accountNameMatches(record: AccountRecord, name: string): boolean {
  const a = record.seed;
  if (sameName(a.AccountName, name)) return true;
  if (record.kind !== 'domain') return false;
  return sameName(`${a.DomainName}\\${a.AccountName}`, name) || (a.UserPrincipalName !== null && sameName(a.UserPrincipalName, name));
}

function accountOnSystem(record: AccountRecord, systemId: number): boolean {
  return record.kind === 'local' ? record.seed.SystemId === systemId : record.seed.linkedSystemIds.includes(systemId);
}

interface RequestInput {
  systemId: number;
  accountId: number;
  accessType: AccessType;
  durationMinutes?: number;
  reason: string;
  conflictOption?: 'reuse' | 'renew';
  rotateOnCheckin?: boolean;
}

function parseRequestBody(body: unknown): RequestInput {
  const f = bodyFields(body);
  const int = (name: string, value: unknown): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) badRequestThrow(`${name} must be an integer`);
    return value;
  };
  const systemId = int('SystemID', f['systemid']);
  const accountId = int('AccountID', f['accountid']);
  const rawAccess = f['accesstype'] ?? 'View';
  const accessType = typeof rawAccess === 'string' ? ACCESS_TYPES.find((t) => sameName(t, rawAccess)) : undefined;
  if (!accessType) badRequestThrow(`AccessType must be one of ${ACCESS_TYPES.join(', ')}`);
  let durationMinutes: number | undefined;
  if (f['durationminutes'] !== undefined) {
    durationMinutes = int('DurationMinutes', f['durationminutes']);
    if (durationMinutes < 1 || durationMinutes > MAX_DURATION_MINUTES) {
      badRequestThrow(`DurationMinutes must be between 1 and ${MAX_DURATION_MINUTES}`);
    }
  }
  const reason = f['reason'] ?? '';
  if (typeof reason !== 'string') badRequestThrow('Reason must be a string');
  const rawConflict = f['conflictoption'];
  let conflictOption: 'reuse' | 'renew' | undefined;
  if (rawConflict !== undefined && rawConflict !== null) {
    if (typeof rawConflict !== 'string' || !['reuse', 'renew'].includes(rawConflict.toLowerCase())) {
      badRequestThrow("ConflictOption must be 'reuse' or 'renew'");
    }
    conflictOption = rawConflict.toLowerCase() === 'reuse' ? 'reuse' : 'renew';
  }
  const rotate = f['rotateoncheckin'];
  if (rotate !== undefined && typeof rotate !== 'boolean') badRequestThrow('RotateOnCheckin must be a boolean');
  return {
    systemId,
    accountId,
    accessType,
    reason,
    ...(durationMinutes === undefined ? {} : { durationMinutes }),
    ...(conflictOption === undefined ? {} : { conflictOption }),
    ...(rotate === undefined ? {} : { rotateOnCheckin: rotate }),
  };
}
