import { loadConfig, namespaceConfig, redisConfig } from '@openecm/config';
import type { ConnectionOptions } from 'bullmq';

/** BullMQ's Redis connection from REDIS_URL; each queue and worker opens its own. */
export function bullConnection(): ConnectionOptions {
  const url = new URL(loadConfig(redisConfig).REDIS_URL);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username || undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    // BullMQ workers block on Redis; commands must wait for a reconnect rather than fail
    maxRetriesPerRequest: null,
  };
}

/** The deployment's namespace keeps its queues apart from another's on the same Redis. */
export function bullPrefix(): string {
  const ns = loadConfig(namespaceConfig).OPENECM_NAMESPACE;
  return ns ? `${ns}:openecm:bull` : 'openecm:bull';
}
