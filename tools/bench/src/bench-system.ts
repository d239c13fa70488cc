import { NATS_URL, REDIS_URL, launchSystem, type RunningSystem, type SystemOptions } from '@openecm/testing';

/** The whole system for a bench: its own database and namespace, this machine's NATS and Redis, warnings only. */
export function launchBenchSystem(namespace: string, databaseUrl: string, options: Partial<SystemOptions> = {}): Promise<RunningSystem> {
  return launchSystem({ namespace, databaseUrl, redisUrl: REDIS_URL, natsUrl: NATS_URL, logLevel: 'warn', ...options });
}
