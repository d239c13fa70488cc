import type { INestApplication } from '@nestjs/common';
import { OpenEcmError, qualify } from '@openecm/contracts';
import { Keyring } from '@openecm/crypto';
import type { Bus } from '@openecm/messaging';
import { NATS_URL, REDIS_URL, clearNamespaceKeys, startTestApp, testBus, testKey, waitFor } from '@openecm/testing';
import { Redis } from 'ioredis';
import { JSONCodec, connect } from 'nats';

const ns = process.env['OPENECM_NAMESPACE'] as string;
process.env['TOKEN_CACHE_KEYS'] = `k1:${testKey()}`;
process.env['REDIS_URL'] = REDIS_URL;

/** What vault-adapters hands over: sessions sealed with a key token-cache does not hold. */
const vaultSide = Keyring.parse(`va:${testKey()}`);
const sessions = new Map<string, string>();
const sealed = (session: string): string => {
  let envelope = sessions.get(session);
  if (!envelope) sessions.set(session, (envelope = vaultSide.seal(session, 'vault-session')));
  return envelope;
};

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

  it('stores a session per vault and user as it came, sealed once more: neither that envelope nor the user name is in Redis', async () => {
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'CORP\\alice', value: sealed('ASP.NET_SessionId=abc123'), ttlSeconds: 60 });
    const got = await bus.request('token.cache.get.v1', { vault: 'ps', user: 'corp\\ALICE' });
    expect(got.value).toBe(sealed('ASP.NET_SessionId=abc123'));
    expect(vaultSide.open(got.value as string, 'vault-session')).toBe('ASP.NET_SessionId=abc123');
    const stored = await keys();
    expect(stored).toHaveLength(1);
    const raw = await redis.get(stored[0] as string);
    expect(raw).not.toContain(sealed('ASP.NET_SessionId=abc123').split('.')[4]);
    expect(stored[0]).not.toMatch(/alice/i);
    expect(await redis.ttl(stored[0] as string)).toBeGreaterThan(50);
    expect((await bus.request('token.cache.get.v1', { vault: 'other', user: 'corp\\alice' })).value).toBeNull();
  });

  it('treats a tampered entry, or one copied onto another user, as a miss', async () => {
    await bus.request('token.cache.delete.v1', {});
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'bob', value: sealed('cookie-b'), ttlSeconds: 60 });
    const [bobKey] = await keys();
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'carol', value: sealed('cookie-c'), ttlSeconds: 60 });
    const carolKey = (await keys()).find((k) => k !== bobKey) as string;
    await redis.set(carolKey, (await redis.get(bobKey as string)) as string);
    expect((await bus.request('token.cache.get.v1', { vault: 'ps', user: 'carol' })).value).toBeNull();
    const entry = (await redis.get(bobKey as string)) as string;
    await redis.set(bobKey as string, `${entry.slice(0, -2)}${entry.endsWith('A') ? 'B' : 'A'}A`);
    expect((await bus.request('token.cache.get.v1', { vault: 'ps', user: 'bob' })).value).toBeNull();
  });

  it('slides the expiry on use and clears by user, by vault or all', async () => {
    await bus.request('token.cache.delete.v1', {});
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'u1', value: sealed('a'), ttlSeconds: 5 });
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'u2', value: sealed('b'), ttlSeconds: 5 });
    await bus.request('token.cache.put.v1', { vault: 'ss', user: 'u1', value: sealed('c'), ttlSeconds: 5 });
    await bus.request('token.cache.get.v1', { vault: 'ps', user: 'u1', slideTtlSeconds: 300 });
    const ttls = await Promise.all((await keys()).map((k) => redis.ttl(k)));
    expect(Math.max(...ttls)).toBeGreaterThan(100);
    expect((await bus.request('token.cache.delete.v1', { user: 'u1' })).deleted).toBe(2);
    expect((await bus.request('token.cache.get.v1', { vault: 'ps', user: 'u2' })).value).toBe(sealed('b'));
    expect((await bus.request('token.cache.delete.v1', { vault: 'ps' })).deleted).toBe(1);
    expect(await keys()).toHaveLength(0);
  });

  it('lets exactly one of many concurrent claimants sign in, and hands the others its value', async () => {
    const claims = Array.from({ length: 50 }, () => bus.request('token.cache.claim.v1', { vault: 'ss', user: 'cold', waitMs: 5000 }, { timeoutMs: 8000 }));
    // one claimant holds the fill right (its marker is in Redis); it puts the value while the others wait
    await waitFor(async () => (await redis.keys(`${ns}:openecm:token-cache:ss:*:filling`)).length === 1, { what: 'a claim' });
    await bus.request('token.cache.put.v1', { vault: 'ss', user: 'cold', value: sealed('fresh-token'), ttlSeconds: 60 });
    const replies = await Promise.all(claims);
    expect(replies.filter((r) => r.fill)).toHaveLength(1);
    expect(replies.filter((r) => !r.fill).every((r) => r.value === sealed('fresh-token'))).toBe(true);
  });

  it('treats a value the vault rejected as absent, and lets the next claimant in after an abandon', async () => {
    await bus.request('token.cache.put.v1', { vault: 'ss', user: 'stale', value: sealed('old'), ttlSeconds: 60 });
    expect(await bus.request('token.cache.claim.v1', { vault: 'ss', user: 'stale', waitMs: 0 })).toEqual({ value: sealed('old'), fill: false });
    expect(await bus.request('token.cache.claim.v1', { vault: 'ss', user: 'stale', waitMs: 0, stale: sealed('old') })).toEqual({ value: null, fill: true });
    const waiting = bus.request('token.cache.claim.v1', { vault: 'ss', user: 'stale', waitMs: 5000, stale: sealed('old') }, { timeoutMs: 8000 });
    await bus.request('token.cache.abandon.v1', { vault: 'ss', user: 'stale' });
    expect(await waiting).toEqual({ value: null, fill: true });
  });

  it('proves its keyring on a canary and counts stored sessions the configured keys no longer open', async () => {
    await bus.request('token.cache.delete.v1', {});
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'k1', value: sealed('session-1'), ttlSeconds: 60 });
    await bus.request('token.cache.put.v1', { vault: 'ps', user: 'k2', value: sealed('session-2'), ttlSeconds: 60 });
    const healthy = await bus.request('token.keyring.check.v1', {});
    expect(healthy).toEqual({ keyId: 'k1', canary: true, sampled: 2, unreadable: 0 });
    const [first] = await keys();
    // sealed under a key this instance does not hold, as after a key change that dropped the old key
    await redis.set(first as string, 'k0.AAAA.BBBB.CCCC.DDDD');
    expect(await bus.request('token.keyring.check.v1', {})).toEqual({ keyId: 'k1', canary: true, sampled: 2, unreadable: 1 });
    expect((await keys()).some((k) => k.includes('_canary'))).toBe(false);
  });

  it('refuses a session that is not sealed, naming the field and never the value', async () => {
    await bus.request('token.cache.delete.v1', {});
    // sent past the typed client, as a process on the bus could
    const nc = await connect({ servers: NATS_URL });
    try {
      const subject = qualify('token.cache.put.v1', ns);
      const data = { vault: 'ps', user: 'u', value: 'ASP.NET_SessionId=plain', ttlSeconds: 60 };
      const reply = await nc.request(subject, JSONCodec().encode({ pattern: subject, data, id: '1' }), { timeout: 5000 });
      const text = reply.string();
      expect(JSON.parse(text)).toMatchObject({ response: { ok: false, error: { code: 'VALIDATION_FAILED', fields: [expect.objectContaining({ field: 'value' })] } } });
      expect(text).not.toContain('plain');
    } finally {
      await nc.close();
    }
    expect(await keys()).toHaveLength(0);
  });

  it('rejects a malformed request with the field named and stores nothing', async () => {
    await bus.request('token.cache.delete.v1', {});
    const error = await bus
      .request('token.cache.put.v1', { vault: 'Bad Name', user: 'u', value: sealed('v'), ttlSeconds: 60 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenEcmError);
    expect((error as OpenEcmError).fields?.[0]?.field).toBe('vault');
    expect(await keys()).toHaveLength(0);
  });
});
