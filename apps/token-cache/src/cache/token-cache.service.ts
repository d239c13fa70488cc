import { Injectable } from '@nestjs/common';
import { loadConfig, namespaceConfig, tokenCacheConfig } from '@openecm/config';
import { Keyring } from '@openecm/crypto';
import { createHash } from 'node:crypto';
import { RedisConnection } from '@openecm/service-kit';

/**
 * Per (vault connection, user) vault sessions and tokens, sealed with AES-256-GCM before they reach Redis.
 * Keys hold a hash of the user name, not the name itself; the envelope is bound to its key, so an entry
 * copied to another user's key does not open. A tampered or unreadable entry is a miss.
 */
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
    const digest = createHash('sha256').update(user.toLowerCase()).digest('base64url');
    return `${this.prefix}${vault}:${digest}`;
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
    await this.redis.client.set(key, this.keyring.seal(value, key), 'EX', ttlSeconds);
  }

  /** Clears all entries, one vault's, or one user's (in one vault or in all). */
  async delete(vault?: string, user?: string): Promise<number> {
    if (vault && user) return this.redis.client.del(this.key(vault, user));
    const userPart = user ? this.key('x', user).split(':').pop() : '*';
    const pattern = `${this.prefix}${vault ?? '*'}:${userPart}`;
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
