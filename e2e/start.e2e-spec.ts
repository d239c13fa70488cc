import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApplianceClient, seedDemo } from '@openecm/appliance-sim';
import { NATS_URL, REDIS_URL, createTestDatabase, deleteNamespaceStreams, freePort, testKey, waitFor, watchGateway } from '@openecm/testing';
import { createPasswordSafeSim, type PasswordSafeSim } from '../tools/password-safe-sim/src/sim';

/**
 * `npm start` as an operator uses it: the compiled launcher, a `.env` file, the five services and nothing
 * else; a refusal naming every bad setting; SIGTERM while a request is in flight.
 */
const root = resolve(__dirname, '..');
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const work = join(root, 'tmp', `start-${namespace}`);
const launcherEntry = join(work, 'dist', 'tools', 'launcher', 'src', 'main.js');

interface Run {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

function runLauncher(dir: string, env: Record<string, string> = {}): Run {
  // Only what a shell would pass on: the settings come from the .env file in `dir`.
  const child = spawn(process.execPath, [launcherEntry], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a test that fails midway can still take down every service it started.
    detached: true,
  });
  let text = '';
  child.stdout?.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (text += c.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => text, exit };
}

function writeEnv(dir: string, lines: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.env'), Object.entries(lines).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
}

async function refused(url: string): Promise<boolean> {
  return fetch(url).then(
    () => false,
    () => true,
  );
}

describe('npm start', () => {
  beforeAll(() => {
    const build = spawnSync(process.execPath, ['tools/scripts/build.mjs', '--out-dir', join(work, 'dist')], { cwd: root, encoding: 'utf8' });
    expect(build.status).toBe(0);
  }, 60_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('refuses to start, naming every missing or malformed setting and never its value', async () => {
    const dir = join(work, 'bad');
    const gatewayPort = await freePort();
    const shortKey = Buffer.from('sixteen-bytes!!!').toString('base64');
    writeEnv(dir, { TOKEN_CACHE_KEYS: `k1:${shortKey}`, GATEWAY_PORT: String(gatewayPort), DATABASE_URL: 'not a url' });
    const run = runLauncher(dir);
    expect(await run.exit).toBe(2);
    const out = run.output();
    expect(out).toMatch(/VAULT_SETTINGS_KEYS: required, not set/);
    expect(out).toMatch(/TOKEN_CACHE_KEYS: malformed: key "k1" must be 32 bytes/);
    expect(out).toMatch(/DATABASE_URL: malformed/);
    expect(out).not.toContain(shortKey);
    expect(out).not.toMatch(/ready/);
    expect(await refused(`http://127.0.0.1:${gatewayPort}/health/live`)).toBe(true);
  });

  describe('with a complete .env', () => {
    let sim: PasswordSafeSim;
    let simUrl: string;
    let db: { url: string; drop: () => Promise<void> };
    let run: Run;
    let gatewayUrl: string;
    const bootstrap = { clientId: 'start-admin', clientSecret: 'start-admin-secret-0123456789' };

    beforeAll(async () => {
      sim = createPasswordSafeSim({ idleTimeoutMs: 60_000 });
      simUrl = await sim.listen(0);
      db = await createTestDatabase();
      const gatewayPort = await freePort();
      gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
      watchGateway(gatewayUrl);
      const dir = join(work, 'good');
      writeEnv(dir, {
        OPENECM_NAMESPACE: namespace,
        NATS_URL,
        REDIS_URL,
        DATABASE_URL: db.url,
        TOKEN_CACHE_KEYS: `k1:${testKey()}`,
        VAULT_SETTINGS_KEYS: `v1:${testKey()}`,
        // the simulator of this test listens on loopback
        VAULT_ALLOWED_ADDRESSES: '127.0.0.1',
        AUDIT_HMAC_KEYS: `a1:${testKey()}`,
        APPLIANCE_SETTINGS_KEYS: `r1:${testKey()}`,
        GATEWAY_PORT: String(gatewayPort),
        GATEWAY_HOST: '127.0.0.1',
        TOKEN_CACHE_HTTP_PORT: String(await freePort()),
        VAULT_ADAPTERS_HTTP_PORT: String(await freePort()),
        POLICY_APPROVAL_HTTP_PORT: String(await freePort()),
        SESSION_REPORTING_HTTP_PORT: String(await freePort()),
        OPENECM_BOOTSTRAP_CLIENT_ID: bootstrap.clientId,
        OPENECM_BOOTSTRAP_CLIENT_SECRET: bootstrap.clientSecret,
        LOG_LEVEL: 'warn',
      });
      run = runLauncher(dir);
      await waitFor(() => /OpenECM is up/.test(run.output()) || run.child.exitCode !== null, { timeoutMs: 90_000, what: 'the launcher' });
      expect(run.output()).toMatch(/OpenECM is up/);
    }, 120_000);

    afterAll(async () => {
      if (run.child.exitCode === null && run.child.pid) {
        process.kill(-run.child.pid, 'SIGKILL');
        await run.exit;
      }
      await sim.close();
      await db.drop();
      await deleteNamespaceStreams(namespace);
    });

    it('runs the five services and no simulator, and drains an in-flight request on SIGTERM', async () => {
      const started = [...run.output().matchAll(/^openecm: (\S+) ready/gm)].map((m) => m[1]).sort();
      expect(started).toEqual(['appliance-gateway', 'policy-approval', 'session-reporting', 'token-cache', 'vault-adapters']);

      const admin = new ApplianceClient(gatewayUrl, bootstrap.clientId, bootstrap.clientSecret);
      await seedDemo(admin, { vaultName: 'password-safe', passwordSafeUrl: simUrl, apiKey: 'demo-api-key', users: ['alice'], print: () => undefined });
      const first = await admin.call('GET', '/api/v1/credentials?user=alice&endpoint=srv-app01');
      expect(first.status).toBe(200);

      // The vault answers the next list slowly; the launcher is stopped while that list is in flight.
      sim.state.addFault({ count: 1, path: 'ManagedAccounts', delayMs: 1500 });
      const slow = admin.call('GET', '/api/v1/credentials?user=alice&endpoint=srv-app01');
      await waitFor(() => sim.state.stats().faultsPending === 0, { timeoutMs: 10_000, what: 'the slow vault call' });
      const since = Date.now();
      run.child.kill('SIGTERM');
      const answer = await slow;
      expect(answer.status).toBe(200);
      expect((answer.body as { credentials: Array<{ name: string }> }).credentials.map((c) => c.name)).toContain('srv-app01\\Administrator');
      expect(await run.exit).toBe(0);
      expect(Date.now() - since).toBeLessThan(25_000);
      // The gateway went first, so nothing it was answering lost a service behind it.
      const stopped = [...run.output().matchAll(/^openecm: (\S+) stopped/gm)].map((m) => m[1]);
      expect(stopped[0]).toBe('appliance-gateway');
      expect(stopped).toHaveLength(5);
      expect(await refused(`${gatewayUrl}/health/live`)).toBe(true);
    }, 60_000);
  });
});
