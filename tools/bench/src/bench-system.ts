import { NATS_URL, REDIS_URL, launchSystem, type RunningSystem, type SystemOptions } from '@openecm/testing';

/**
 * The simulator stands for a vault, which a deployment runs elsewhere, not on the broker's cores: it is never
 * traced in a bench, so that a comparison of tracing on and off measures OpenECM's tracing alone.
 */
export const SIM_ENV = { OTEL_SDK_DISABLED: 'true' };

/** The whole system for a bench: its own database and namespace, this machine's NATS and Redis, warnings only. */
export function launchBenchSystem(namespace: string, databaseUrl: string, options: Partial<SystemOptions> = {}): Promise<RunningSystem> {
  return launchSystem({ namespace, databaseUrl, redisUrl: REDIS_URL, natsUrl: NATS_URL, logLevel: 'warn', simEnv: SIM_ENV, ...options });
}
