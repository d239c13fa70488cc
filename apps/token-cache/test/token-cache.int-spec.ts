import type { INestApplication } from '@nestjs/common';
import { OpenEcmError } from '@openecm/contracts';
import type { Bus } from '@openecm/messaging';
import { REDIS_URL, clearNamespaceKeys, startTestApp, testBus, testKey, waitFor } from '@openecm/testing';
import { Redis } from 'ioredis';

const ns = process.env['OPENECM_NAMESPACE'] as string;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['REDIS_URL'] = REDIS_URL;

describe('token-cache over NATS and Redis', () => {
  let app: INestApplication;
  let bus: Bus;
  const redis = new Redis(REDIS_URL);

  beforeAll(async () => {
    const { AppModule } = await import('../src/app.module');
    ({ app } = await startTestApp('token-cache', AppModule));
    bus = testBus();
  });

  afterAll(async () => {
    await bus.onApplicationShutdown();
    await app.close();
    await clearNamespaceKeys();
    redis.disconnect();
  });

  const keys = () => redis.keys(`${ns}:openecm:token-cache:*`);

  it('stores a session per vault and user, sealed: neither the value nor the user name is in Redis', async () => {
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'CORP\\alice', value: 'ASP.NET_SessionId=abc123', ttlSeconds: 60 });
    const got = await bus.request('token.cache.get.v1', { vault: 'ps', user: 'corp\\ALICE' });
    expect(got.value).toBe('ASP.NET_SessionId=abc123');
    const stored = await keys();
    expect(stored).toHaveLength(1);
    const raw = await redis.get(stored[0] as string);
    expect(raw).not.toContain('abc123');
    expect(stored[0]).not.toMatch(/alice/i);
    expect(await redis.ttl(stored[0] as string)).toBeGreaterThan(50);
    expect((await bus.request('token.cache.get.v1', { vault: 'other', user: 'corp\\alice' })).value).toBeNull();
  });

  it('treats a tampered entry, or one copied onto another user, as a miss', async () => {
    await bus.request('token.cache.delete.v1', {});
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'bob', value: 'cookie-b', ttlSeconds: 60 });
    const [bobKey] = await keys();
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'carol', value: 'cookie-c', ttlSeconds: 60 });
    const carolKey = (await keys()).find((k) => k !== bobKey) as string;
    await redis.set(carolKey, (await redis.get(bobKey as string)) as string);
    expect((await bus.request('token.cache.get.v1', { vault: 'ps', user: 'carol' })).value).toBeNull();
    const sealed = (await redis.get(bobKey as string)) as string;
    await redis.set(bobKey as string, `${sealed.slice(0, -2)}${sealed.endsWith('A') ? 'B' : 'A'}A`);
    expect((await bus.request('token.cache.get.v1', { vault: 'ps', user: 'bob' })).value).toBeNull();
  });

  it('slides the expiry on use and clears by user, by vault or all', async () => {
    await bus.request('token.cache.delete.v1', {});
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'u1', value: 'a', ttlSeconds: 5 });
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'u2', value: 'b', ttlSeconds: 5 });
    await bus.request('token.cache.put.v1', { vault: 'ss', user: 'u1', value: 'c', ttlSeconds: 5 });
    await bus.request('token.cache.get.v1', { vault: 'ps', user: 'u1', slideTtlSeconds: 300 });
    const ttls = await Promise.all((await keys()).map((k) => redis.ttl(k)));
    expect(Math.max(...ttls)).toBeGreaterThan(100);
    expect((await bus.request('token.cache.delete.v1', { user: 'u1' })).deleted).toBe(2);
    expect((await bus.request('token.cache.get.v1', { vault: 'ps', user: 'u2' })).value).toBe('b');
    expect((await bus.request('token.cache.delete.v1', { vault: 'ps' })).deleted).toBe(1);
    expect(await keys()).toHaveLength(0);
  });

  it('lets exactly one of many concurrent claimants sign in, and hands the others its value', async () => {
    const claims = Array.from({ length: 50 }, () => bus.request('token.cache.claim.v1', { vault: 'ss', user: 'cold', waitMs: 5000 }, { timeoutMs: 8000 }));
    // one claimant holds the fill right (its marker is in Redis); it puts the value while the others wait
    await waitFor(async () => (await redis.keys(`${ns}:openecm:token-cache:ss:*:filling`)).length === 1, { what: 'a claim' });
    await bus.request('token.cache.put.v1', { vault: 'ss', user: 'cold', value: 'fresh-token', ttlSeconds: 60 });
    const replies = await Promise.all(claims);
    expect(replies.filter((r) => r.fill)).toHaveLength(1);
    expect(replies.filter((r) => !r.fill).every((r) => r.value === 'fresh-token')).toBe(true);
  });

  it('treats a value the vault rejected as absent, and lets the next claimant in after an abandon', async () => {
    await bus.request('token.cache.put.v1', { vault: 'ss', user: 'stale', value: 'old', ttlSeconds: 60 });
    expect(await bus.request('token.cache.claim.v1', { vault: 'ss', user: 'stale', waitMs: 0 })).toEqual({ value: 'old', fill: false });
    expect(await bus.request('token.cache.claim.v1', { vault: 'ss', user: 'stale', waitMs: 0, stale: 'old' })).toEqual({ value: null, fill: true });
    const waiting = bus.request('token.cache.claim.v1', { vault: 'ss', user: 'stale', waitMs: 5000, stale: 'old' }, { timeoutMs: 8000 });
    await bus.request('token.cache.abandon.v1', { vault: 'ss', user: 'stale' });
    expect(await waiting).toEqual({ value: null, fill: true });
  });

  it('proves its keyring on a canary and counts stored sessions the configured keys no longer open', async () => {
    await bus.request('token.cache.delete.v1', {});
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'k1', value: 'session-1', ttlSeconds: 60 });
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'k2', value: 'session-2', ttlSeconds: 60 });
    const healthy = await bus.request('token.keyring.check.v1', {});
    expect(healthy).toEqual({ keyId: 'k1', canary: true, sampled: 2, unreadable: 0 });
    const [first] = await keys();
    // sealed under a key this instance does not hold, as after a key change that dropped the old key
    await redis.set(first as string, 'k0.AAAA.BBBB.CCCC.DDDD');
    expect(await bus.request('token.keyring.check.v1', {})).toEqual({ keyId: 'k1', canary: true, sampled: 2, unreadable: 1 });
    expect((await keys()).some((k) => k.includes('_canary'))).toBe(false);
  });

  it('rejects a malformed request with the field named and stores nothing', async () => {
    await bus.request('token.cache.delete.v1', {});
    const error = await bus
      .request('token.cache.put.v1', { vault: 'Bad Name', user: 'u', value: 'v', ttlSeconds: 60 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenEcmError);
    expect((error as OpenEcmError).fields?.[0]?.field).toBe('vault');
    expect(await keys()).toHaveLength(0);
  });
});
