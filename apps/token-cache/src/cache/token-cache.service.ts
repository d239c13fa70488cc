import { Injectable } from '@nestjs/common';
import { loadConfig, namespaceConfig, tokenCacheConfig } from '@openecm/config';
import { Keyring } from '@openecm/crypto';
import { userKey } from '@openecm/contracts';
import { createHash, randomUUID } from 'node:crypto';
import { RedisConnection } from '@openecm/service-kit';

/**
 * Per (vault connection, user) vault sessions and tokens. They arrive sealed by vault-adapters with a key this
 * service does not hold, so it keeps what it cannot read; it seals them once more with its own keys before
 * they reach Redis, so a copy of Redis alone yields not even those envelopes. Keys hold a hash of the user
 * name, not the name itself; the envelope is bound to its key, so an entry copied to another user's key does
 * not open. A tampered or unreadable entry is a miss.
 */
const FILLING = ':filling';
/** Keys of the keyring canary; no vault is named so (vault names start with a letter or digit). */
const CANARY = '_canary:';

/** Keys name users by a hash, so Redis never holds who uses which vault; `userKey` never merges two vault users. */
function userDigest(user: string): string {
  return createHash('sha256').update(userKey(user)).digest('base64url');
}
/** A sign-in that takes longer than this is presumed dead; another caller may then fill. */
const CLAIM_TTL_MS = 30_000;
const CLAIM_POLL_MS = 20;

@Injectable()
export class TokenCacheService {
  private readonly keyring: Keyring;
  private readonly prefix: string;

  constructor(private readonly redis: RedisConnection) {
    this.keyring = Keyring.parse(loadConfig(tokenCacheConfig).TOKEN_CACHE_KEYS);
    const ns = loadConfig(namespaceConfig).OPENECM_NAMESPACE;
    this.prefix = `${ns ? `${ns}:` : ''}openecm:token-cache:`;
  }

  private key(vault: string, user: string): string {
    return `${this.prefix}${vault}:${userDigest(user)}`;
  }

  async get(vault: string, user: string, slideTtlSeconds?: number): Promise<string | null> {
    const key = this.key(vault, user);
    const sealed = slideTtlSeconds
      ? await this.redis.client.getex(key, 'EX', slideTtlSeconds)
      : await this.redis.client.get(key);
    if (!sealed) return null;
    const value = this.keyring.open(sealed, key);
    if (value === undefined) {
      await this.redis.client.del(key);
      return null;
    }
    return value;
  }

  async put(vault: string, user: string, value: string, ttlSeconds: number): Promise<void> {
    const key = this.key(vault, user);
    await this.redis.client.multi().set(key, this.keyring.seal(value, key), 'EX', ttlSeconds).del(`${key}${FILLING}`).exec();
  }

  /**
   * The cached value, or the right to fill it: one claimant at a time, across every caller and instance,
   * gets `fill`; the others wait (up to `waitMs`) for the value it puts. A claimant that fails abandons,
   * and a claim left behind expires, so a crashed caller never blocks the rest for long.
   */
  async claim(vault: string, user: string, options: { slideTtlSeconds?: number; waitMs: number; stale?: string }): Promise<{ value: string | null; fill: boolean }> {
    const key = this.key(vault, user);
    const deadline = Date.now() + options.waitMs;
    for (;;) {
      const value = await this.get(vault, user, options.slideTtlSeconds);
      if (value !== null && value !== options.stale) return { value, fill: false };
      const claimed = await this.redis.client.set(`${key}${FILLING}`, '1', 'PX', CLAIM_TTL_MS, 'NX');
      if (claimed === 'OK') {
        // a filler may have put the value and dropped its marker between our read and our claim
        const late = await this.get(vault, user, options.slideTtlSeconds);
        if (late !== null && late !== options.stale) {
          await this.redis.client.del(`${key}${FILLING}`);
          return { value: late, fill: false };
        }
        return { value: null, fill: true };
      }
      // waited as long as the caller allows: it fills itself rather than fail
      if (Date.now() >= deadline) return { value: null, fill: true };
      await new Promise((resolve) => setTimeout(resolve, CLAIM_POLL_MS));
    }
  }

  async abandon(vault: string, user: string): Promise<boolean> {
    return (await this.redis.client.del(`${this.key(vault, user)}${FILLING}`)) > 0;
  }

  /**
   * Diagnostics: a canary sealed with the active key, stored, read back and opened, then up to `sample` stored
   * sessions tried with the configured keys. One that no longer opens is a miss: that user signs in again.
   */
  async checkKeyring(sample = 100): Promise<{ keyId: string; canary: boolean; sampled: number; unreadable: number }> {
    const canaryKey = `${this.prefix}${CANARY}${randomUUID()}`;
    const value = randomUUID();
    await this.redis.client.set(canaryKey, this.keyring.seal(value, canaryKey), 'PX', 10_000);
    const stored = await this.redis.client.get(canaryKey);
    await this.redis.client.del(canaryKey);
    const canary = stored !== null && this.keyring.open(stored, canaryKey) === value;
    const entries: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.client.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 500);
      cursor = next;
      entries.push(...keys.filter((k) => !k.endsWith(FILLING) && !k.startsWith(`${this.prefix}${CANARY}`)));
    } while (cursor !== '0' && entries.length < sample);
    entries.splice(sample);
    const values = entries.length > 0 ? await this.redis.client.mget(...entries) : [];
    const unreadable = values.filter((v, i) => v !== null && this.keyring.open(v, entries[i] as string) === undefined).length;
    return { keyId: this.keyring.activeKeyId, canary, sampled: values.filter((v) => v !== null).length, unreadable };
  }

  /** Clears all entries, one vault's, or one user's (in one vault or in all). */
  async delete(vault?: string, user?: string): Promise<number> {
    if (vault && user) return this.redis.client.del(this.key(vault, user));
    const pattern = `${this.prefix}${vault ?? '*'}:${user ? userDigest(user) : '*'}`;
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await this.redis.client.del(...keys);
    } while (cursor !== '0');
    return deleted;
  }
}
