import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { freePort } from '@openecm/testing';

/**
 * `npm run demo` twice in a row, as a new user on a machine without NATS, Redis or PostgreSQL would run it
 * (`--private`): the second run reuses the keys and the data of the first, and each stops what it started.
 */
const root = resolve(__dirname, '..');
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const demoDir = join(root, 'tmp', `demo-${namespace}`);
const children: ChildProcess[] = [];

interface DemoRun {
  code: number | null;
  output: string;
  startedAt: number;
}

function runDemo(env: Record<string, string>): Promise<DemoRun> {
  const startedAt = Date.now();
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'tools/scripts/demo.ts', '--exit', '--private'], {
    cwd: root,
    env: { ...process.env, ...env, OPENECM_DEMO_DIR: demoDir, OPENECM_NAMESPACE: namespace, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a test that fails midway still takes down every app it started.
    detached: true,
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  return new Promise((r) => child.once('exit', (code) => r({ code, output, startedAt })));
}

/** Every process working in, or naming, the demo folder (the private servers and their children). */
function processesInDemoDir(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        if (readlinkSync(`/proc/${pid}/cwd`).startsWith(demoDir)) return true;
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(demoDir);
      } catch {
        return false; // gone meanwhile, or a zombie
      }
    })
    .map(Number);
}

function refuses(port: number): Promise<boolean> {
  return new Promise((r) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      r(false);
    });
    socket.once('error', () => r(true));
  });
}

/** The ports of the private servers a run says it started, in the order NATS, Redis, PostgreSQL. */
function privatePorts(output: string): number[] {
  return ['NATS', 'Redis', 'PostgreSQL'].map((label) => {
    const match = new RegExp(`^${label}: started a private .* on \\w+://[^ ]*127\\.0\\.0\\.1:(\\d+)`, 'm').exec(output);
    if (!match) throw new Error(`no private ${label} in:\n${output}`);
    return Number(match[1]);
  });
}

async function expectAllStopped(output: string): Promise<void> {
  expect(output).toMatch(/^stopped the private NATS, Redis, PostgreSQL$/m);
  for (const port of privatePorts(output)) expect(await refuses(port)).toBe(true);
  expect(processesInDemoDir()).toEqual([]);
}

describe('npm run demo, twice in a row', () => {
  let env: Record<string, string>;
  let first: DemoRun;
  let keysAfterFirst: string;

  beforeAll(async () => {
    rmSync(demoDir, { recursive: true, force: true });
    env = { GATEWAY_PORT: String(await freePort()), PS_SIM_PORT: String(await freePort()), SS_SIM_PORT: String(await freePort()), VAULT_SIM_PORT: String(await freePort()) };
  });

  afterAll(() => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    }
    for (const pid of processesInDemoDir()) process.kill(pid, 'SIGKILL');
    rmSync(demoDir, { recursive: true, force: true });
  });

  it('first run: starts private servers, generates the keys, connects the three vaults, injects from each, rotates, and stops them all', async () => {
    first = await runDemo(env);
    expect(first.output).toMatch(/done: a credential of each vault was injected, released and checked in \(rotated where the vault rotates\)\./);
    expect(first.output).toMatch(/2\. inject {3}CORP\\rdp-admins: lease/);
    expect(first.output).toMatch(/2\. inject {3}srv-app01 svc-deploy \(check-out\): lease/);
    expect(first.code).toBe(0);
    expect(first.output).toMatch(/^keys: generated into .*keys\.json$/m);
    expect(first.output).toMatch(/^NATS: started a private nats-server on nats:\/\/127\.0\.0\.1:\d+ \(--private\); data in .*\/nats$/m);
    expect(first.output).toMatch(/^Redis: started a private redis-server on redis:\/\/127\.0\.0\.1:\d+ \(--private\); data in .*\/redis$/m);
    expect(first.output).toMatch(/^PostgreSQL: started a private PostgreSQL .* on postgres:\/\/postgres@127\.0\.0\.1:\d+\/openecm_demo \(--private\); data in .*\/postgres$/m);
    expect(first.output).toMatch(/vault "password-safe" connected/);
    expect(first.output).toMatch(/vault "secret-server" connected/);
    expect(first.output).toMatch(/vault "hashicorp-vault" connected/);

    const keysFile = join(demoDir, 'keys.json');
    expect(statSync(keysFile).mode & 0o777).toBe(0o600);
    keysAfterFirst = readFileSync(keysFile, 'utf8');
    const keys = JSON.parse(keysAfterFirst) as { tokenCacheKeys: string; vaultSettingsKeys: string };
    for (const ring of [keys.tokenCacheKeys, keys.vaultSettingsKeys]) expect(first.output).not.toContain(ring.split(':')[1]);
    expect(first.output).not.toContain('demo-appliance-secret-change-me');

    await expectAllStopped(first.output);
  }, 90_000);

  it('second run: reuses the keys and the data, finds the vaults of the first run open, rotates again', async () => {
    expect(first?.code).toBe(0);
    const second = await runDemo(env);
    expect(second.output).toMatch(/done: a credential of each vault was injected, released and checked in \(rotated where the vault rotates\)\./);
    expect(second.code).toBe(0);
    expect(second.output).toMatch(/^keys: reusing .*keys\.json$/m);
    expect(readFileSync(join(demoDir, 'keys.json'), 'utf8')).toBe(keysAfterFirst);

    // Connected by the first run, still in its PostgreSQL data, and its sealed settings open with the kept keys.
    for (const vault of ['password-safe', 'secret-server', 'hashicorp-vault']) {
      const found = new RegExp(`vault "${vault}" from an earlier run \\(connected (\\S+)\\): its settings open with the kept keys`).exec(second.output);
      expect(found).not.toBeNull();
      const connectedAt = Date.parse(found?.[1] ?? '');
      expect(connectedAt).toBeGreaterThanOrEqual(first.startedAt);
      expect(connectedAt).toBeLessThan(second.startedAt);
    }
    expect(second.output).toMatch(/the three vaults and the requesters group kept from the earlier run/);
    expect(second.output).not.toMatch(/vault "password-safe" connected/);
    // The list used those settings: both vaults answered.
    expect(second.output).toMatch(/- srv-app01\\Administrator \(machine, vault password-safe\)/);
    expect(second.output).toMatch(/- srv-app01 Administrator \(machine, vault secret-server\)/);
    expect(second.output).toMatch(/- CORP\\rdp-admins \(domain, vault hashicorp-vault\)/);
    expect(second.output).toMatch(/4\. rotate {3}lease rotated/);

    await expectAllStopped(second.output);
  }, 90_000);
});
