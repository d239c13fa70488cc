import { randomBytes, randomUUID } from 'node:crypto';
import { SimStateBase, type LateFaultMatch } from '@openecm/sim-kit';
import { parseSeed, type ParsedSeed, type SimSeed } from './seed';

/** A Vault error: `{"errors": [...]}` with its status. */
export class VaultApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; ') || `status ${status}`);
    this.name = 'VaultApiError';
  }
}

export const permissionDenied = (): VaultApiError => new VaultApiError(403, ['permission denied']);
export const NO_ACCOUNTS = 'No service accounts available for check-out.';

/** `path` is matched below `/v1`, e.g. `ldap/library/rdp-admins/check-out`. */
export interface SimFault extends LateFaultMatch {
  body?: Record<string, unknown>;
}

interface Token {
  token: string;
  accessor: string;
  entityId: string;
  policies: string[];
  /** 0: never. */
  expiresAt: number;
  ttlSeconds: number;
  roleName?: string;
}

interface Loan {
  mount: string;
  set: string;
  account: string;
  entityId: string;
  /** The token that checked it out, as Vault's status names the borrower. */
  token: string;
  /** Secret-ish (a bearer capability at Vault): kept here, shown on the control side only as a count. */
  leaseId: string;
  at: number;
}

export interface Rotation {
  kind: 'library' | 'static-role';
  mount: string;
  name: string;
  at: string;
}

export interface SimStats {
  logins: number;
  loginsByRole: Record<string, number>;
  failedLogins: number;
  checkouts: number;
  checkoutCalls: number;
  checkins: number;
  rotations: number;
  activeTokens: number;
  faultsServed: number;
  faultsPending: number;
}

type Library = ParsedSeed['ldap'][number]['library'][number];
type StaticRole = ParsedSeed['ldap'][number]['staticRoles'][number];
type KvSecret = ParsedSeed['kv'][number]['secrets'][number];

const freshPassword = (): string => `Vlt-${randomBytes(15).toString('base64url')}`;
const iso = (ms: number): string => new Date(ms).toISOString();

export class SimState extends SimStateBase<SimSeed, ParsedSeed, SimFault> {
  private tokens = new Map<string, Token>();
  private passwords = new Map<string, string>();
  private loans: Loan[] = [];
  private rotationLog: Rotation[] = [];
  private counters = { logins: 0, loginsByRole: {} as Record<string, number>, failedLogins: 0, checkouts: 0, checkoutCalls: 0, checkins: 0 };

  constructor(seed: SimSeed) {
    super(seed, parseSeed);
    this.reset();
  }

  protected loadSeed(seed: ParsedSeed): void {
    this.tokens = new Map();
    this.passwords = new Map();
    this.loans = [];
    this.rotationLog = [];
    this.counters = { logins: 0, loginsByRole: {}, failedLogins: 0, checkouts: 0, checkoutCalls: 0, checkins: 0 };
    for (const t of seed.tokens) {
      this.tokens.set(t.token, {
        token: t.token,
        accessor: randomUUID(),
        entityId: t.entityId ?? `entity-${randomUUID()}`,
        policies: ['default'],
        expiresAt: t.ttlSeconds === 0 ? 0 : this.now() + t.ttlSeconds * 1000,
        ttlSeconds: t.ttlSeconds,
      });
    }
    for (const m of seed.ldap) {
      for (const set of m.library) for (const a of set.serviceAccounts) this.passwords.set(`library:${m.mount}:${a.name}`, a.password);
      for (const r of m.staticRoles) this.passwords.set(`static-role:${m.mount}:${r.role}`, r.password);
    }
  }

  protected sweep(): void {
    const now = this.now();
    for (const [key, t] of this.tokens) if (t.expiresAt !== 0 && t.expiresAt <= now) this.tokens.delete(key);
    // a loan whose lease ran out is returned by Vault, and rotated as at a check-in
    for (const loan of this.loans.filter((l) => now - l.at >= this.library(l.mount, l.set).maxTtlSeconds * 1000)) this.returnLoan(loan);
  }

  get namespace(): string | undefined {
    return this.seed.namespace;
  }

  takeFault(method: string, relativePath: string): SimFault | undefined {
    return this.faults.take({ method, path: relativePath });
  }

  stats(): SimStats {
    this.sweep();
    return {
      ...this.counters,
      loginsByRole: { ...this.counters.loginsByRole },
      rotations: this.rotationLog.length,
      activeTokens: this.tokens.size,
      faultsServed: this.faults.served,
      faultsPending: this.faults.pending,
    };
  }

  // ---- auth ----

  login(mount: string, body: unknown): Token {
    this.sweep();
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    if (typeof b['role_id'] !== 'string' || b['role_id'] === '') throw new VaultApiError(400, ['missing role_id']);
    const role = this.seed.appRoles.find((r) => r.mount === mount && r.roleId === b['role_id'] && r.secretId === b['secret_id']);
    if (!role) {
      this.counters.failedLogins += 1;
      throw new VaultApiError(400, ['invalid role or secret ID']);
    }
    this.counters.logins += 1;
    this.counters.loginsByRole[role.roleName] = (this.counters.loginsByRole[role.roleName] ?? 0) + 1;
    const token: Token = {
      token: `hvs.${randomBytes(18).toString('base64url')}`,
      accessor: randomUUID(),
      entityId: `entity-${role.roleName}`,
      policies: ['default', role.roleName],
      expiresAt: this.now() + role.tokenTtlSeconds * 1000,
      ttlSeconds: role.tokenTtlSeconds,
      roleName: role.roleName,
    };
    this.tokens.set(token.token, token);
    return token;
  }

  authenticate(header: string | string[] | undefined): Token {
    this.sweep();
    const value = Array.isArray(header) ? header[0] : header;
    const token = value ? this.tokens.get(value) : undefined;
    if (!token) throw permissionDenied();
    return token;
  }

  ttlLeft(token: Token): number {
    return token.expiresAt === 0 ? 0 : Math.max(0, Math.round((token.expiresAt - this.now()) / 1000));
  }

  /** Every token issued by a login is forgotten, as after their TTL: the next call with one is a 403. */
  expireLoginTokens(): number {
    let expired = 0;
    for (const [key, t] of this.tokens) {
      if (t.roleName !== undefined) {
        this.tokens.delete(key);
        expired += 1;
      }
    }
    return expired;
  }

  // ---- LDAP library ----

  private ldapMount(mount: string) {
    const m = this.seed.ldap.find((l) => l.mount === mount);
    if (!m) throw new VaultApiError(404, [`no handler for route "${mount}". route entry not found.`]);
    return m;
  }

  private library(mount: string, set: string): Library {
    const found = this.ldapMount(mount).library.find((s) => s.set === set);
    if (!found) throw new VaultApiError(404, []);
    return found;
  }

  isLdapMount(mount: string): boolean {
    return this.seed.ldap.some((l) => l.mount === mount);
  }

  isKvMount(mount: string): boolean {
    return this.seed.kv.some((k) => k.mount === mount);
  }

  readLibrary(mount: string, set: string) {
    const s = this.library(mount, set);
    return {
      service_account_names: s.serviceAccounts.map((a) => a.name),
      ttl: s.ttlSeconds,
      max_ttl: s.maxTtlSeconds,
      disable_check_in_enforcement: s.disableCheckInEnforcement,
    };
  }

  libraryStatus(mount: string, set: string): Record<string, Record<string, unknown>> {
    this.sweep();
    const s = this.library(mount, set);
    const out: Record<string, Record<string, unknown>> = {};
    for (const a of s.serviceAccounts) {
      const loan = this.loans.find((l) => l.mount === mount && l.account === a.name);
      out[a.name] = loan ? { available: false, borrower_client_token: loan.token, borrower_entity_id: loan.entityId } : { available: true };
    }
    return out;
  }

  checkOut(mount: string, set: string, token: Token, ttl: unknown) {
    this.sweep();
    this.counters.checkoutCalls += 1;
    const s = this.library(mount, set);
    const free = s.serviceAccounts.find((a) => !this.loans.some((l) => l.mount === mount && l.account === a.name));
    if (!free) throw new VaultApiError(400, [NO_ACCOUNTS]);
    const requested = typeof ttl === 'number' ? ttl : typeof ttl === 'string' ? Number.parseInt(ttl, 10) : s.ttlSeconds;
    const warnings: string[] = [];
    let leaseSeconds = Number.isFinite(requested) && requested > 0 ? requested : s.ttlSeconds;
    if (leaseSeconds > s.maxTtlSeconds) {
      warnings.push(`TTL of "${leaseSeconds}s" exceeded the effective max_ttl of "${s.maxTtlSeconds}s"; TTL value is capped accordingly`);
      leaseSeconds = s.maxTtlSeconds;
    }
    const leaseId = `${mount}/library/${set}/check-out/${randomBytes(12).toString('base64url')}`;
    this.loans.push({ mount, set, account: free.name, entityId: token.entityId, token: token.token, leaseId, at: this.now() });
    this.counters.checkouts += 1;
    return {
      leaseId,
      leaseSeconds,
      warnings,
      data: { service_account_name: free.name, password: this.passwords.get(`library:${mount}:${free.name}`) as string },
    };
  }

  checkIn(mount: string, set: string, token: Token, names: unknown): string[] {
    this.sweep();
    const s = this.library(mount, set);
    const asked = Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : undefined;
    const mine = this.loans.filter((l) => l.mount === mount && l.set === set && (s.disableCheckInEnforcement || l.entityId === token.entityId));
    let chosen: Loan[];
    if (asked && asked.length > 0) {
      for (const name of asked) {
        const loan = this.loans.find((l) => l.mount === mount && l.set === set && l.account === name);
        if (loan && !mine.includes(loan)) throw new VaultApiError(400, [`"${name}" can't be checked in because it wasn't checked out by the caller`]);
      }
      chosen = mine.filter((l) => asked.includes(l.account));
    } else {
      if (mine.length > 1) throw new VaultApiError(400, ['when multiple service accounts are checked out, the "service_account_names" to check in must be provided']);
      chosen = mine;
    }
    for (const loan of chosen) this.returnLoan(loan);
    this.counters.checkins += chosen.length;
    return chosen.map((l) => l.account);
  }

  private returnLoan(loan: Loan): void {
    this.loans = this.loans.filter((l) => l !== loan);
    this.rotate('library', loan.mount, loan.account);
  }

  private rotate(kind: Rotation['kind'], mount: string, name: string): void {
    this.passwords.set(`${kind}:${mount}:${name}`, freshPassword());
    this.rotationLog.push({ kind, mount, name, at: iso(this.now()) });
  }

  // ---- LDAP static roles ----

  private staticRole(mount: string, role: string): StaticRole {
    const found = this.ldapMount(mount).staticRoles.find((r) => r.role === role);
    if (!found) throw new VaultApiError(400, [`failed to find static role "${role}"`]);
    return found;
  }

  staticCred(mount: string, role: string) {
    const r = this.staticRole(mount, role);
    const last = [...this.rotationLog].reverse().find((x) => x.kind === 'static-role' && x.mount === mount && x.name === role);
    return {
      username: r.username,
      password: this.passwords.get(`static-role:${mount}:${role}`) as string,
      last_vault_rotation: last?.at ?? iso(this.now()),
      rotation_period: r.rotationPeriodSeconds,
      ttl: r.rotationPeriodSeconds,
    };
  }

  /** The role without its password, as `GET <mount>/static-role/<role>` answers. */
  staticRoleInfo(mount: string, role: string) {
    const { username, last_vault_rotation, rotation_period, ttl } = this.staticCred(mount, role);
    return { username, last_vault_rotation, rotation_period, ttl };
  }

  rotateRole(mount: string, role: string): void {
    this.staticRole(mount, role);
    this.rotate('static-role', mount, role);
  }

  // ---- KV v2 ----

  private kvSecrets(mount: string): KvSecret[] {
    const m = this.seed.kv.find((k) => k.mount === mount);
    if (!m) throw new VaultApiError(404, [`no handler for route "${mount}". route entry not found.`]);
    return m.secrets;
  }

  /** The keys below `path`: secret names, and folders with a trailing `/`; undefined when there are none (a 404). */
  listKeys(mount: string, path: string): string[] | undefined {
    const prefix = path === '' ? '' : `${path.replace(/\/$/, '')}/`;
    const keys = new Set<string>();
    for (const s of this.kvSecrets(mount)) {
      if (!s.path.startsWith(prefix)) continue;
      const rest = s.path.slice(prefix.length);
      const slash = rest.indexOf('/');
      keys.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    return keys.size === 0 ? undefined : [...keys].sort();
  }

  kvSecret(mount: string, path: string): KvSecret | undefined {
    return this.kvSecrets(mount).find((s) => s.path === path);
  }

  // ---- what tests read ----

  passwordOf(kind: 'library' | 'static-role', mount: string, name: string): string | undefined {
    return this.passwords.get(`${kind}:${mount}:${name}`);
  }

  rotations(): Rotation[] {
    return [...this.rotationLog];
  }

  checkouts(): Array<{ mount: string; set: string; account: string; entityId: string; checkedOutAt: string }> {
    this.sweep();
    return this.loans.map((l) => ({ mount: l.mount, set: l.set, account: l.account, entityId: l.entityId, checkedOutAt: iso(l.at) }));
  }

  /** Every password the simulator holds now, for a test that looks for secrets where none may be. */
  allSecrets(): string[] {
    return [...this.passwords.values(), ...this.seed.kv.flatMap((k) => k.secrets.flatMap((s) => Object.values(s.data))), ...this.seed.appRoles.map((r) => r.secretId), ...this.seed.tokens.map((t) => t.token)];
  }
}
