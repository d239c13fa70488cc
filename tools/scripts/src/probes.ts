import { Redis } from 'ioredis';
import { connect } from 'nats';
import { Client } from 'pg';
import type { Probe, ServerKind } from './infra-plan';

const TIMEOUT_MS = 2000;

function reasonOf(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  if (!message) return code ?? String(error);
  return code && !/^\d+$/.test(code) && !message.includes(code) ? `${code}: ${message}` : message;
}

/** A NATS server that accepts a connection and has JetStream enabled for this account. */
export async function probeNats(url: string): Promise<Probe> {
  try {
    const nc = await connect({ servers: url, timeout: TIMEOUT_MS, reconnect: false });
    try {
      const jsm = await nc.jetstreamManager({ timeout: TIMEOUT_MS });
      await jsm.getAccountInfo();
      return { answers: true };
    } catch (error) {
      return { answers: false, reason: `JetStream: ${reasonOf(error)}` };
    } finally {
      await nc.close();
    }
  } catch (error) {
    return { answers: false, reason: reasonOf(error) };
  }
}

/** A Redis that answers PING. */
export async function probeRedis(url: string): Promise<Probe> {
  // ioredis's own connect timeout outlives a refused connection (this one is cleared), and its disconnect
  // waits disconnectTimeout for a close that may already have come.
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 0, disconnectTimeout: 100, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let refused: unknown;
  redis.on('error', (error) => (refused ??= error));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS)));
  try {
    const pong = await Promise.race([redis.connect().then(() => redis.ping()), timeout]);
    return pong === 'PONG' ? { answers: true } : { answers: false, reason: `PING answered ${pong}` };
  } catch (error) {
    return { answers: false, reason: reasonOf(refused ?? error) };
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}

/** A PostgreSQL that accepts the connection; a database not created yet counts (the apps create it). */
export async function probePostgres(url: string): Promise<Probe> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return { answers: true };
  } catch (error) {
    if ((error as { code?: string }).code === '3D000') return { answers: true };
    return { answers: false, reason: reasonOf(error) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function probe(kind: ServerKind, url: string): Promise<Probe> {
  return { nats: probeNats, redis: probeRedis, postgres: probePostgres }[kind](url);
}
