import { LogLevel } from '@openecm/contracts';
import { z } from 'zod';
import { defineConfig } from './env';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

/** Isolates one deployment (or one test run) on shared infrastructure: subject, stream, key and queue prefix. */
export const namespaceConfig = defineConfig(
  'namespace',
  z.object({
    OPENECM_NAMESPACE: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,30}$/, 'lower-case letters, digits and dashes, starting with a letter')
      .optional(),
  }),
);

export const natsConfig = defineConfig(
  'nats',
  z.object({
    NATS_URL: z.string().default('nats://127.0.0.1:4222'),
    NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  }),
);

export const redisConfig = defineConfig(
  'redis',
  z.object({ REDIS_URL: z.string().url().default('redis://127.0.0.1:6379') }),
  ['REDIS_URL'],
);

export const postgresConfig = defineConfig(
  'postgres',
  z.object({
    DATABASE_URL: z.string().url().default('postgres://postgres@127.0.0.1:5432/openecm'),
    DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  }),
  ['DATABASE_URL'],
);

export const logConfig = defineConfig(
  'log',
  z.object({
    LOG_LEVEL: LogLevel.default('info'),
  }),
);

/** How long an app may take, after SIGTERM, to finish the requests and jobs it holds before it exits anyway. */
export const lifecycleConfig = defineConfig(
  'lifecycle',
  z.object({ SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(25_000) }),
);

/** The operational HTTP port each app opens for /health and /metrics (the gateway uses GATEWAY_PORT). */
export const opsHttpConfig = defineConfig('ops-http', z.object({ HTTP_PORT: port(0) }));

export const gatewayConfig = defineConfig(
  'appliance-gateway',
  z.object({
    GATEWAY_PORT: port(8080),
    GATEWAY_HOST: z.string().default('0.0.0.0'),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
    OPENECM_BOOTSTRAP_CLIENT_ID: z.string().min(3).optional(),
    OPENECM_BOOTSTRAP_CLIENT_SECRET: z.string().min(16, 'at least 16 characters').optional(),
  }),
  ['OPENECM_BOOTSTRAP_CLIENT_SECRET'],
);

/** Comma-separated `keyId:base64key` pairs; the first is the one new entries are sealed with. */
const keyring = z
  .string()
  .regex(/^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+)*$/, 'keyId:base64key[,keyId:base64key...]');

export const tokenCacheConfig = defineConfig(
  'token-cache',
  z.object({ TOKEN_CACHE_KEYS: keyring }),
  ['TOKEN_CACHE_KEYS'],
);

export const vaultAdaptersConfig = defineConfig(
  'vault-adapters',
  z.object({
    VAULT_SETTINGS_KEYS: keyring,
    VAULT_HTTP_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
    VAULT_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
    VAULT_RETRY_BASE_DELAY_MS: z.coerce.number().int().min(1).default(500),
    /** Vault sessions are cached this long below the vault's idle timeout. */
    VAULT_SESSION_TTL_SECONDS: z.coerce.number().int().min(10).default(15 * 60),
    /** The largest answer a vault may give to one call, in bytes: a larger one is cut off and fails that call (VAULT_ERROR). */
    VAULT_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(4 * 1024 * 1024),
  }),
  ['VAULT_SETTINGS_KEYS'],
);

export const policyConfig = defineConfig(
  'policy-approval',
  z.object({
    RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
    /** Check-in attempts of one release, at most; ROTATION_RETRY_FOR_MS usually ends the retries first. */
    RELEASE_JOB_ATTEMPTS: z.coerce.number().int().min(1).default(100_000),
    /** The first retry's delay; each next one doubles, up to RELEASE_JOB_BACKOFF_MAX_MS. */
    RELEASE_JOB_BACKOFF_MS: z.coerce.number().int().min(1).default(2_000),
    RELEASE_JOB_BACKOFF_MAX_MS: z.coerce.number().int().min(1).default(10 * 60_000),
    /**
     * How long a check-in (and the rotation it asks for) is retried after the release before the lease ends
     * `failed`: a password that may not have been rotated is never given up on quietly.
     */
    ROTATION_RETRY_FOR_MS: z.coerce.number().int().min(1).default(24 * 3600_000),
    RUN_RELEASE_WORKER: bool(true),
    /**
     * A release worker's hold on a job, renewed while it works: a killed worker's releases are taken up by
     * another (or the restarted one) within this plus RELEASE_STALLED_CHECK_MS, not BullMQ's 30 s + 30 s.
     */
    RELEASE_JOB_LOCK_MS: z.coerce.number().int().min(1000).default(10_000),
    RELEASE_STALLED_CHECK_MS: z.coerce.number().int().min(500).default(5_000),
    /** Credential ids not listed again for this long, and never injected, are forgotten. */
    OFFER_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  }),
);
