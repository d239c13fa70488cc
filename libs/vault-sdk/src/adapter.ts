import type { Secret, VaultConnectionInput, VaultCredential, VaultKind, VaultRef, VaultSystem, VaultTestResult } from '@openecm/contracts';
import type { SecretValue } from '@openecm/crypto';

/** A saved (or tested) connection as its adapter receives it: the settings parsed, defaults filled in. */
export type VaultConnection = VaultConnectionInput & { name: string };
export type ConnectionOf<T extends VaultKind> = Extract<VaultConnection, { type: T }>;

/**
 * A checked-out secret between the vault's answer and the seal: the Secret of the contracts with its value held
 * as a SecretValue, so nothing on the way (a log line, an error's details) can print it.
 */
export interface HeldSecret {
  type: Secret['type'];
  value: SecretValue;
}

/** A check-out as the broker recorded it, handed back to the adapter to check it in. */
export interface Checkout {
  leaseId: string;
  connection: string;
  user: string;
  ref: VaultRef;
  /** The vault's own handle for the check-out (Password Safe: the request id); unknown while `pending`. */
  vaultRequest: string | undefined;
  /** `pending`: the vault was (or was about to be) asked and its handle is not recorded. */
  state: 'pending' | 'out' | 'in';
  durationMinutes: number | null;
}

/** Something an identity of OpenECM's holds at the vault, as the vault-side sweep sees it. */
export interface HeldCheckout {
  /** The vault's handle (Password Safe: the request id; Secret Server: the secret id). Never logged, traced or answered. */
  handle: string;
  /** How long ago it began by the vault's own clock; undefined when the vault does not say. */
  ageMs: number | undefined;
  /** What it is of (Password Safe: system and account), to match a check-out whose handle was never recorded. */
  target: string | undefined;
}

/** What a vault answers a system search with: the systems, or why this user has nothing from it yet. */
export type SystemsOrPending = { systems: VaultSystem[]; truncated: boolean } | { pending: { reason: string; approveUrl?: string } };

/** What every vault type implements; the credentials service picks the adapter by the connection's type. */
export interface VaultAdapter<T extends VaultKind = VaultKind> {
  readonly type: T;
  /** Names and references only: a VaultCredential has no field a secret could go in. */
  list(connection: ConnectionOf<T>, user: string, endpoint: string): Promise<VaultCredential[]>;
  /**
   * Checks out and reads the secret. `record` is called with the vault's handle as soon as it is known, before the
   * secret is read, so a failure after it still leaves something the release path checks in (ADR 9).
   */
  checkout(
    connection: ConnectionOf<T>,
    input: { leaseId: string; user: string; ref: VaultRef; durationMinutes: number; reason: string },
    record: (vaultRequest: string) => Promise<void>,
  ): Promise<{ username: string; domain: string | null; secret: HeldSecret }>;
  /** Idempotent: a check-out the vault already ended counts as checked in. */
  checkin(connection: ConnectionOf<T>, checkout: Checkout & { vaultRequest: string }, input: { rotate: boolean; reason: string }): Promise<{ rotationRequested: boolean }>;
  /**
   * The vault's handle of a check-out whose answer never reached the broker (a crash, a lost answer), found
   * at the vault; undefined when the vault holds nothing for it. A vault whose handle is known before it is
   * called (recorded first) needs none.
   */
  reclaim?(connection: ConnectionOf<T>, checkout: Checkout): Promise<string | undefined>;
  /**
   * The vault-side sweep: what `user` holds at the vault (the application, or the API account, where the
   * connection signs in as one). `candidates`: the handles OpenECM's records name for this user, for a vault
   * that can only be asked about each (Secret Server); one that lists its requests (Password Safe) ignores them.
   */
  held(connection: ConnectionOf<T>, user: string, candidates: readonly string[]): Promise<HeldCheckout[]>;
  /** Checks in what the sweep found orphaned, rotated as the connection's settings say; something already ended counts as done. */
  release(connection: ConnectionOf<T>, user: string, handle: string): Promise<void>;
  /** The `target` a check-out of `ref` has at the vault (see HeldCheckout), or undefined. */
  targetOf(ref: VaultRef): string | undefined;
  /**
   * Which identities may hold check-outs at the vault, given the users of its check-outs: one when the broker
   * signs in as itself (the application, the API account), named with a leading `*` as no user can be.
   */
  sweepIdentities(connection: ConnectionOf<T>, users: readonly string[]): string[];
  /** Some vaults answer "this user has yet to approve" rather than a list; the answer's `pending` shows it. */
  listOrPending?(connection: ConnectionOf<T>, user: string, endpoint: string): Promise<{ credentials: VaultCredential[] } | { pending: { reason: string; approveUrl?: string } }>;
  /**
   * External jump items: up to `limit` systems (by name) this user may reach through this vault, reached over RDP
   * or a shell, whose name, host name, DNS name or IP address contains `search` (case-insensitive).
   */
  searchSystems?(connection: ConnectionOf<T>, user: string, search: string, limit: number): Promise<SystemsOrPending>;
  /** Test Settings: the listing with these settings, uncached, reporting the failing step. */
  test(connection: ConnectionOf<T>, user: string, endpoint: string): Promise<VaultTestResult>;
  /**
   * Drops cached clients and sessions after the connection's settings changed: `here`, what this process holds
   * (every instance the change reached); `everywhere`, the vault sessions kept by token-cache as well (once, by
   * the instance that saved the change).
   */
  reset(name: string, scope: 'here' | 'everywhere'): Promise<void>;
}

/** What a sign-in yields: the session to cache and, when the vault says so, how long it lives. */
export type SignInResult = string | { value: string; ttlSeconds: number };
export type SignIn = () => Promise<SignInResult>;

export interface SessionOptions {
  /** For sessions that die after an idle time: each use extends them. */
  sliding?: boolean;
}

/**
 * The broker's per-(connection, identity) vault session cache: sealed, shared by every instance through
 * token-cache, one sign-in at a time however many ask (ADR 6).
 */
export interface VaultSessions {
  get(vault: string, identity: string, signIn: SignIn, options?: SessionOptions): Promise<string>;
  /** After the vault rejected `stale`: one caller signs in anew, everyone gets the new session. */
  renew(vault: string, identity: string, stale: string, signIn: SignIn, options?: SessionOptions): Promise<string>;
  /** Every session of the connection, on every instance and in token-cache. */
  forget(vault: string): Promise<unknown>;
  /** What this process holds for the connection. */
  dropHere(scope: { vault?: string; user?: string }): number;
}
