import { accessSync, constants, readFileSync } from 'node:fs';
import { ConfigError, loadConfig, natsConfig } from '@openecm/config';
import {
  credsAuthenticator,
  nkeyAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type ConnectionOptions,
  type TlsOptions,
} from 'nats';
import type { z } from 'zod';
import { qualifiedSubject } from './namespace';

export type NatsSettings = z.infer<typeof natsConfig.schema>;

/**
 * Where the replies to one service arrive. Each service has inbox subjects of its own, so its NATS user may
 * subscribe to those and no other service's: nobody reads the answers another service is given.
 */
export function inboxPrefix(service: string | undefined): string {
  return service ? `_INBOX.${qualifiedSubject(service)}` : '_INBOX';
}

function invalid(variable: string, problem: string): ConfigError {
  return new ConfigError('nats', [{ variable, problem }]);
}

/** Paths are not secrets and are named; what a file holds never is. */
function readable(variable: string, path: string): string {
  try {
    accessSync(path, constants.R_OK);
    return path;
  } catch (error) {
    throw invalid(variable, `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/** An authenticator that cannot sign a nonce now would fail every connection: find out at boot. */
function checked(variable: string, authenticator: Authenticator, problem: string): Authenticator {
  try {
    authenticator('openecm-boot-check');
  } catch {
    throw invalid(variable, problem);
  }
  return authenticator;
}

function authenticatorOf(config: NatsSettings): Authenticator | undefined {
  const encode = (text: string) => new TextEncoder().encode(text.trim());
  if (config.NATS_USER && config.NATS_PASSWORD) return usernamePasswordAuthenticator(config.NATS_USER, config.NATS_PASSWORD);
  if (config.NATS_NKEY_SEED) return nkeyAuthenticator(encode(config.NATS_NKEY_SEED));
  if (config.NATS_NKEY_SEED_FILE) {
    const path = readable('NATS_NKEY_SEED_FILE', config.NATS_NKEY_SEED_FILE);
    // read again on every (re)connect, so a rotated seed is taken up without a restart
    return checked('NATS_NKEY_SEED_FILE', nkeyAuthenticator(() => encode(readFileSync(path, 'utf8'))), `${path} does not hold a user NKey seed`);
  }
  if (config.NATS_CREDS_FILE) {
    const path = readable('NATS_CREDS_FILE', config.NATS_CREDS_FILE);
    return checked('NATS_CREDS_FILE', credsAuthenticator(() => readFileSync(path)), `${path} is not a NATS .creds file (a user JWT and its NKey seed)`);
  }
  return undefined;
}

/** Any of the three makes TLS required: a server that does not offer it is refused. */
function tlsOf(config: NatsSettings): TlsOptions | undefined {
  const tls: TlsOptions = {};
  if (config.NATS_TLS_CA) tls.caFile = readable('NATS_TLS_CA', config.NATS_TLS_CA);
  if (config.NATS_TLS_CERT) tls.certFile = readable('NATS_TLS_CERT', config.NATS_TLS_CERT);
  if (config.NATS_TLS_KEY) tls.keyFile = readable('NATS_TLS_KEY', config.NATS_TLS_KEY);
  return Object.keys(tls).length > 0 ? tls : undefined;
}

/**
 * The one place a NATS connection's options come from (Nest's transport, the Bus client, the raw connection):
 * the servers, the service's name and inbox, its credentials and TLS. Files are checked here, at boot; a
 * problem is a ConfigError naming the variable.
 */
export function natsConnectionOptions(service?: string, config: NatsSettings = loadConfig(natsConfig)): ConnectionOptions {
  const authenticator = authenticatorOf(config);
  const tls = tlsOf(config);
  return {
    servers: config.NATS_URL,
    name: service ?? 'openecm',
    inboxPrefix: inboxPrefix(service),
    // no stack captured for every request and publish in case it fails: a broker error names its subject anyway
    noAsyncTraces: true,
    ...(authenticator ? { authenticator } : {}),
    ...(tls ? { tls } : {}),
  };
}
