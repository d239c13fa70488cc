import { LogLevel } from '@openecm/contracts';
import { isIP } from 'node:net';
import { z } from 'zod';
import { defineConfig } from './env';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1');

/** `10.0.0.1`, `fd00::1`, `10.0.0.0/8` or `fd00::/8`. */
function isIpOrCidr(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

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

const filePath = z.string().min(1).max(4096);

/**
 * How an app reaches NATS and proves who it is: one way to authenticate (user and password, an NKey seed given
 * or read from a file, or a .creds file), and TLS whenever a CA, certificate or key is named (files, re-read on
 * every reconnect so a rotated one is picked up).
 */
export const natsConfig = defineConfig(
  'nats',
  z
    .object({
      NATS_URL: z.string().default('nats://127.0.0.1:4222'),
      NATS_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
      NATS_USER: z.string().min(1).max(256).optional(),
      NATS_PASSWORD: z.string().min(1).max(1024).optional(),
      NATS_NKEY_SEED: z.string().regex(/^SU[A-Z2-7]{56}$/, 'a user NKey seed: SU followed by 56 base32 characters').optional(),
      NATS_NKEY_SEED_FILE: filePath.optional(),
      NATS_CREDS_FILE: filePath.optional(),
      NATS_TLS_CA: filePath.optional(),
      NATS_TLS_CERT: filePath.optional(),
      NATS_TLS_KEY: filePath.optional(),
    })
    .superRefine((v, ctx) => {
      const problem = (variable: string, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
      if (v.NATS_USER && !v.NATS_PASSWORD) problem('NATS_PASSWORD', 'required with NATS_USER');
      if (v.NATS_PASSWORD && !v.NATS_USER) problem('NATS_USER', 'required with NATS_PASSWORD');
      const ways = (['NATS_USER', 'NATS_NKEY_SEED', 'NATS_NKEY_SEED_FILE', 'NATS_CREDS_FILE'] as const).filter((k) => v[k]);
      if (ways.length > 1) problem(ways[1] as string, `one way to authenticate at a time: ${ways.join(', ')} are all set`);
      if (v.NATS_TLS_CERT && !v.NATS_TLS_KEY) problem('NATS_TLS_KEY', 'required with NATS_TLS_CERT');
      if (v.NATS_TLS_KEY && !v.NATS_TLS_CERT) problem('NATS_TLS_CERT', 'required with NATS_TLS_KEY');
    }),
  ['NATS_PASSWORD', 'NATS_NKEY_SEED'],
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
    /** Idle pooled connections are kept this long (pg's 10 s default made the next request reconnect). */
    DATABASE_POOL_IDLE_TIMEOUT_MS: z.coerce.number().int().min(0).default(300_000),
    /** The credential path's statements are parsed and planned once per connection (off behind a pooler that cannot keep them). */
    DATABASE_PREPARED_STATEMENTS: bool(true),
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

/**
 * The operational HTTP port each app opens for /health and /metrics (the gateway uses GATEWAY_PORT), and the
 * address it binds: loopback unless set, so a host runs no open metrics port by mistake; containers set 0.0.0.0
 * for their probes and scrapers.
 */
export const opsHttpConfig = defineConfig(
  'ops-http',
  z.object({ HTTP_PORT: port(0), OPS_HOST: z.string().min(1).default('127.0.0.1') }),
);

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `address`, `address/prefix` or a named range, as Express's `trust proxy` takes them. */
function isProxyEntry(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

const count = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const seconds = (fallback: number) => z.coerce.number().int().min(1).max(7 * 86_400).default(fallback);

export const gatewayConfig = defineConfig(
  'appliance-gateway',
  z.object({
    GATEWAY_PORT: port(8080),
    GATEWAY_HOST: z.string().default('0.0.0.0'),
    /** PEM files: with both, the gateway serves HTTPS itself (TLS 1.2 at least); re-read at every start. */
    GATEWAY_TLS_CERT: z.string().min(1).max(4096).optional(),
    GATEWAY_TLS_KEY: z.string().min(1).max(4096).optional(),
    /**
     * PEM file of the CAs whose client certificates are accepted: with it, every API call must come with a
     * client certificate they signed (mutual TLS); health and metrics stay open to probes without one.
     */
    GATEWAY_TLS_CLIENT_CA: z.string().min(1).max(4096).optional(),
    ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
    OPENECM_BOOTSTRAP_CLIENT_ID: z.string().min(3).optional(),
    OPENECM_BOOTSTRAP_CLIENT_SECRET: z.string().min(16, 'at least 16 characters').optional(),
    /**
     * The proxies in front of the gateway whose `X-Forwarded-For` names the client's address: comma-separated
     * addresses, `address/prefix` ranges or `loopback`, `linklocal`, `uniquelocal`. Unset: the header is ignored
     * and the peer's own address counts, so no client can choose the address it is limited under.
     */
    GATEWAY_TRUSTED_PROXIES: z
      .string()
      .transform((v) => v.split(',').map((e) => e.trim()).filter((e) => e !== ''))
      .refine((entries) => entries.every(isProxyEntry), 'addresses, address/prefix ranges, loopback, linklocal or uniquelocal, comma-separated')
      .default([]),
    /**
     * The appliance's calls (credential lists and injections) one gateway instance works on at once; one more is
     * answered 503 GATEWAY_BUSY with `Retry-After` at once, so that a burst beyond what the broker can take keeps
     * the admitted calls at their pace instead of making every call wait. Scale out rather than raise it far.
     */
    GATEWAY_MAX_IN_FLIGHT: count(128, 100_000),
    /** Sign-ins (`POST /oauth2/token`) per client id, and per source address, in each window; more answer 429. */
    TOKEN_RATE_PER_CLIENT: count(60, 100_000),
    TOKEN_RATE_PER_ADDRESS: count(300, 1_000_000),
    TOKEN_RATE_WINDOW_SECONDS: seconds(60),
    /**
     * Failed sign-ins (unknown client id or wrong secret) of one client id, and from one source address, within
     * TOKEN_LOCKOUT_WINDOW_SECONDS before it is locked for TOKEN_LOCKOUT_SECONDS, its right secret refused too.
     */
    TOKEN_LOCKOUT_FAILURES: count(10, 10_000),
    TOKEN_LOCKOUT_ADDRESS_FAILURES: count(50, 100_000),
    TOKEN_LOCKOUT_WINDOW_SECONDS: seconds(15 * 60),
    TOKEN_LOCKOUT_SECONDS: seconds(15 * 60),
  }),
  ['OPENECM_BOOTSTRAP_CLIENT_SECRET'],
);

/** Comma-separated `keyId:base64key` pairs; the first is the one new entries are sealed with. */
const keyring = z
  .string()
  .regex(/^[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+(,[A-Za-z0-9_-]+:[A-Za-z0-9+/=]+)*$/, 'keyId:base64key[,keyId:base64key...]');

/**
 * The audit trail's chain: `AUDIT_HMAC_KEYS` (`keyId:base64key[,older...]`, the first links new records, all
 * verify) keys the HMAC-SHA256 each record is chained with; unset, records are still written before any answer
 * but left unchained, and a verification fails saying so. The chainer links what was written every
 * AUDIT_CHAIN_INTERVAL_MS.
 */
export const auditConfig = defineConfig(
  'audit',
  z.object({
    AUDIT_HMAC_KEYS: keyring.optional(),
    AUDIT_CHAIN_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  }),
  ['AUDIT_HMAC_KEYS'],
);

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
    /**
     * How long the connections are reused from this process, opened and parsed, at most: a save drops them on
     * every instance at once, so this only bounds an invalidation that was missed; 0 reads them for every call.
     */
    VAULT_CONNECTIONS_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
    /** How long a vault session is reused from this process before token-cache is asked again; 0 asks it every time. */
    VAULT_SESSION_L1_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
    /**
     * How long what a vault lists for an identity, before the endpoint picks from it (Password Safe's managed
     * systems), is reused from this process: a system added at the vault is listed within this; 0 asks every time.
     */
    VAULT_SYSTEMS_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    /** The largest answer a vault may give to one call, in bytes: a larger one is cut off and fails that call (VAULT_ERROR). */
    VAULT_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(4 * 1024 * 1024),
    /**
     * Addresses a vault URL may lead to although they are loopback, link-local or cloud metadata (refused
     * otherwise): comma-separated IPs or CIDR blocks, e.g. `127.0.0.1,10.20.0.0/16`. The broker's own NATS,
     * PostgreSQL and Redis endpoints stay refused whatever this names.
     */
    VAULT_ALLOWED_ADDRESSES: z
      .string()
      .max(4096)
      .default('')
      .transform((v) => v.split(',').map((a) => a.trim()).filter(Boolean))
      .pipe(z.array(z.string().refine((a) => isIpOrCidr(a), 'an IP address or CIDR block such as 10.0.0.0/8'))),
    /**
     * The vault-side sweep never checks in what is younger than this (by the vault's clock): a check-out in
     * flight whose request id is not recorded yet. Longer than a check-out can take (VAULT_HTTP_TIMEOUT_MS
     * times its retries).
     */
    VAULT_SWEEP_GRACE_MS: z.coerce.number().int().min(0).default(120_000),
    /** In API-key mode the sweep lists the requests of every user who checked out on the connection this many days back. */
    VAULT_SWEEP_LOOKBACK_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  }),
  ['VAULT_SETTINGS_KEYS'],
);

export const policyConfig = defineConfig(
  'policy-approval',
  z.object({
    RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
    /**
     * How long a user's memberships and their policies are reused from memory at most (the window is judged at
     * each request): a membership change drops them on every instance at once; 0 reads them for every request.
     */
    ACCESS_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
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
    /**
     * How often the vault-side sweep runs (one run at a time across instances): each vault is asked what
     * OpenECM's identities hold, and what no open lease owns is checked in. 0 turns it off.
     */
    VAULT_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(10 * 60_000),
    /** How long the first waiter for an exclusive credential holds it once its turn comes; then the next waiter's turn. */
    EXCLUSIVE_TURN_SECONDS: z.coerce.number().int().min(5).max(24 * 3600).default(300),
    /** How long a waiter for an exclusive credential waits at most before its place times out. */
    EXCLUSIVE_WAIT_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(120),
  }),
);

/**
 * External jump items. A search's answer is kept per (vault, user, search) in Redis by policy-approval this long;
 * vault-adapters keeps what a Password Safe search is made of in process: a user's requestable systems as long,
 * and the managed systems, platforms and workgroups of each connection for JUMP_ITEMS_INVENTORY_SECONDS (then
 * refreshed in the background). 0 turns the answer cache and the per-user cache off.
 */
export const jumpItemsConfig = defineConfig(
  'jump-items',
  z.object({
    JUMP_ITEMS_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    JUMP_ITEMS_INVENTORY_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  }),
);

/** The console's roles; the contract (`ConsoleRole`) names the same three. */
const CONSOLE_ROLES = ['viewer', 'approver', 'admin'] as const;

/**
 * People signing in to the web console with OpenID Connect (authorization code with PKCE) at the gateway.
 * Without OIDC_ISSUER the console is off: `/console` says sign-in is not configured and nothing else changes.
 * OIDC_ROLE_MAP maps values of the OIDC_ROLE_CLAIM claim (a string or a list of strings in the ID token or the
 * userinfo answer) to roles, `value:role` pairs, comma-separated; a value may be named twice for two roles.
 * An issuer over plain HTTP is accepted on a loopback address only (a development identity provider).
 */
export const consoleConfig = defineConfig(
  'console',
  z
    .object({
      OIDC_ISSUER: z.string().url().optional(),
      OIDC_CLIENT_ID: z.string().min(1).max(256).optional(),
      /** Unset for a public client (PKCE alone); set, the client authenticates with client_secret_basic. */
      OIDC_CLIENT_SECRET: z.string().min(1).max(1024).optional(),
      /** The gateway's callback as registered at the identity provider: `https://<gateway>/console/auth/callback`. */
      OIDC_REDIRECT_URI: z.string().url().optional(),
      /** Where the identity provider sends a person after sign-out: the console's address, unless set. */
      OIDC_POST_LOGOUT_REDIRECT_URI: z.string().url().optional(),
      OIDC_SCOPES: z.string().regex(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, 'scopes separated by single spaces').default('openid profile email'),
      OIDC_ROLE_CLAIM: z.string().min(1).max(256).default('groups'),
      OIDC_ROLE_MAP: z
        .string()
        .default('openecm-viewer:viewer,openecm-approver:approver,openecm-admin:admin')
        .transform((v) => v.split(',').map((e) => e.trim()).filter((e) => e !== ''))
        .refine(
          (entries) => entries.every((e) => e.lastIndexOf(':') > 0 && (CONSOLE_ROLES as readonly string[]).includes(e.slice(e.lastIndexOf(':') + 1))),
          `claimValue:role pairs, comma-separated, each role one of ${CONSOLE_ROLES.join(', ')}`,
        )
        .transform((entries) =>
          entries.map((e) => ({ value: e.slice(0, e.lastIndexOf(':')), role: e.slice(e.lastIndexOf(':') + 1) as (typeof CONSOLE_ROLES)[number] })),
        ),
      /** The session cookie's Secure flag: leave it on unless the console is reached over plain HTTP on a loopback address. */
      CONSOLE_COOKIE_SECURE: bool(true),
      /** A console session ends this long after sign-in, and after CONSOLE_SESSION_IDLE_SECONDS without a request. */
      CONSOLE_SESSION_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(8 * 3600),
      CONSOLE_SESSION_IDLE_SECONDS: z.coerce.number().int().min(60).max(7 * 86_400).default(3600),
      /** The built console (`npm run build` puts it in dist/apps/console, where the gateway finds it unless set). */
      CONSOLE_DIR: z.string().min(1).max(4096).optional(),
    })
    .superRefine((v, ctx) => {
      const problem = (variable: string, message: string) => ctx.addIssue({ code: 'custom', path: [variable], message });
      if (!v.OIDC_ISSUER) return;
      if (!v.OIDC_CLIENT_ID) problem('OIDC_CLIENT_ID', 'required with OIDC_ISSUER');
      if (!v.OIDC_REDIRECT_URI) problem('OIDC_REDIRECT_URI', 'required with OIDC_ISSUER');
      const issuer = new URL(v.OIDC_ISSUER);
      const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
      if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && loopback)) {
        problem('OIDC_ISSUER', 'must be https (plain http only on a loopback address)');
      }
    }),
  ['OIDC_CLIENT_SECRET'],
);
export type ConsoleConfig = z.infer<typeof consoleConfig.schema>;

/**
 * Session reporting: APPLIANCE_SETTINGS_KEYS (`keyId:base64key[,older...]`, the first seals, all open) seals the
 * appliance connection's client secret at rest and yields (HKDF) the key pair its settings are sealed to on the bus.
 * The report poller gives up on an appliance call after APPLIANCE_HTTP_TIMEOUT_MS and reads at most
 * APPLIANCE_MAX_RESPONSE_BYTES of one report.
 */
export const sessionReportingConfig = defineConfig(
  'session-reporting',
  z.object({
    APPLIANCE_SETTINGS_KEYS: keyring,
    APPLIANCE_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(30_000),
    APPLIANCE_MAX_RESPONSE_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(64 * 1024 * 1024),
  }),
  ['APPLIANCE_SETTINGS_KEYS'],
);
