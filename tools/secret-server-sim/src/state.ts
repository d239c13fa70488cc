import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { SimStateBase, type FaultMatch } from '@openecm/sim-kit';
import {
  ACCESS_DENIED,
  APPROVAL_REQUIRED,
  CHECKOUT_REQUIRED,
  COMMENT_REQUIRED,
  IMPERSONATE_NOT_ALLOWED,
  LOGIN_FAILED,
  SimError,
  TOKEN_INVALID,
  checkedOutByOther,
  trustDenied,
  trustPending,
  trustRevoked,
  userNotFound,
} from './errors';
import type { HostileAnswer } from './hostile';
import {
  parseSeed,
  userKey,
  findTemplate,
  type ParsedSeed,
  type SeedField,
  type SeedFolder,
  type SeedSecret,
  type SeedTemplate,
  type SeedUser,
  type SimSeed,
  type TrustState,
} from './seed';

export type Channel = 'soap' | 'rest';
export type TrustAction = 'approve' | 'deny' | 'revoke';

export interface SimUser {
  seed: SeedUser;
  /** `DOMAIN\user` or the bare local name, spelled as seeded. */
  key: string;
  displayName: string;
  domainId: number;
}

export interface Session {
  user: SimUser;
  /** The API account acting for `user` when the token came from ImpersonateUser. */
  via?: SimUser;
  expiresAt: number;
}

export interface IssuedToken {
  token: string;
  expiresAt: number;
}

export interface SecretItemView {
  field: SeedField;
  value: string;
}

export interface SecretView {
  id: number;
  name: string;
  folderId: number | null;
  active: boolean;
  template: SeedTemplate;
  items: SecretItemView[];
  isRestricted: boolean;
  inheritPermissions: boolean;
  checkOutEnabled: boolean;
  checkOutIntervalMinutes: number;
  checkOutChangePasswordEnabled: boolean;
  requiresComment: boolean;
  requiresApprovalForAccess: boolean;
  checkout?: CheckoutView;
}

export interface CheckoutView {
  userId: number;
  displayName: string;
  minutesRemaining: number;
}

export interface SearchCriteria {
  text?: string;
  /** Restricts the match to one field; the predicate decides whether a field is the one named. */
  field?: (field: SeedField) => boolean;
  exact: boolean;
  includeInactive: boolean;
  includeRestricted: boolean;
  folderId?: number;
  templateId?: number;
}

export interface AccessLogEntry {
  at: string;
  user: string;
  action: 'view' | 'checkout' | 'checkin' | 'expired';
  channel: Channel | 'sim';
  comment?: string;
}

export interface TrustView {
  apiUser: string;
  user: string;
  state: TrustState;
  requestId: string;
  updatedAt: string;
}

/** `path` is matched below the base path, e.g. `api/v1/secrets` or `oauth2/token`; `operation` e.g. `GetSecret`. */
export interface SimFault extends FaultMatch {
  /** Answer with this status; when absent and `delayMs` is set, the call goes through after the delay. */
  status?: number;
  body?: string;
  contentType?: string;
  /** Answer this hostile SOAP envelope for the operation asked (HTTP 200 unless `status` says otherwise). */
  hostile?: HostileAnswer;
}

interface CallCounter {
  total: number;
  failed: number;
  byUser: Record<string, number>;
}

interface Counters {
  authenticate: CallCounter;
  impersonate: CallCounter & { pendingCreated: number };
  restToken: CallCounter;
  soapCalls: Record<string, number>;
  restCalls: number;
}

export interface SimStats {
  /** SOAP Authenticate calls, successful or not, per user as resolved (seed spelling) or as sent. */
  authenticate: CallCounter;
  /** ImpersonateUser calls per target user; `pendingCreated` counts approval requests opened. */
  impersonate: CallCounter & { pendingCreated: number };
  /** REST `oauth2/token` calls per user, refresh grants included. */
  restToken: CallCounter;
  soapCalls: Record<string, number>;
  restCalls: number;
  activeTokens: number;
  checkedOutSecrets: number;
  faultsServed: number;
  faultsPending: number;
}

interface TokenGrant {
  userKey: string;
  viaKey?: string;
  expiresAt: number;
}

interface SecretRecord {
  seed: SeedSecret;
  template: SeedTemplate;
  values: Map<string, string>;
  checkout?: { userKey: string; until: number };
  rotations: number;
  log: AccessLogEntry[];
}

interface TrustRecord {
  apiUserKey: string;
  userKey: string;
  state: TrustState;
  requestId: string;
  updatedAt: number;
}

const REFRESH_LIFETIME_MS = 8 * 60 * 60 * 1000;
const LOG_LIMIT = 100;

const lower = (value: string): string => value.toLowerCase();
const sameName = (a: string, b: string): boolean => lower(a) === lower(b);
const trustKey = (apiUserKey: string, endUserKey: string): string => `${lower(apiUserKey)}|${lower(endUserKey)}`;
const newToken = (): string => randomBytes(32).toString('base64url');
const freshPassword = (): string => `Ss${randomInt(10, 99)}!${randomBytes(18).toString('base64url')}`;
const emptyCounter = (): CallCounter => ({ total: 0, failed: 0, byUser: {} });

export class SimState extends SimStateBase<SimSeed, ParsedSeed, SimFault> {
  private users = new Map<string, SimUser>();
  private secrets = new Map<number, SecretRecord>();
  private folders = new Map<number, SeedFolder>();
  private trust = new Map<string, TrustRecord>();
  private tokens = new Map<string, TokenGrant>();
  private refreshTokens = new Map<string, { userKey: string; expiresAt: number }>();
  private counters = zeroCounters();

  constructor(
    initialSeed: SimSeed,
    readonly tokenTtlMs: number,
  ) {
    super(initialSeed, parseSeed);
    this.reset();
  }

  get version(): string {
    return this.seed.version;
  }

  protected override loadSeed(parsed: ParsedSeed): void {
    this.users = new Map(
      parsed.users.map((u) => {
        const domainId = u.domain === null ? -1 : (parsed.domains.find((d) => sameName(d.name, u.domain ?? ''))?.id ?? -1);
        const user: SimUser = { seed: u, key: userKey(u), displayName: u.displayName ?? u.username, domainId };
        return [lower(user.key), user];
      }),
    );
    this.folders = new Map(parsed.folders.map((f) => [f.id, f]));
    this.secrets = new Map();
    for (const secret of parsed.secrets) {
      const template = findTemplate(parsed.templates, secret.template);
      if (!template) throw new Error(`secret ${secret.id} has no template`);
      this.secrets.set(secret.id, { seed: secret, template, values: new Map(Object.entries(secret.fields)), rotations: 0, log: [] });
    }
    this.trust = new Map();
    const at = this.now();
    for (const entry of parsed.trust) {
      const apiUser = this.userByKey(entry.apiUser);
      const endUser = this.userByKey(entry.user);
      if (!apiUser || !endUser) continue;
      this.trust.set(trustKey(apiUser.key, endUser.key), {
        apiUserKey: apiUser.key,
        userKey: endUser.key,
        state: entry.state,
        requestId: entry.requestId ?? randomUUID(),
        updatedAt: at,
      });
    }
    this.tokens.clear();
    this.refreshTokens.clear();
    this.counters = zeroCounters();
  }

  stats(): SimStats {
    this.sweep();
    const c = this.counters;
    const copy = (counter: CallCounter): CallCounter => ({ ...counter, byUser: { ...counter.byUser } });
    return {
      authenticate: copy(c.authenticate),
      impersonate: { ...copy(c.impersonate), pendingCreated: c.impersonate.pendingCreated },
      restToken: copy(c.restToken),
      soapCalls: { ...c.soapCalls },
      restCalls: c.restCalls,
      activeTokens: this.tokens.size,
      checkedOutSecrets: [...this.secrets.values()].filter((s) => s.checkout).length,
      faultsServed: this.faults.served,
      faultsPending: this.faults.pending,
    };
  }

  countSoapCall(operation: string): void {
    this.counters.soapCalls[operation] = (this.counters.soapCalls[operation] ?? 0) + 1;
  }

  countRestCall(): void {
    this.counters.restCalls += 1;
  }


  /** SOAP Authenticate and the REST password grant: one user directory, one token store. */
  login(input: { username: string; password: string; domain: string; organization: string }, channel: Channel): IssuedToken & { user: SimUser } {
    this.sweep();
    const counter = channel === 'soap' ? this.counters.authenticate : this.counters.restToken;
    const user = this.findUser(input.username, input.domain, input.organization);
    count(counter, user?.key ?? typedName(input.username, input.domain));
    if (!user || user.seed.password === undefined || user.seed.password !== input.password) {
      counter.failed += 1;
      throw new SimError('LOGIN_FAILED', LOGIN_FAILED);
    }
    return { ...this.issue(user), user };
  }

  /** REST refresh grant: the refresh token is single-use and the new pair belongs to the same user. */
  refresh(refreshToken: string): IssuedToken & { refreshToken: string; user: SimUser } {
    this.sweep();
    const grant = this.refreshTokens.get(refreshToken);
    const user = grant && this.userByKey(grant.userKey);
    count(this.counters.restToken, user?.key ?? '(refresh_token)');
    if (!grant || !user) {
      this.counters.restToken.failed += 1;
      throw new SimError('LOGIN_FAILED', LOGIN_FAILED);
    }
    this.refreshTokens.delete(refreshToken);
    return { ...this.issue(user), refreshToken: this.issueRefresh(user), user };
  }

  issueRefresh(user: SimUser): string {
    const token = newToken();
    this.refreshTokens.set(token, { userKey: user.key, expiresAt: this.now() + REFRESH_LIFETIME_MS });
    return token;
  }

  /**
   * Resolves a token. An impersonation token dies with the trust it came from: once the end user revokes
   * the API account, every token it obtained for that user stops working.
   */
  session(token: string | undefined): Session {
    this.sweep();
    const grant = token ? this.tokens.get(token) : undefined;
    const user = grant && this.userByKey(grant.userKey);
    if (!token || !grant || !user) throw new SimError('TOKEN_INVALID', TOKEN_INVALID);
    if (grant.viaKey === undefined) return { user, expiresAt: grant.expiresAt };
    const via = this.userByKey(grant.viaKey);
    if (!via || this.trust.get(trustKey(via.key, user.key))?.state !== 'approved') {
      this.tokens.delete(token);
      throw new SimError('TOKEN_INVALID', TOKEN_INVALID);
    }
    return { user, via, expiresAt: grant.expiresAt };
  }

  /**
   * ImpersonateUser: needs "Web Services Impersonate" on the caller, then the end user's delegated trust.
   * The first call for a user opens a pending approval request; later calls answer by its state.
   */
  impersonate(
    session: Session,
    input: { username: string; domain: string; organization: string },
    authorizeUrl: (requestId: string) => string,
  ): IssuedToken {
    this.sweep();
    const counter = this.counters.impersonate;
    const target = this.findUser(input.username, input.domain, input.organization);
    count(counter, target?.key ?? typedName(input.username, input.domain));
    const fail = (error: SimError): never => {
      counter.failed += 1;
      throw error;
    };
    const caller = session.user;
    if (session.via !== undefined || !caller.seed.webServicesImpersonate) return fail(new SimError('IMPERSONATE_NOT_ALLOWED', IMPERSONATE_NOT_ALLOWED));
    if (!target) return fail(new SimError('USER_NOT_FOUND', userNotFound(typedName(input.username, input.domain))));
    if (target.key === caller.key) return this.issue(target);

    const key = trustKey(caller.key, target.key);
    let record = this.trust.get(key);
    if (!record) {
      record = { apiUserKey: caller.key, userKey: target.key, state: 'pending', requestId: randomUUID(), updatedAt: this.now() };
      this.trust.set(key, record);
      counter.pendingCreated += 1;
    }
    switch (record.state) {
      case 'approved':
        return this.issue(target, caller);
      case 'pending':
        return fail(new SimError('TRUST_PENDING', trustPending(target.key, caller.key), authorizeUrl(record.requestId)));
      case 'denied':
        return fail(new SimError('TRUST_DENIED', trustDenied(target.key, caller.key)));
      case 'revoked':
        return fail(new SimError('TRUST_REVOKED', trustRevoked(target.key, caller.key)));
    }
  }

  expireAllTokens(includeRefresh: boolean): number {
    const expired = this.tokens.size + (includeRefresh ? this.refreshTokens.size : 0);
    this.tokens.clear();
    if (includeRefresh) this.refreshTokens.clear();
    return expired;
  }


  /**
   * What the end user does in Tools > Manage Applications. Approve works from any state a request can be
   * in (the user may change their mind); deny only answers a pending request; revoke only withdraws an
   * approval. Without `apiUser`, the user's only trust entry is meant, or else the only impersonating account.
   */
  actOnTrust(
    endUser: string,
    action: TrustAction,
    apiUser?: string,
  ): { ok: true; trust: TrustView } | { ok: false; status: number; error: string } {
    const user = this.userByKey(endUser);
    if (!user) return { ok: false, status: 404, error: `unknown user ${endUser}` };
    const record = this.trustFor(user, apiUser);
    if ('error' in record) return { ok: false, ...record };
    const allowed: Record<TrustAction, TrustState[]> = {
      approve: ['pending', 'approved', 'denied', 'revoked'],
      deny: ['pending', 'denied'],
      revoke: ['approved', 'revoked'],
    };
    if (!allowed[action].includes(record.state)) {
      return { ok: false, status: 409, error: `cannot ${action} a trust that is ${record.state}` };
    }
    const next: Record<TrustAction, TrustState> = { approve: 'approved', deny: 'denied', revoke: 'revoked' };
    if (record.state !== next[action]) {
      record.state = next[action];
      record.updatedAt = this.now();
    }
    return { ok: true, trust: trustView(record) };
  }

  trustEntries(): TrustView[] {
    return [...this.trust.values()].map(trustView);
  }

  trustByRequest(requestId: string): TrustView | undefined {
    const record = [...this.trust.values()].find((r) => r.requestId === requestId);
    return record && trustView(record);
  }


  search(session: Session, criteria: SearchCriteria): SecretView[] {
    this.sweep();
    const text = criteria.text?.trim() ?? '';
    const matches = (value: string): boolean => (criteria.exact ? sameName(value.trim(), text) : lower(value).includes(lower(text)));
    return [...this.secrets.values()]
      .filter((record) => this.canView(session.user, record))
      .filter((record) => criteria.includeInactive || record.seed.active)
      .filter((record) => criteria.includeRestricted || !isRestricted(record.seed))
      .filter((record) => criteria.folderId === undefined || record.seed.folderId === criteria.folderId)
      .filter((record) => criteria.templateId === undefined || record.template.id === criteria.templateId)
      .filter((record) => {
        if (criteria.field) {
          const fields = record.template.fields.filter((f) => criteria.field?.(f) && searchable(f));
          return fields.some((f) => (text === '' ? true : matches(record.values.get(f.slug) ?? '')));
        }
        if (text === '') return true;
        return matches(record.seed.name) || record.template.fields.some((f) => searchable(f) && matches(record.values.get(f.slug) ?? ''));
      })
      .sort((a, b) => a.seed.name.localeCompare(b.seed.name) || a.seed.id - b.seed.id)
      .map((record) => this.view(record));
  }

  /**
   * Reads a secret with its values, applying what the secret demands in this order: approval, a comment,
   * then check-out. Check-out goes to the caller for the secret's interval and is kept, not renewed, on a
   * repeat read; another holder blocks the read until check-in or expiry.
   */
  openSecret(session: Session, secretId: number, access: { comment?: string; autoCheckout: boolean }, channel: Channel): SecretView {
    this.sweep();
    const record = this.visibleRecord(session, secretId);
    const user = session.user;
    if (record.seed.requiresApprovalForAccess) throw new SimError('APPROVAL_REQUIRED', APPROVAL_REQUIRED);
    const comment = access.comment?.trim();
    if (record.seed.requiresComment && !comment) throw new SimError('COMMENT_REQUIRED', COMMENT_REQUIRED);
    if (record.seed.checkOutEnabled) {
      const holder = record.checkout && this.userByKey(record.checkout.userKey);
      if (record.checkout && holder && holder.key !== user.key) {
        throw new SimError('CHECKED_OUT_BY_OTHER', checkedOutByOther(holder.displayName));
      }
      if (!record.checkout || !holder) {
        if (!access.autoCheckout) throw new SimError('CHECKOUT_REQUIRED', CHECKOUT_REQUIRED);
        record.checkout = { userKey: user.key, until: this.now() + record.seed.checkOutIntervalMinutes * 60_000 };
        this.log(record, { user: user.key, action: 'checkout', channel });
      }
    }
    this.log(record, { user: user.key, action: 'view', channel, ...(comment ? { comment } : {}) });
    return this.view(record);
  }

  /** Summary only, no values, and no access checks beyond permission: what GetCheckOutStatus may show. */
  secretSummary(session: Session, secretId: number): SecretView {
    this.sweep();
    return this.view(this.visibleRecord(session, secretId), false);
  }

  /** Checking in a secret nobody holds is a no-op; one held by someone else is refused. */
  checkIn(session: Session, secretId: number, channel: Channel): SecretView {
    this.sweep();
    const record = this.visibleRecord(session, secretId);
    const holder = record.checkout && this.userByKey(record.checkout.userKey);
    if (record.checkout && holder && holder.key !== session.user.key) {
      throw new SimError('CHECKED_OUT_BY_OTHER', checkedOutByOther(holder.displayName));
    }
    if (record.checkout) this.release(record, 'checkin', session.user.key, channel);
    return this.view(record, false);
  }


  /** Everything a test may want to assert on, values included: for the control API only. */
  secretControlView(secretId: number): Record<string, unknown> | undefined {
    this.sweep();
    const record = this.secrets.get(secretId);
    if (!record) return undefined;
    const passwordField = record.template.fields.find((f) => f.isPassword);
    const holder = record.checkout && this.userByKey(record.checkout.userKey);
    return {
      id: record.seed.id,
      name: record.seed.name,
      password: passwordField ? (record.values.get(passwordField.slug) ?? '') : null,
      fields: Object.fromEntries(record.template.fields.map((f) => [f.slug, record.values.get(f.slug) ?? ''])),
      checkOutEnabled: record.seed.checkOutEnabled,
      checkedOut: Boolean(record.checkout),
      checkedOutBy: holder?.key ?? null,
      checkOutMinutesRemaining: record.checkout ? minutesUntil(record.checkout.until, this.now()) : 0,
      rotations: record.rotations,
      accessLog: record.log.map((entry) => ({ ...entry })),
    };
  }

  passwordOf(secretId: number): string {
    const record = this.secrets.get(secretId);
    const field = record?.template.fields.find((f) => f.isPassword);
    if (!record || !field) throw new Error(`no secret ${secretId} with a password field in the simulator`);
    return record.values.get(field.slug) ?? '';
  }

  takeFault(method: string, relativePath: string, operation: string | undefined): SimFault | undefined {
    return this.faults.take({ method, path: relativePath, operation });
  }


  /**
   * Looks a user up the way Secret Server does: the domain goes in its own argument, by NetBIOS name or
   * FQDN; an empty domain means a local user. `DOMAIN\user` or `user@domain` in the user name is taken
   * literally and so finds nobody. A configured organization must be named on every sign-in.
   */
  private findUser(username: string, domain: string, organization: string): SimUser | undefined {
    if (this.seed.organization !== null && !sameName(organization.trim(), this.seed.organization)) return undefined;
    const name = username.trim();
    const domainName = domain.trim();
    if (name === '') return undefined;
    if (domainName === '') {
      const local = this.users.get(lower(name));
      return local?.seed.domain === null ? local : undefined;
    }
    const known = this.seed.domains.find((d) => sameName(d.name, domainName) || (d.fqdn !== undefined && sameName(d.fqdn, domainName)));
    return known ? this.users.get(lower(`${known.name}\\${name}`)) : undefined;
  }

  private userByKey(key: string): SimUser | undefined {
    return this.users.get(lower(key));
  }

  private trustFor(user: SimUser, apiUser: string | undefined): TrustRecord | { status: number; error: string } {
    if (apiUser !== undefined) {
      const api = this.userByKey(apiUser);
      if (!api) return { status: 404, error: `unknown API user ${apiUser}` };
      return this.trust.get(trustKey(api.key, user.key)) ?? { status: 404, error: `${user.key} has no request from ${api.key}` };
    }
    const mine = [...this.trust.values()].filter((r) => sameName(r.userKey, user.key));
    if (mine.length === 1 && mine[0]) return mine[0];
    if (mine.length > 1) return { status: 409, error: `${user.key} has requests from several API users; name one with ?apiUser=` };
    return { status: 404, error: `${user.key} has no pending, approved, denied or revoked request` };
  }

  private issue(user: SimUser, via?: SimUser): IssuedToken {
    const token = newToken();
    const expiresAt = this.now() + this.tokenTtlMs;
    this.tokens.set(token, { userKey: user.key, expiresAt, ...(via ? { viaKey: via.key } : {}) });
    return { token, expiresAt };
  }

  private visibleRecord(session: Session, secretId: number): SecretRecord {
    const record = this.secrets.get(secretId);
    // Unknown, deleted and forbidden look alike, so ids cannot be probed.
    if (!record || !record.seed.active || !this.canView(session.user, record)) throw new SimError('ACCESS_DENIED', ACCESS_DENIED);
    return record;
  }

  /**
   * A secret is visible to the users and groups listed on it, plus, while it inherits, those of its folder
   * and of each ancestor the folder inherits from.
   */
  private canView(user: SimUser, record: SecretRecord): boolean {
    const grants = (principals: { users: string[]; groups: string[] }): boolean =>
      principals.users.some((u) => sameName(u, user.key)) || principals.groups.some((g) => user.seed.groups.some((mine) => sameName(mine, g)));
    if (grants(record.seed.permissions)) return true;
    if (!record.seed.inheritPermissions) return false;
    let folder = record.seed.folderId === null ? undefined : this.folders.get(record.seed.folderId);
    while (folder) {
      if (grants(folder.permissions)) return true;
      folder = folder.inheritPermissions && folder.parentId !== null ? this.folders.get(folder.parentId) : undefined;
    }
    return false;
  }

  private view(record: SecretRecord, withValues = true): SecretView {
    const s = record.seed;
    const holder = record.checkout && this.userByKey(record.checkout.userKey);
    return {
      id: s.id,
      name: s.name,
      folderId: s.folderId,
      active: s.active,
      template: record.template,
      items: withValues ? record.template.fields.map((field) => ({ field, value: record.values.get(field.slug) ?? '' })) : [],
      isRestricted: isRestricted(s),
      inheritPermissions: s.inheritPermissions,
      checkOutEnabled: s.checkOutEnabled,
      checkOutIntervalMinutes: s.checkOutIntervalMinutes,
      checkOutChangePasswordEnabled: s.checkOutChangePasswordEnabled,
      requiresComment: s.requiresComment,
      requiresApprovalForAccess: s.requiresApprovalForAccess,
      ...(record.checkout && holder
        ? { checkout: { userId: holder.seed.id, displayName: holder.displayName, minutesRemaining: minutesUntil(record.checkout.until, this.now()) } }
        : {}),
    };
  }

  private release(record: SecretRecord, action: 'checkin' | 'expired', user: string, channel: Channel | 'sim'): void {
    record.checkout = undefined;
    this.log(record, { user, action, channel });
    if (!record.seed.checkOutChangePasswordEnabled) return;
    for (const field of record.template.fields.filter((f) => f.isPassword)) {
      const before = record.values.get(field.slug);
      let next = freshPassword();
      while (next === before) next = freshPassword();
      record.values.set(field.slug, next);
    }
    record.rotations += 1;
  }

  private log(record: SecretRecord, entry: Omit<AccessLogEntry, 'at'>): void {
    record.log.push({ at: new Date(this.now()).toISOString(), ...entry });
    if (record.log.length > LOG_LIMIT) record.log.splice(0, record.log.length - LOG_LIMIT);
  }

  /** Lazily applies everything time decides: expired tokens and check-outs that ran out. */
  protected override sweep(): void {
    const now = this.now();
    for (const [token, grant] of this.tokens) {
      if (grant.expiresAt <= now) this.tokens.delete(token);
    }
    for (const [token, grant] of this.refreshTokens) {
      if (grant.expiresAt <= now) this.refreshTokens.delete(token);
    }
    for (const record of this.secrets.values()) {
      if (record.checkout && record.checkout.until <= now) this.release(record, 'expired', record.checkout.userKey, 'sim');
    }
  }
}


function zeroCounters(): Counters {
  return {
    authenticate: emptyCounter(),
    impersonate: { ...emptyCounter(), pendingCreated: 0 },
    restToken: emptyCounter(),
    soapCalls: {},
    restCalls: 0,
  };
}

function count(counter: CallCounter, user: string): void {
  counter.total += 1;
  counter.byUser[user] = (counter.byUser[user] ?? 0) + 1;
}

function typedName(username: string, domain: string): string {
  return domain.trim() === '' ? username.trim() : `${domain.trim()}\\${username.trim()}`;
}

/** Restricted means the vendor's sense: reading it asks for something first (comment, approval or check-out). */
function isRestricted(secret: SeedSecret): boolean {
  return secret.requiresComment || secret.requiresApprovalForAccess || secret.checkOutEnabled;
}

/** Password and file fields are never searchable, in Secret Server or here. */
function searchable(field: SeedField): boolean {
  return !field.isPassword && !field.isFile;
}

function minutesUntil(until: number, now: number): number {
  return Math.max(0, Math.ceil((until - now) / 60_000));
}

/** Item ids are unique across secrets, as in the vendor's database. */
export function itemId(secretId: number, fieldId: number): number {
  return secretId * 1000 + fieldId;
}

/** The seed holds a file field's content only; the attachment needs a name to be reported under. */
export function attachmentName(slug: string): string {
  return `${slug}.txt`;
}

function trustView(record: TrustRecord): TrustView {
  return {
    apiUser: record.apiUserKey,
    user: record.userKey,
    state: record.state,
    requestId: record.requestId,
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}
