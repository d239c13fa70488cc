import { Injectable } from '@nestjs/common';
import { gatewayConfig, loadConfig, namespaceConfig } from '@openecm/config';
import { RedisConnection } from '@openecm/service-kit';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { OAuthError } from './oauth-error';

/** Why a sign-in was refused before its secret was checked. */
export type SignInRefusal = 'rate-limited' | 'locked';

/** A sign-in refused by the limits: 429 with `Retry-After`. */
export class SignInRefused extends OAuthError {
  constructor(
    readonly refusal: SignInRefusal,
    message: string,
    retryAfterMs: number,
  ) {
    super('RATE_LIMITED', message, 'invalid_request', undefined, Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }
}

/**
 * What a source address is limited under. An IPv4 address (also written IPv4-mapped) is its own key; an IPv6
 * address counts by its /64, the block one subscriber is handed, so walking through a prefix gains nothing.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1] as string;
  const bare = address.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return address;
  return `${expandIPv6(bare).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, each without leading zeros; a trailing dotted IPv4 part counts as two. */
function expandIPv6(address: string): string[] {
  let text = address.toLowerCase();
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** Keys name client ids by a digest: Redis holds no id a caller typed, and any id makes a key of one shape. */
function clientKey(clientId: string): string {
  return createHash('sha256').update(clientId, 'utf8').digest('base64url');
}

const isRefusal = (value: unknown): value is RateLimiterRes => value instanceof RateLimiterRes;

/**
 * The limits of `POST /oauth2/token`, kept in Redis so every gateway instance counts against the same figures
 * (rate-limiter-flexible, atomic per key). Each key is one client id or one source address, never the whole
 * endpoint, so a flood from one place slows no one else. While Redis is out of reach each instance goes on
 * limiting with the same figures in its own memory.
 *
 * - every sign-in counts against its address, then against each client id it names (TOKEN_RATE_*);
 * - a failed sign-in counts against the client id and the address; at TOKEN_LOCKOUT_FAILURES (or
 *   TOKEN_LOCKOUT_ADDRESS_FAILURES) within the window that key is locked for TOKEN_LOCKOUT_SECONDS, refused before
 *   its secret is even checked, and unknown client ids are counted exactly as known ones, so the answers tell
 *   nothing of which exist;
 * - a successful sign-in clears its client id's failures.
 */
@Injectable()
export class SignInLimiter {
  private readonly config = loadConfig(gatewayConfig);
  private readonly perAddress: RateLimiterRedis;
  private readonly perClient: RateLimiterRedis;
  private readonly clientFailures: RateLimiterRedis;
  private readonly addressFailures: RateLimiterRedis;

  constructor(redis: RedisConnection) {
    const ns = loadConfig(namespaceConfig).OPENECM_NAMESPACE;
    const prefix = `${ns ? `${ns}:` : ''}openecm:gateway:sign-in`;
    const limiter = (name: string, points: number, duration: number) =>
      new RateLimiterRedis({
        storeClient: redis.client,
        keyPrefix: `${prefix}:${name}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ keyPrefix: `${prefix}:${name}`, points, duration }),
      });
    const c = this.config;
    this.perAddress = limiter('address', c.TOKEN_RATE_PER_ADDRESS, c.TOKEN_RATE_WINDOW_SECONDS);
    this.perClient = limiter('client', c.TOKEN_RATE_PER_CLIENT, c.TOKEN_RATE_WINDOW_SECONDS);
    this.clientFailures = limiter('client-failures', c.TOKEN_LOCKOUT_FAILURES, c.TOKEN_LOCKOUT_WINDOW_SECONDS);
    this.addressFailures = limiter('address-failures', c.TOKEN_LOCKOUT_ADDRESS_FAILURES, c.TOKEN_LOCKOUT_WINDOW_SECONDS);
  }

  /** Before anything is read of the request: a locked or too busy address is refused. */
  async admitAddress(address: string): Promise<void> {
    const key = addressKey(address);
    await this.refuseIfLocked(this.addressFailures, key, 'too many failed sign-ins from this address');
    await this.consume(this.perAddress, key, 'too many sign-ins from this address');
  }

  /** Before the secret is checked: a locked or too busy client id is refused, whether or not it exists. */
  async admitClients(clientIds: readonly string[]): Promise<void> {
    for (const id of clientIds) {
      await this.refuseIfLocked(this.clientFailures, clientKey(id), 'too many failed sign-ins for this client id; it is locked');
    }
    for (const id of clientIds) await this.consume(this.perClient, clientKey(id), 'too many sign-ins for this client id');
  }

  /** An unknown client id or a wrong secret: counted, and the key locked once it reaches its threshold. */
  async failed(address: string, clientIds: readonly string[]): Promise<void> {
    const counts = [
      ...clientIds.map((id) => ({ limiter: this.clientFailures, key: clientKey(id), threshold: this.config.TOKEN_LOCKOUT_FAILURES })),
      { limiter: this.addressFailures, key: addressKey(address), threshold: this.config.TOKEN_LOCKOUT_ADDRESS_FAILURES },
    ];
    await Promise.all(
      counts.map(async ({ limiter, key, threshold }) => {
        const res = await limiter.penalty(key);
        if (res.consumedPoints >= threshold) await limiter.block(key, this.config.TOKEN_LOCKOUT_SECONDS);
      }),
    );
  }

  async succeeded(clientIds: readonly string[]): Promise<void> {
    await Promise.all(clientIds.map((id) => this.clientFailures.delete(clientKey(id))));
  }

  /** `block` leaves a key above its points until the lock ends; below them it is only counting. */
  private async refuseIfLocked(limiter: RateLimiterRedis, key: string, message: string): Promise<void> {
    const res = await limiter.get(key);
    if (res && res.consumedPoints > limiter.points && res.msBeforeNext > 0) throw new SignInRefused('locked', message, res.msBeforeNext);
  }

  private async consume(limiter: RateLimiterRedis, key: string, message: string): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (refused) {
      if (isRefusal(refused)) throw new SignInRefused('rate-limited', message, refused.msBeforeNext);
      throw refused;
    }
  }
}
