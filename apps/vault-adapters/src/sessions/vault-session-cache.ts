import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import { userKey } from '@openecm/contracts';
import { Broadcaster, Bus } from '@openecm/messaging';
import { CacheInvalidations, type CacheScope } from '@openecm/service-kit';
import type { SessionOptions, SignIn, SignInResult, VaultSessions } from '@openecm/vault-sdk';
import { createHash } from 'node:crypto';
import { SealingKeys } from '../sealing/sealing-keys';

export type { SessionOptions, SignIn, SignInResult };

/** How long a caller waits for another instance's sign-in before it signs in itself. */
const CLAIM_WAIT_MS = 15_000;
/** Sealed forms remembered for renewals, at most; the oldest is dropped first. */
const REMEMBERED_SEALS = 10_000;

const digest = (text: string) => createHash('sha256').update(text).digest('base64url');

/** First-level entries at most; the oldest is dropped first. */
const L1_ENTRIES = 10_000;

interface L1Entry {
  session: string;
  expiresAt: number;
}

/**
 * Per (vault connection, identity) vault sessions, kept by token-cache so every instance reuses them. They
 * are sealed here (AES-256-GCM, keys derived from VAULT_SETTINGS_KEYS, bound to the connection and the user)
 * before they leave, so neither NATS nor token-cache ever holds one it could read or move to another user.
 * Single flight twice over: concurrent callers in this instance share one call, and token-cache's claim lets
 * only one caller across all instances sign in while the others wait for it.
 */
@Injectable()
export class VaultSessionCache implements OnModuleInit, VaultSessions {
  private readonly logger = new Logger(VaultSessionCache.name);
  private readonly defaultTtlSeconds = loadConfig(vaultAdaptersConfig).VAULT_SESSION_TTL_SECONDS;
  /**
   * A short first level in this process (VAULT_SESSION_L1_SECONDS): a list within it asks token-cache
   * nothing. A session the vault rejects is renewed through token-cache as before; a cleared one is dropped
   * here on every instance (ops.cache.invalidate.v1) before the clear is answered.
   */
  private readonly l1Ms = loadConfig(vaultAdaptersConfig).VAULT_SESSION_L1_SECONDS * 1000;
  private readonly l1 = new Map<string, L1Entry>();
  private readonly inFlight = new Map<string, Promise<string>>();
  /**
   * The sealed form each session came in (by a digest of the session, never the session itself), so a
   * renewal can tell token-cache which stored value the vault rejected.
   */
  private readonly sealedForms = new Map<string, { digest: string; sealed: string }>();

  constructor(
    private readonly bus: Bus,
    private readonly keys: SealingKeys,
    private readonly broadcaster?: Broadcaster,
    private readonly caches?: CacheInvalidations,
  ) {}

  onModuleInit(): void {
    this.caches?.register('vault-sessions', (scope) => this.dropHere(scope));
  }

  /**
   * The cached session, or a new one. `sliding` is for sessions that die after an idle time (Password
   * Safe): each use extends them. Tokens with a fixed lifetime (Secret Server) keep the TTL they were stored with.
   */
  get(vault: string, identity: string, signIn: SignIn, options: SessionOptions = {}): Promise<string> {
    const near = this.l1.get(cacheKey(vault, identity));
    if (near && near.expiresAt > Date.now()) return Promise.resolve(near.session);
    return this.once(`${cacheKey(vault, identity)}\u0000get`, () => this.obtain(vault, identity, signIn, options));
  }

  /** After the vault rejected `stale`: one caller signs in anew, everyone gets the new session. */
  renew(vault: string, identity: string, stale: string, signIn: SignIn, options: SessionOptions = {}): Promise<string> {
    const near = this.l1.get(cacheKey(vault, identity));
    if (near?.session === stale) this.l1.delete(cacheKey(vault, identity));
    const known = this.sealedForms.get(cacheKey(vault, identity));
    // a session this instance no longer knows the sealed form of was already replaced: the current one is wanted
    const staleSealed = known && known.digest === digest(stale) ? known.sealed : undefined;
    return this.once(`${cacheKey(vault, identity)}\u0000renew`, () => this.obtain(vault, identity, signIn, { ...options, ...(staleSealed ? { stale: staleSealed } : {}) }));
  }

  /**
   * Clears the sessions in scope everywhere: token-cache, and the first level of every instance. Answers how
   * many sessions were cleared: a session may sit in both places (or, after token-cache lost it, only in a first
   * level), so the larger of token-cache's count and any one instance's.
   */
  async forget(vault?: string, user?: string): Promise<number> {
    const here = this.dropHere({ vault, user });
    const reply = await this.bus.request('token.cache.delete.v1', { ...(vault ? { vault } : {}), ...(user ? { user } : {}) });
    let elsewhere: number[] = [];
    try {
      const answers = await this.broadcaster?.gather(
        'ops.cache.invalidate.v1',
        { cache: 'vault-sessions', ...(vault ? { vault } : {}), ...(user ? { user } : {}) },
        { quietMs: 100, maxWaitMs: 2_000 },
      );
      elsewhere = (answers ?? []).map((a) => a.dropped);
    } catch (error) {
      // token-cache is cleared; an instance that missed this drops its first level within VAULT_SESSION_L1_SECONDS
      this.logger.warn({ msg: 'session clear not announced to the other instances', err: (error as Error).message });
    }
    return Math.max(reply.deleted, here, ...elsewhere);
  }

  /** Whether this process holds a live first-level session for the pair (for the operator's and the tests' view). */
  heldHere(vault: string, identity: string): boolean {
    return (this.l1.get(cacheKey(vault, identity))?.expiresAt ?? 0) > Date.now();
  }

  /** Drops what this process holds for the scope (the first level and the remembered sealed forms). */
  dropHere(scope: CacheScope): number {
    const matches = (key: string) => {
      const [keyVault, keyUser] = key.split('\u0000');
      return (scope.vault === undefined || keyVault === scope.vault) && (scope.user === undefined || keyUser === userKey(scope.user));
    };
    let dropped = 0;
    for (const key of [...this.l1.keys()]) {
      if (!matches(key)) continue;
      this.l1.delete(key);
      dropped += 1;
    }
    for (const key of [...this.sealedForms.keys()]) if (matches(key)) this.sealedForms.delete(key);
    return dropped;
  }

  private async obtain(vault: string, identity: string, signIn: SignIn, options: SessionOptions & { stale?: string }): Promise<string> {
    const claim = await this.bus.request(
      'token.cache.claim.v1',
      {
        vault,
        user: identity,
        waitMs: CLAIM_WAIT_MS,
        ...(options.sliding ? { slideTtlSeconds: this.defaultTtlSeconds } : {}),
        ...(options.stale ? { stale: options.stale } : {}),
      },
      { timeoutMs: CLAIM_WAIT_MS + 5_000 },
    );
    if (claim.value !== null) {
      const session = this.keys.sessions.open(claim.value, sessionContext(vault, identity));
      if (session !== undefined) return this.remember(vault, identity, session, claim.value);
      // sealed with a key this instance no longer holds, or not for this user: signed in anew, as on a miss
    }
    let result: SignInResult;
    try {
      result = await signIn();
    } catch (error) {
      await this.bus.request('token.cache.abandon.v1', { vault, user: identity }).catch(() => undefined);
      throw error;
    }
    const value = typeof result === 'string' ? result : result.value;
    const ttlSeconds = typeof result === 'string' ? this.defaultTtlSeconds : Math.max(1, result.ttlSeconds);
    const sealed = this.keys.sessions.seal(value, sessionContext(vault, identity));
    await this.bus.request('token.cache.put.v1', { vault, user: identity, value: sealed, ttlSeconds });
    return this.remember(vault, identity, value, sealed);
  }

  private remember(vault: string, identity: string, session: string, sealed: string): string {
    const key = cacheKey(vault, identity);
    if (this.l1Ms > 0) {
      this.l1.delete(key);
      this.l1.set(key, { session, expiresAt: Date.now() + this.l1Ms });
      if (this.l1.size > L1_ENTRIES) this.l1.delete(this.l1.keys().next().value as string);
    }
    this.sealedForms.delete(key);
    this.sealedForms.set(key, { digest: digest(session), sealed });
    if (this.sealedForms.size > REMEMBERED_SEALS) this.sealedForms.delete(this.sealedForms.keys().next().value as string);
    return session;
  }

  private once(key: string, work: () => Promise<string>): Promise<string> {
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = work().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }
}

/** Identities are matched as token-cache matches them: case-insensitively. */
function cacheKey(vault: string, identity: string): string {
  return `${vault}\u0000${userKey(identity)}`;
}

/** A sealed session opens only for the connection and user it was sealed for (the user by a digest). */
export function sessionContext(vault: string, identity: string): string {
  return `vault-session:${vault}:${digest(userKey(identity))}`;
}
