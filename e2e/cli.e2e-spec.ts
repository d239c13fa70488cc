import type { DiagnosticCheck, DiagnosticsReport, InstanceList, LogLevelAnswer } from '@openecm/contracts';
import { ApplianceClient } from '@openecm/appliance-sim';
import {
  NATS_URL,
  REDIS_URL,
  clearNamespaceKeys,
  createTestDatabase,
  deleteNamespaceStreams,
  freePort,
  launchSystem,
  waitFor,
  type LaunchedProcess,
  type RunningSystem,
} from '@openecm/testing';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Client } from 'pg';
import { join, resolve } from 'node:path';
import { generate as selfSigned } from 'selfsigned';
import { createSecretServerSim, type SecretServerSim } from '../tools/secret-server-sim/src/sim';

/**
 * The openecm CLI as an operator runs it, a child process against the running system: doctor green, then
 * doctor naming the broken step (a stopped vault, a wrong password or API key, a certificate it does not
 * trust), the log level switched on every instance and back, and the thin commands.
 */
const namespace = process.env['OPENECM_NAMESPACE'] as string;
const ROOT = resolve(__dirname, '..');
const BIN = join(ROOT, 'tools/cli/bin/openecm.js');
const SS_API_PASSWORD = 'openecm-api-demo-pass';
const PS_API_KEY = 'demo-api-key';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('the openecm CLI against the running system', () => {
  let system: RunningSystem;
  let db: { url: string; drop: () => Promise<void> };
  let admin: ApplianceClient;
  let tlsSim: SecretServerSim | undefined;
  let configHome: string;
  const outputs: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    configHome = mkdtempSync(join(tmpdir(), 'openecm-cli-e2e-'));
    system = await launchSystem({
      namespace,
      databaseUrl: db.url,
      redisUrl: REDIS_URL,
      natsUrl: NATS_URL,
      secretServer: true,
      instances: { 'vault-adapters': 2 },
      logLevel: 'info',
      // a test below edits a row as a lost key would leave it, which a restart would see: no snapshot here
      env: { VAULT_RETRY_BASE_DELAY_MS: '20', VAULT_RETRY_ATTEMPTS: '2', VAULT_CONNECTIONS_CACHE_SECONDS: '0' },
    });
    admin = new ApplianceClient(system.gatewayUrl, system.bootstrap.clientId, system.bootstrap.clientSecret);
    expect((await connectPasswordSafe(PS_API_KEY)).status).toBe(201);
    expect((await connectSecretServer(SS_API_PASSWORD)).status).toBe(201);
    expect((await admin.call('POST', '/api/v1/admin/groups/Secure%20Remote%20Access%20Requesters/members', { user: 'alice' })).status).toBeLessThan(300);
  }, 120_000);

  afterAll(async () => {
    await tlsSim?.close();
    await system?.stop();
    await db?.drop();
    await clearNamespaceKeys();
    await deleteNamespaceStreams();
    rmSync(configHome, { recursive: true, force: true });
  });

  const connectPasswordSafe = (apiKey: string) =>
    admin.call('PUT', '/api/v1/admin/vaults/password-safe', { type: 'password-safe', settings: { baseUrl: system.simUrl, allowInsecureHttp: true, auth: { mode: 'api-key', apiKey } } });
  const connectSecretServer = (apiPassword: string, name = 'secret-server', base = system.secretServerUrl as string, caBundle?: string) =>
    admin.call('PUT', `/api/v1/admin/vaults/${name}`, {
      type: 'secret-server',
      settings: {
        endpointUrl: `${base}/webservices/SSWebService.asmx`, allowInsecureHttp: true,
        apiUser: 'openecm-api',
        apiPassword,
        defaultDomainForLocalUsers: 'CORP',
        fallBackToLocalAccount: true,
        timeoutSeconds: 20,
        ...(caBundle ? { caBundle } : {}),
      },
    });

  /** Runs the real `openecm` bin with the API account in its environment, as an operator's shell would. */
  const openecm = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
    new Promise((done, fail) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd: tmpdir(),
        env: {
          PATH: process.env['PATH'] ?? '',
          XDG_CONFIG_HOME: configHome,
          OPENECM_URL: system.gatewayUrl,
          OPENECM_CLIENT_ID: system.bootstrap.clientId,
          OPENECM_CLIENT_SECRET: system.bootstrap.clientSecret,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.on('error', fail);
      child.on('close', (code) => {
        outputs.push(stdout, stderr);
        done({ code, stdout, stderr });
      });
    });

  const doctor = async (): Promise<{ run: CliRun; report: DiagnosticsReport; check: (id: string) => DiagnosticCheck | undefined }> => {
    const run = await openecm(['doctor', '--user', 'alice', '--endpoint', 'srv-app01', '--json']);
    const report = JSON.parse(run.stdout) as DiagnosticsReport;
    return { run, report, check: (id) => report.checks.find((c) => c.id === id) };
  };
  const notOk = (report: DiagnosticsReport) => report.checks.filter((c) => c.status === 'warn' || c.status === 'fail').map((c) => `${c.id}: ${c.detail}`);

  it('doctor is green on a healthy system: every step named, every service counted, exit 0', async () => {
    const human = await openecm(['doctor', '--user', 'alice', '--endpoint', 'srv-app01']);
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/all is well\n$/);
    const { run, report, check } = await doctor();
    expect(notOk(report)).toEqual([]);
    expect(run.code).toBe(0);
    expect(report.checks.slice(0, 2).map((c) => [c.id, c.status])).toEqual([
      ['gateway', 'ok'],
      ['sign-in', 'ok'],
    ]);
    expect(check('service:vault-adapters')?.detail).toMatch(/^2 instances, all ready/);
    expect(check('service:policy-approval')?.detail).toMatch(/^1 instance, all ready/);
    for (const id of ['nats', 'postgres', 'redis', 'migrations', 'keys:vault-adapters', 'keys:token-cache', 'api-accounts', 'vault:password-safe', 'vault:secret-server', 'clock:password-safe', 'clock:secret-server']) {
      expect(check(id)?.status).toBe('ok');
    }
    expect(check('vault:secret-server')?.detail).toMatch(/^lists \d+ credentials? for alice on srv-app01$/);
    expect(check('appliance')).toMatchObject({ status: 'info', detail: expect.stringMatching(/^not configured/) });
  });

  it('doctor names the authentication step for a wrong vault password and a wrong API key', async () => {
    expect((await connectSecretServer('not-the-password')).status).toBe(200);
    expect((await connectPasswordSafe('not-the-api-key')).status).toBe(200);
    try {
      const { run, report, check } = await doctor();
      expect(run.code).toBe(1);
      expect(report.status).toBe('fail');
      expect(check('vault:secret-server')).toMatchObject({ status: 'fail', step: 'authentication', remedy: expect.stringContaining('API user and password') });
      expect(check('vault:password-safe')).toMatchObject({ status: 'fail', step: 'authentication' });
      const human = await openecm(['doctor', '--user', 'alice', '--endpoint', 'srv-app01']);
      expect(human.stdout).toMatch(/FAIL {2}Vault secret-server: Test Settings +authentication failed for alice on srv-app01/);
      expect(human.stdout).toContain('failing step: authentication');
      expect(`${run.stdout}${human.stdout}`).not.toMatch(/not-the-password|not-the-api-key/);
    } finally {
      await connectSecretServer(SS_API_PASSWORD);
      await connectPasswordSafe(PS_API_KEY);
    }
    expect((await doctor()).run.code).toBe(0);
  });

  it('doctor names the tls step for a vault whose certificate is not trusted, and is green once its CA bundle is set', async () => {
    const pems = await selfSigned([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      ],
    });
    tlsSim = createSecretServerSim({ tls: { key: pems.private, cert: pems.cert } });
    const base = await tlsSim.listen(await freePort());
    expect(base).toMatch(/^https:/);
    expect((await connectSecretServer(SS_API_PASSWORD, 'ss-tls', base)).status).toBe(201);
    const untrusted = await doctor();
    expect(untrusted.run.code).toBe(1);
    expect(untrusted.check('vault:ss-tls')).toMatchObject({ status: 'fail', step: 'tls', remedy: expect.stringContaining('caBundle') });
    expect(untrusted.check('clock:ss-tls')).toMatchObject({ status: 'info', detail: expect.stringMatching(/^not measured: TLS failure/) });
    expect(untrusted.check('vault:secret-server')?.status).toBe('ok');

    expect((await connectSecretServer(SS_API_PASSWORD, 'ss-tls', base, pems.cert)).status).toBe(200);
    const trusted = await doctor();
    expect(notOk(trusted.report)).toEqual([]);
    expect(trusted.check('vault:ss-tls')?.status).toBe('ok');
    expect(trusted.check('clock:ss-tls')?.status).toBe('ok');
  });

  it('doctor names a vault whose settings no longer open with the configured keys, and still tests the others', async () => {
    expect((await connectSecretServer(SS_API_PASSWORD, 'ss-old')).status).toBe(201);
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    try {
      // as after VAULT_SETTINGS_KEYS lost the key these settings were sealed with
      await pg.query(`UPDATE vault.connection SET settings_sealed = 'v0.AAAA.BBBB.CCCC.DDDD' WHERE name = 'ss-old'`);
    } finally {
      await pg.end();
    }
    const broken = await doctor();
    expect(broken.run.code).toBe(1);
    expect(broken.check('keys:vault-adapters')).toMatchObject({ status: 'fail', detail: expect.stringContaining('ss-old'), remedy: expect.stringContaining('VAULT_SETTINGS_KEYS') });
    expect(broken.check('vault:ss-old')).toBeUndefined();
    expect(broken.check('vault:secret-server')?.status).toBe('ok');
    const listed = await openecm(['vault', 'list']);
    expect(listed.stdout).toMatch(/^ss-old +secret-server +- +unreadable /m);

    expect((await connectSecretServer(SS_API_PASSWORD, 'ss-old')).status).toBe(200);
    expect(notOk((await doctor()).report)).toEqual([]);
  });

  it('switches every instance of every service to debug and back on its own', async () => {
    const apps = system.processes.filter((p) => !p.name.endsWith('-sim'));
    expect(apps).toHaveLength(6);
    const debugLines = (p: LaunchedProcess, from: number) => p.lines.slice(from).filter((l) => l.includes('"level":"debug"') && l.includes('ping answered'));
    const marks = apps.map((p) => p.lines.length);

    const switched = await openecm(['log-level', 'debug', '--for', '3s', '--json']);
    expect(switched.code).toBe(0);
    const answer = JSON.parse(switched.stdout) as LogLevelAnswer;
    expect(answer).toMatchObject({ level: 'debug', service: null, revertAfterSeconds: 3 });
    expect(answer.applied).toHaveLength(apps.length);
    expect([...new Set(answer.applied.map((a) => a.service))].sort()).toEqual(['appliance-gateway', 'policy-approval', 'session-reporting', 'token-cache', 'vault-adapters']);

    const listed = await openecm(['instances', '--json']);
    expect((JSON.parse(listed.stdout) as InstanceList).instances.every((i) => i.logLevel === 'debug' && i.logLevelRevertsAt)).toBe(true);
    for (const [i, p] of apps.entries()) {
      await waitFor(() => debugLines(p, marks[i] as number).length > 0, { what: `a debug line from ${p.name}` });
    }

    await waitFor(() => apps.every((p) => p.lines.some((l, n) => n >= (marks[apps.indexOf(p)] as number) && l.includes('log level back to the configured one'))), {
      timeoutMs: 10_000,
      what: 'every instance back at its LOG_LEVEL',
    });
    const reverted = apps.map((p) => p.lines.length);
    const after = await openecm(['instances']);
    expect(after.code).toBe(0);
    expect(after.stdout.split('\n')[0]).toMatch(/^SERVICE +INSTANCE +VERSION +UPTIME +READY +LOG LEVEL$/);
    expect(after.stdout.match(/ info$/gm)).toHaveLength(apps.length);
    for (const [i, p] of apps.entries()) expect(debugLines(p, reverted[i] as number)).toEqual([]);
  });

  it('switches one service only, and refuses a level it does not know with exit code 2', async () => {
    const one = await openecm(['log-level', 'debug', '--service', 'vault-adapters', '--for', '1s']);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain('debug on 2 instances of vault-adapters for 1s');
    const wrong = await openecm(['log-level', 'verbose']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("'verbose' is invalid");
  });

  it('lists vaults, tests one, clears the token cache, and shows, lists and releases a lease', async () => {
    const vaults = await openecm(['vault', 'list']);
    expect(vaults.code).toBe(0);
    expect(vaults.stdout).toMatch(/^password-safe +password-safe +http/m);
    expect(vaults.stdout).not.toContain(SS_API_PASSWORD);
    const tested = await openecm(['vault', 'test', 'secret-server', '--user', 'alice', '--endpoint', 'srv-app01']);
    expect(tested.code).toBe(0);
    expect(tested.stdout).toMatch(/^ok: \d+ credentials? for alice on srv-app01\nNAME +USERNAME +DOMAIN +SCOPE\n/);
    const cleared = await openecm(['cache', 'clear', '--vault', 'secret-server']);
    expect(cleared).toMatchObject({ code: 0, stdout: expect.stringMatching(/^cleared \d+ vault sessions?\n$/) });

    const listed = await admin.listCredentials('alice', 'srv-app01');
    const credential = listed.body.credentials.find((c) => c.vault === 'password-safe') as { id: string };
    const injected = await admin.inject(credential.id, 'alice', 'srv-app01', 'cli-session');
    expect(injected.status).toBe(201);
    const leaseId = injected.body.leaseId;
    const leases = await openecm(['lease', 'list', '--user', 'alice', '--state', 'active']);
    expect(leases.stdout).toMatch(new RegExp(`^${leaseId} +active +alice +srv-app01 `, 'm'));
    const shown = await openecm(['lease', 'show', leaseId, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ leaseId, state: 'active', sessionId: 'cli-session' });
    const released = await openecm(['lease', 'release', leaseId]);
    expect(released.stdout).toMatch(new RegExp(`^released ${leaseId} at .+; rotation scheduled\\n$`));
    const bad = await openecm(['lease', 'show', 'not-a-lease-id']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: .*leaseId.*\(VALIDATION_FAILED, HTTP 400\)\n {2}leaseId: /);
  });

  it('creates, lists and deletes an API account; doctor names the step an account without admin, or a wrong secret, stops at', async () => {
    const created = await openecm(['api-account', 'create', 'cli-appliance', '--permission', 'credentials', '--json']);
    expect(created.code).toBe(0);
    const account = JSON.parse(created.stdout) as { clientId: string; clientSecret: string; permissions: string[] };
    expect(account).toMatchObject({ clientId: 'cli-appliance', permissions: ['credentials'] });
    const list = await openecm(['api-account', 'list']);
    expect(list.stdout).toMatch(/^cli-appliance +credentials +/m);
    expect(list.stdout).not.toContain(account.clientSecret);

    const asAppliance = await openecm(['doctor', '--json'], { OPENECM_CLIENT_ID: account.clientId, OPENECM_CLIENT_SECRET: account.clientSecret });
    expect(asAppliance.code).toBe(1);
    expect((JSON.parse(asAppliance.stdout) as DiagnosticsReport).checks.map((c) => [c.id, c.status])).toEqual([
      ['gateway', 'ok'],
      ['sign-in', 'ok'],
      ['diagnostics', 'fail'],
    ]);
    expect(asAppliance.stdout).not.toContain(account.clientSecret);

    const deleted = await openecm(['api-account', 'delete', 'cli-appliance']);
    expect(deleted).toMatchObject({ code: 0, stdout: 'deleted cli-appliance\n' });
    const refused = await openecm(['doctor'], { OPENECM_CLIENT_ID: account.clientId, OPENECM_CLIENT_SECRET: account.clientSecret });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/FAIL {2}Sign-in/);
    expect(refused.stdout).toContain('check the client id and secret');
  });

  it('doctor names the connect step for a stopped vault simulator', async () => {
    const sim = system.processes.find((p) => p.name === 'secret-server-sim') as LaunchedProcess;
    const exited = new Promise((r) => sim.child.once('exit', r));
    sim.child.kill('SIGTERM');
    await exited;
    const { run, check } = await doctor();
    expect(run.code).toBe(1);
    expect(check('vault:secret-server')).toMatchObject({ status: 'fail', step: 'connect', remedy: expect.stringContaining('URL and port') });
    expect(check('vault:password-safe')?.status).toBe('ok');
    expect(check('clock:secret-server')).toMatchObject({ status: 'info', detail: expect.stringMatching(/^not measured/) });
  });

  it('doctor names the gateway step when nothing answers at its URL', async () => {
    const run = await openecm(['doctor'], { OPENECM_URL: `http://127.0.0.1:${await freePort()}` });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/FAIL {2}Gateway {2}cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });

  it('printed no secret anywhere: not the bootstrap secret, the vault password or the API key', () => {
    const everything = outputs.join('\n');
    for (const secret of [system.bootstrap.clientSecret, SS_API_PASSWORD, PS_API_KEY, ...system.secrets]) expect(everything).not.toContain(secret);
  });
});
