import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { waitFor } from '@openecm/testing';
import { DEMO_DATABASE, PROGRAMS, SERVERS, type ServerKind } from './infra-plan';
import { probe } from './probes';

/** A server the demo started and stops again. */
export interface PrivateServer {
  kind: ServerKind;
  url: string;
  /** Where its data and log live. */
  dir: string;
  program: string;
  stop(): Promise<void>;
}

/** The setup is wrong in a way the user fixes (a missing program or user, a folder out of reach). */
export class DemoInfraError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

export const POSTGRES_LIB_ROOT = '/usr/lib/postgresql';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findProgram(name: string, pathEnv: string): string | undefined {
  for (const dir of pathEnv.split(delimiter).filter(Boolean)) {
    if (executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function postgresDirs(pathEnv: string, libRoot: string): string[] {
  let versions: string[] = [];
  try {
    versions = readdirSync(libRoot).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
  } catch {
    // no packaged PostgreSQL
  }
  return [...pathEnv.split(delimiter).filter(Boolean), ...versions.map((v) => join(libRoot, v, 'bin'))];
}

/**
 * The folder holding both initdb and pg_ctl: the first on PATH, else the newest major version under
 * /usr/lib/postgresql (Debian and Ubuntu keep them off PATH).
 */
export function findPostgresBin(pathEnv: string, libRoot = POSTGRES_LIB_ROOT): string | undefined {
  return postgresDirs(pathEnv, libRoot).find((dir) => PROGRAMS.postgres.every((p) => executable(join(dir, p))));
}

/** The programs a private server of this kind needs that cannot be found (together, for PostgreSQL). */
export function missingPrograms(kind: ServerKind, pathEnv: string, libRoot = POSTGRES_LIB_ROOT): string[] {
  if (kind !== 'postgres') return PROGRAMS[kind].filter((p) => !findProgram(p, pathEnv));
  if (findPostgresBin(pathEnv, libRoot)) return [];
  const dirs = postgresDirs(pathEnv, libRoot);
  const missing = PROGRAMS.postgres.filter((p) => !dirs.some((dir) => executable(join(dir, p))));
  return missing.length ? missing : PROGRAMS.postgres;
}

interface Ran {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], options: { cwd?: string; detached?: boolean } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

function tail(text: string, lines = 15): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A process still running in `dir` (its working folder, where the demo starts it; Redis rewrites its command
 * line) where /proc tells; any live pid elsewhere.
 */
function runningIn(pid: number, dir: string): boolean {
  if (!alive(pid)) return false;
  try {
    return realpathSync(`/proc/${pid}/cwd`) === realpathSync(dir);
  } catch {
    return !existsSync('/proc');
  }
}

async function waitExit(child: ChildProcess, graceMs = 10_000): Promise<void> {
  // No pid: it never started, and no exit will come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts `program` in its own process group (a Ctrl-C reaches the demo, which stops the apps before the
 * servers they use), its output in `<dir>/<kind>.log`, and waits until the protocol check answers. A
 * server an earlier demo left running in the same folder is stopped first.
 */
async function startDaemon(kind: ServerKind, program: string, args: string[], dir: string, url: string, say: (line: string) => void): Promise<PrivateServer> {
  mkdirSync(dir, { recursive: true });
  const pidFile = join(dir, `${kind}.pid`);
  const leftover = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : NaN;
  if (leftover > 0 && runningIn(leftover, dir)) {
    say(`stopping the private ${SERVERS[kind].label} (pid ${leftover}) an earlier demo left running in ${dir}`);
    process.kill(leftover, 'SIGTERM');
    await waitFor(() => !alive(leftover), { timeoutMs: 15_000, what: `pid ${leftover} to exit` });
  }
  const logFile = join(dir, `${kind}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(program, args, { cwd: dir, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: Error | undefined;
  child.once('error', (error) => (exited ??= error));
  child.once('exit', (code, signal) => (exited ??= new Error(`${program} exited (${signal ?? `code ${code}`})`)));
  if (child.pid) writeFileSync(pidFile, String(child.pid));
  const stop = async () => {
    await waitExit(child);
    rmSync(pidFile, { force: true });
  };
  try {
    await waitFor(async () => exited ?? ((await probe(kind, url)).answers || undefined), { timeoutMs: 20_000, what: `${program} on ${url}` });
    if (exited) throw exited;
  } catch (error) {
    await stop();
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    throw new Error(`${(error as Error).message}; its log (${logFile}):\n${tail(log)}`);
  }
  return { kind, url, dir, program: basename(program), stop };
}

export function startNats(program: string, dir: string, port: number, say: (line: string) => void): Promise<PrivateServer> {
  const store = join(dir, 'jetstream');
  mkdirSync(store, { recursive: true });
  return startDaemon('nats', program, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], dir, `nats://127.0.0.1:${port}`, say);
}

export function startRedis(program: string, dir: string, port: number, say: (line: string) => void): Promise<PrivateServer> {
  return startDaemon(
    'redis',
    program,
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
    dir,
    `redis://127.0.0.1:${port}`,
    say,
  );
}

/** How PostgreSQL's programs are run: as this user, or (it refuses root) as the `postgres` user. */
export interface PostgresRunner {
  command(program: string, args: string[]): [string, string[]];
}

function postgresUserExists(): Promise<boolean> {
  return run('id', ['-u', 'postgres']).then(
    (r) => r.code === 0,
    () => false,
  );
}

/**
 * initdb and postgres refuse to run as root: as root they run through `runuser -u postgres`, on a data folder
 * that user owns. Says what to do when that cannot work.
 */
export async function postgresRunner(dir: string, pathEnv: string): Promise<PostgresRunner> {
  if (process.getuid?.() !== 0) return { command: (program, args) => [program, args] };
  const runuser = findProgram('runuser', pathEnv);
  const asRoot = 'PostgreSQL refuses to run as root';
  if (!runuser) throw new DemoInfraError([`${asRoot} and runuser (util-linux) is not on PATH to run it as the user "postgres": run the demo as another user, or set DATABASE_URL to a running PostgreSQL`]);
  if (!(await postgresUserExists())) {
    throw new DemoInfraError([
      `${asRoot} and there is no user "postgres" to run it as: create one (useradd --system --home-dir /var/lib/postgresql postgres), run the demo as another user, or set DATABASE_URL to a running PostgreSQL`,
    ]);
  }
  const chown = await run('chown', ['-R', 'postgres:', dir]);
  if (chown.code !== 0) throw new DemoInfraError([`PostgreSQL: could not give ${dir} to the user "postgres": ${chown.output.trim()}`]);
  const reach = await run(runuser, ['-u', 'postgres', '--', 'test', '-w', dir], { cwd: '/' });
  if (reach.code !== 0) {
    throw new DemoInfraError([
      `PostgreSQL: the user "postgres" cannot reach ${dir} (a folder above it is closed to other users): set OPENECM_DEMO_DIR to a folder it can reach (e.g. /var/tmp/openecm-demo), or run the demo as another user`,
    ]);
  }
  return { command: (program, args) => [runuser, ['-u', 'postgres', '--', program, ...args]] };
}

/** Unix socket paths are limited to about 100 bytes; a deeper folder gets TCP only. */
const MAX_SOCKET_DIR = 90;

/**
 * A private PostgreSQL on `port` whose data lives in `<dir>/data`, created (trust authentication, user
 * postgres) on the first run and kept after. A server an earlier demo left running on that data is stopped.
 */
export async function startPostgres(binDir: string, dir: string, port: number, runner: PostgresRunner, say: (line: string) => void): Promise<PrivateServer> {
  const data = join(dir, 'data');
  const pgCtl = join(binDir, 'pg_ctl');
  const exec = (program: string, args: string[], detached = false) => {
    const [command, argv] = runner.command(program, args);
    return run(command, argv, { cwd: dir, detached });
  };
  if (!existsSync(join(data, 'PG_VERSION'))) {
    rmSync(data, { recursive: true, force: true });
    const init = await exec(join(binDir, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    if (init.code !== 0) throw new Error(`initdb failed (code ${init.code}):\n${tail(init.output)}`);
  }
  if ((await exec(pgCtl, ['-D', data, 'status'])).code === 0) {
    say(`stopping the private PostgreSQL an earlier demo left running on ${data}`);
    await exec(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
  }
  const logFile = join(dir, 'postgres.log');
  const sockets = dir.length <= MAX_SOCKET_DIR ? `-k "${dir}"` : `-c unix_socket_directories=''`;
  const options = `-p ${port} ${sockets} -c listen_addresses=127.0.0.1`;
  // Its own session: a Ctrl-C reaches the demo, which stops the apps before their database.
  const started = await exec(pgCtl, ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', options, 'start'], true);
  if (started.code !== 0) {
    const log = existsSync(logFile) ? readFileSync(logFile, 'utf8') : '';
    throw new Error(`pg_ctl start failed (code ${started.code}):\n${tail(started.output)}\n${tail(log)}`);
  }
  const stop = async () => {
    if ((await exec(pgCtl, ['-D', data, 'status'])).code !== 0) return;
    const stopped = await exec(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
    if (stopped.code !== 0) throw new Error(`pg_ctl stop failed: ${tail(stopped.output)}`);
  };
  return { kind: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/${DEMO_DATABASE}`, dir, program: `PostgreSQL (${binDir})`, stop };
}
