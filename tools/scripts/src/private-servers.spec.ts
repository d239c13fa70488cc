import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from '@openecm/testing';
import { DemoInfraError, DemoInfrastructure } from './demo-infra';
import { findPostgresBin, findProgram, missingPrograms, startRedis } from './private-servers';

describe('private servers: finding their programs, starting and refusing', () => {
  let root: string;
  const program = (dir: string, name: string, mode = 0o755) => {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, dir, name), '#!/bin/sh\n');
    chmodSync(join(root, dir, name), mode);
  };
  const path = (...dirs: string[]) => dirs.map((d) => join(root, d)).join(delimiter);
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'openecm-bin-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('takes the first executable on PATH and skips one that is not executable', () => {
    program('a', 'nats-server', 0o644);
    program('b', 'nats-server');
    program('c', 'nats-server');
    expect(findProgram('nats-server', path('a', 'b', 'c'))).toBe(join(root, 'b', 'nats-server'));
    expect(missingPrograms('nats', path('a', 'b'))).toEqual([]);
    expect(missingPrograms('redis', path('a', 'b'))).toEqual(['redis-server']);
  });

  it('finds initdb and pg_ctl together on PATH before /usr/lib/postgresql', () => {
    for (const p of ['initdb', 'pg_ctl']) {
      program('usr/bin', p);
      program('lib/15/bin', p);
    }
    expect(findPostgresBin(path('usr/bin'), join(root, 'lib'))).toBe(join(root, 'usr/bin'));
  });

  it('else takes the newest major version under /usr/lib/postgresql', () => {
    for (const v of ['9.6', '13', '16']) for (const p of ['initdb', 'pg_ctl']) program(`lib/${v}/bin`, p);
    program('usr/bin', 'pg_ctl');
    expect(findPostgresBin(path('usr/bin'), join(root, 'lib'))).toBe(join(root, 'lib/16/bin'));
    expect(missingPrograms('postgres', path('usr/bin'), join(root, 'lib'))).toEqual([]);
  });

  it('names what is missing: one of the two, or both when they are never side by side', () => {
    program('usr/bin', 'pg_ctl');
    expect(missingPrograms('postgres', path('usr/bin'), join(root, 'lib'))).toEqual(['initdb']);
    program('lib/15/bin', 'initdb');
    expect(missingPrograms('postgres', path('usr/bin'), join(root, 'lib'))).toEqual(['initdb', 'pg_ctl']);
    expect(missingPrograms('postgres', '', join(root, 'nowhere'))).toEqual(['initdb', 'pg_ctl']);
  });

  it('starts nothing when a program is missing: one install line per server, and no data folder', async () => {
    const dir = join(root, 'demo');
    const say = jest.fn();
    const infra = new DemoInfrastructure({ env: { PATH: path('empty') }, forcePrivate: true, dir, say, postgresLibRoot: join(root, 'lib') });
    const error = (await infra.start().catch((e: unknown) => e)) as DemoInfraError;
    expect(error).toBeInstanceOf(DemoInfraError);
    expect(error.lines).toHaveLength(3);
    expect(error.lines[0]).toMatch(/^NATS: nats-server not found on PATH; install it with apt-get install nats-server/);
    expect(error.lines[1]).toMatch(/^Redis: redis-server not found on PATH; install it with apt-get install redis-server/);
    expect(error.lines[2]).toMatch(/^PostgreSQL: initdb and pg_ctl not found on PATH or in \/usr\/lib\/postgresql\/\*\/bin; install it with apt-get install postgresql/);
    expect(existsSync(dir)).toBe(false);
    await infra.stop();
    expect(say).not.toHaveBeenCalled();
  });

  it('refuses explicit URLs that do not answer before starting anything', async () => {
    const port = await freePort();
    const env = { PATH: path('empty'), NATS_URL: `nats://127.0.0.1:${port}`, REDIS_URL: `redis://127.0.0.1:${port}`, DATABASE_URL: `postgres://u:pw@127.0.0.1:${port}/db` };
    const infra = new DemoInfrastructure({ env, forcePrivate: false, dir: join(root, 'demo'), say: jest.fn() });
    const error = (await infra.start().catch((e: unknown) => e)) as DemoInfraError;
    expect(error.lines.map((l) => l.split(':')[0])).toEqual(['NATS', 'Redis', 'PostgreSQL']);
    for (const line of error.lines) expect(line).toMatch(/does not answer \(.+\); start it, or unset [A-Z_]+ \(or pass --private\)/);
  });

  it('stops a server an earlier demo left running in the folder, and reports a server that dies at start with its log', async () => {
    const dir = join(root, 'redis');
    mkdirSync(dir, { recursive: true });
    const leftover = spawn('sleep', ['60'], { cwd: dir, stdio: 'ignore' });
    const leftoverExit = new Promise((r) => leftover.once('exit', (_code, signal) => r(signal)));
    writeFileSync(join(dir, 'redis.pid'), String(leftover.pid));
    writeFileSync(join(root, 'dies'), '#!/bin/sh\necho "cannot bind: port taken"\nexit 3\n');
    chmodSync(join(root, 'dies'), 0o755);
    const say = jest.fn();
    const error = (await startRedis(join(root, 'dies'), dir, await freePort(), say).catch((e: unknown) => e)) as Error;
    expect(await leftoverExit).toBe('SIGTERM');
    expect(say).toHaveBeenCalledWith(`stopping the private Redis (pid ${leftover.pid}) an earlier demo left running in ${dir}`);
    expect(error.message).toMatch(/dies exited \(code 3\); its log \(.*redis\.log\):\ncannot bind: port taken/);
    expect(existsSync(join(dir, 'redis.pid'))).toBe(false);
  });
});
