import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { connect } from 'nats';

export const PG_ADMIN_URL = process.env['TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const NATS_URL = process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

export function testKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * A database of its own for one test file; dropped afterwards. A missing server fails the suite loudly.
 */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `openecm_${process.env['OPENECM_NAMESPACE'] ?? 't'}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Deletes every Redis key of this test's namespace (BullMQ queues, cache entries). */
export async function clearNamespaceKeys(namespace = process.env['OPENECM_NAMESPACE']): Promise<void> {
  if (!namespace) throw new Error('no test namespace set');
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${namespace}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** Removes this test's JetStream streams (their names start with the namespace). */
export async function deleteNamespaceStreams(namespace = process.env['OPENECM_NAMESPACE']): Promise<void> {
  if (!namespace) throw new Error('no test namespace set');
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await nc.jetstreamManager();
    const prefix = `${namespace.toUpperCase().replace(/-/g, '_')}_`;
    for await (const stream of jsm.streams.list()) {
      if (stream.config.name.startsWith(prefix)) await jsm.streams.delete(stream.config.name);
    }
  } finally {
    await nc.close();
  }
}

/** Polls until `check` returns a value other than undefined/false, or fails with what was last seen. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? 'condition'}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

/**
 * What an end-to-end suite leaves behind, removed: its system stopped (when it started), its database dropped,
 * its Redis database flushed and its namespace's JetStream streams deleted.
 */
export async function tearDownSuite(parts: { system?: { stop(): Promise<void> } | undefined; db?: { drop(): Promise<void> } | undefined; redisUrl: string }): Promise<void> {
  await parts.system?.stop();
  await parts.db?.drop();
  const redis = new Redis(parts.redisUrl);
  await redis.flushdb();
  redis.disconnect();
  await deleteNamespaceStreams();
}
