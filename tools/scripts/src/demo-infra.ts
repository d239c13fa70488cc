import { chmodSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { freePort } from '@openecm/testing';
import { SERVERS, installHint, planInfrastructure, printableUrl, type Decision, type ServerKind } from './infra-plan';
import { probe } from './probes';
import {
  DemoInfraError,
  POSTGRES_LIB_ROOT,
  findPostgresBin,
  findProgram,
  missingPrograms,
  postgresRunner,
  startNats,
  startPostgres,
  startRedis,
  type PrivateServer,
} from './private-servers';

export { DemoInfraError } from './private-servers';

type Env = Record<string, string | undefined>;

export interface InfrastructureUrls {
  natsUrl: string;
  redisUrl: string;
  databaseUrl: string;
}

export interface DemoInfrastructureOptions {
  env: Env;
  /** `--private`: start all three, whatever answers. */
  forcePrivate: boolean;
  /** Where the private servers keep their data (`.openecm/demo`, or OPENECM_DEMO_DIR). */
  dir: string;
  say: (line: string) => void;
  postgresLibRoot?: string;
  /**
   * Ports the demo's own servers are to listen on (the gateway, the simulators): a port that is free now may be one
   * of them, told to the demo but not yet bound, so a private server never takes one.
   */
  reservedPorts?: number[];
}

/** A free port that is none of `reserved`. */
export async function freePortBesides(reserved: number[], pick: () => Promise<number> = freePort): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = await pick();
    if (!reserved.includes(port)) return port;
  }
  throw new Error(`no free port besides ${reserved.join(', ')} after 20 tries`);
}

/**
 * NATS, Redis and PostgreSQL for the demo: the configured ones that answer, private ones (in `dir`) for the
 * others. `stop()` stops only what it started, and may be called at any time, even while starting.
 */
export class DemoInfrastructure {
  private readonly started: PrivateServer[] = [];
  private starting?: Promise<unknown>;

  constructor(private readonly options: DemoInfrastructureOptions) {}

  async start(): Promise<InfrastructureUrls> {
    const run = this.run();
    this.starting = run.catch(() => undefined);
    return run;
  }

  private async run(): Promise<InfrastructureUrls> {
    const { env, forcePrivate, say } = this.options;
    const decisions = await planInfrastructure(env, forcePrivate, probe);
    const pathEnv = env['PATH'] ?? '';
    const libRoot = this.options.postgresLibRoot ?? POSTGRES_LIB_ROOT;
    const problems = decisions.flatMap((d) => {
      if (d.use === 'error') return [d.message];
      if (d.use !== 'private') return [];
      const missing = missingPrograms(d.kind, pathEnv, libRoot);
      return missing.length ? [installHint(d.kind, missing)] : [];
    });
    if (problems.length) throw new DemoInfraError(problems);

    const urls = {} as Record<ServerKind, string>;
    for (const d of decisions) {
      if (d.use === 'configured') {
        urls[d.kind] = d.url;
        say(`${SERVERS[d.kind].label}: using ${printableUrl(d.url)} (it answers)`);
      }
    }
    const privates = decisions.filter((d): d is Extract<Decision, { use: 'private' }> => d.use === 'private');
    if (privates.length) mkdirSync(this.options.dir, { recursive: true });
    // Every start is awaited, failed or not, so stop() finds each server that did come up.
    const results = await Promise.allSettled(
      privates.map(async (d) => {
        const server = await this.startPrivate(d.kind, pathEnv, libRoot);
        this.started.push(server);
        return server;
      }),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    results.forEach((result, i) => {
      const server = (result as PromiseFulfilledResult<PrivateServer>).value;
      urls[server.kind] = server.url;
      say(`${SERVERS[server.kind].label}: started a private ${server.program} on ${server.url} (${privates[i]?.why}); data in ${this.shown(server.dir)}`);
    });
    return { natsUrl: urls.nats, redisUrl: urls.redis, databaseUrl: urls.postgres };
  }

  private async startPrivate(kind: ServerKind, pathEnv: string, libRoot: string, reusePort?: number): Promise<PrivateServer> {
    const dir = join(this.options.dir, kind);
    const port = reusePort ?? (await freePortBesides(this.options.reservedPorts ?? []));
    if (kind === 'nats') return startNats(findProgram('nats-server', pathEnv) as string, dir, port, this.options.say);
    if (kind === 'redis') return startRedis(findProgram('redis-server', pathEnv) as string, dir, port, this.options.say);
    mkdirSync(dir, { recursive: true });
    // As root the user "postgres" runs PostgreSQL: it must be able to pass through the demo folder.
    if (process.getuid?.() === 0) chmodSync(this.options.dir, 0o755);
    const runner = await postgresRunner(dir, pathEnv);
    return startPostgres(findPostgresBin(pathEnv, libRoot) as string, dir, port, runner, this.options.say);
  }

  /**
   * Stops one private server and answers how to start it again on the same port with the same data: an outage
   * the services must ride out (the fault suite stops PostgreSQL and Redis under a running system).
   */
  async interrupt(kind: ServerKind): Promise<() => Promise<void>> {
    await this.starting;
    const index = this.started.findIndex((s) => s.kind === kind);
    const server = this.started[index];
    if (!server) throw new Error(`no private ${SERVERS[kind].label} was started`);
    await server.stop();
    const port = Number(new URL(server.url).port);
    return async () => {
      this.started[index] = await this.startPrivate(kind, this.options.env['PATH'] ?? '', this.options.postgresLibRoot ?? POSTGRES_LIB_ROOT, port);
    };
  }

  /** The private servers this demo started. */
  get servers(): readonly PrivateServer[] {
    return this.started;
  }

  /** Stops the private servers (after any start still under way); the configured ones are left alone. */
  async stop(): Promise<void> {
    await this.starting;
    const servers = this.started.splice(0);
    if (!servers.length) return;
    const results = await Promise.allSettled(servers.map((s) => s.stop()));
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${SERVERS[servers[i]?.kind ?? 'nats'].label}: ${(r.reason as Error).message}`] : []));
    // in the fixed order of SERVERS: the servers start in parallel, so `started` holds them as they came up
    const order = Object.keys(SERVERS);
    const labels = [...servers].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind)).map((s) => SERVERS[s.kind].label);
    this.options.say(`stopped the private ${labels.join(', ')}`);
    if (failed.length) throw new Error(failed.join('\n'));
  }

  private shown(dir: string): string {
    const rel = relative(process.cwd(), dir);
    return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : dir;
  }
}
