import { Injectable } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import { Bus } from '@openecm/messaging';

/** What a sign-in yields: the session to cache and, when the vault says so, how long it lives. */
export type SignInResult = string | { value: string; ttlSeconds: number };
export type SignIn = () => Promise<SignInResult>;

export interface SessionOptions {
  sliding?: boolean;
}

/** How long a caller waits for another instance's sign-in before it signs in itself. */
const CLAIM_WAIT_MS = 15_000;

/**
 * Per (vault connection, identity) vault sessions, kept by token-cache (encrypted in Redis) so every
 * instance reuses them. Single flight twice over: concurrent callers in this instance share one call, and
 * token-cache's claim lets only one caller across all instances sign in while the others wait for it.
 */
@Injectable()
export class VaultSessionCache {
  private readonly defaultTtlSeconds = loadConfig(vaultAdaptersConfig).VAULT_SESSION_TTL_SECONDS;
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly bus: Bus) {}

  /**
   * The cached session, or a new one. `sliding` is for sessions that die after an idle time (Password
   * Safe): each use extends them. Tokens with a fixed lifetime (Secret Server) keep the TTL they were stored with.
   */
  get(vault: string, identity: string, signIn: SignIn, options: SessionOptions = {}): Promise<string> {
    return this.once(`${vault}\u0000${identity.toLowerCase()}`, () => this.obtain(vault, identity, signIn, options));
  }

  /** After the vault rejected `stale`: one caller signs in anew, everyone gets the new session. */
  renew(vault: string, identity: string, stale: string, signIn: SignIn, options: SessionOptions = {}): Promise<string> {
    return this.once(`${vault}\u0000${identity.toLowerCase()}\u0000renew`, () => this.obtain(vault, identity, signIn, { ...options, stale }));
  }

  async forget(vault?: string, user?: string): Promise<number> {
    const reply = await this.bus.request('token.cache.delete.v1', { ...(vault ? { vault } : {}), ...(user ? { user } : {}) });
    return reply.deleted;
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
    if (claim.value !== null) return claim.value;
    let result: SignInResult;
    try {
      result = await signIn();
    } catch (error) {
      await this.bus.request('token.cache.abandon.v1', { vault, user: identity }).catch(() => undefined);
      throw error;
    }
    const value = typeof result === 'string' ? result : result.value;
    const ttlSeconds = typeof result === 'string' ? this.defaultTtlSeconds : Math.max(1, result.ttlSeconds);
    await this.bus.request('token.cache.put.v1', { vault, user: identity, value, ttlSeconds });
    return value;
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
