/**
 * Which NATS, Redis and PostgreSQL the demo uses: the configured (or default local) one when it answers,
 * otherwise a private one it starts itself. Pure decisions, so they are tested without any server.
 */
export type ServerKind = 'nats' | 'redis' | 'postgres';
export const SERVER_KINDS: readonly ServerKind[] = ['nats', 'redis', 'postgres'];

export interface ServerSpec {
  label: string;
  variable: 'NATS_URL' | 'REDIS_URL' | 'DATABASE_URL';
  defaultUrl: string;
}

export const SERVERS: Record<ServerKind, ServerSpec> = {
  nats: { label: 'NATS', variable: 'NATS_URL', defaultUrl: 'nats://127.0.0.1:4222' },
  redis: { label: 'Redis', variable: 'REDIS_URL', defaultUrl: 'redis://127.0.0.1:6379' },
  postgres: { label: 'PostgreSQL', variable: 'DATABASE_URL', defaultUrl: 'postgres://postgres@127.0.0.1:5432/openecm_demo' },
};

/** The database the demo's apps use on a private PostgreSQL (they create it on first start). */
export const DEMO_DATABASE = 'openecm_demo';

/** What a protocol check found: the server answered, or why not. */
export type Probe = { answers: true } | { answers: false; reason: string };

export type Decision =
  | { kind: ServerKind; use: 'configured'; url: string }
  | { kind: ServerKind; use: 'private'; why: string }
  | { kind: ServerKind; use: 'error'; message: string };

type Env = Record<string, string | undefined>;

export function configuredUrl(kind: ServerKind, env: Env): { url: string; explicit: boolean } {
  const value = env[SERVERS[kind].variable];
  return value ? { url: value, explicit: true } : { url: SERVERS[kind].defaultUrl, explicit: false };
}

/** A URL as it may be printed: any password replaced. */
export function printableUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

/**
 * A server that answers is used. One that does not is replaced by a private one, unless the user named it
 * (an explicit URL that is down is the user's mistake to see, not to paper over).
 */
export function decide(kind: ServerKind, input: { url: string; explicit: boolean; probe: Probe }): Decision {
  if (input.probe.answers) return { kind, use: 'configured', url: input.url };
  const { label, variable } = SERVERS[kind];
  if (input.explicit) {
    return {
      kind,
      use: 'error',
      message: `${label}: ${variable}=${printableUrl(input.url)} does not answer (${input.probe.reason}); start it, or unset ${variable} (or pass --private) to let the demo start a private ${label}`,
    };
  }
  return { kind, use: 'private', why: `none answers on ${printableUrl(input.url)} (${input.probe.reason})` };
}

/**
 * Every server's decision. With `forcePrivate` (`--private`) all three are private and nothing is asked;
 * otherwise each configured server is checked, all at once.
 */
export async function planInfrastructure(env: Env, forcePrivate: boolean, probe: (kind: ServerKind, url: string) => Promise<Probe>): Promise<Decision[]> {
  return Promise.all(
    SERVER_KINDS.map(async (kind): Promise<Decision> => {
      if (forcePrivate) return { kind, use: 'private', why: '--private' };
      const configured = configuredUrl(kind, env);
      return decide(kind, { ...configured, probe: await probe(kind, configured.url) });
    }),
  );
}

/** The programs each private server needs. */
export const PROGRAMS: Record<ServerKind, string[]> = {
  nats: ['nats-server'],
  redis: ['redis-server'],
  postgres: ['initdb', 'pg_ctl'],
};

const INSTALL: Record<ServerKind, string> = {
  nats: 'apt-get install nats-server (or brew install nats-server, or a release from https://github.com/nats-io/nats-server/releases)',
  redis: 'apt-get install redis-server (or brew install redis)',
  postgres: 'apt-get install postgresql (or brew install postgresql@16)',
};

/** One line: which program is missing and how to install it. */
export function installHint(kind: ServerKind, missing: string[]): string {
  const where = kind === 'postgres' ? 'on PATH or in /usr/lib/postgresql/*/bin' : 'on PATH';
  return `${SERVERS[kind].label}: ${missing.join(' and ')} not found ${where}; install it with ${INSTALL[kind]}, or set ${SERVERS[kind].variable} to a running server`;
}
