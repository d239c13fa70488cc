/**
 * `npm run demo`: starts the three vault simulators (Password Safe, Secret Server, HashiCorp Vault) and every OpenECM app on this machine, seeds a demo, and runs
 * the appliance simulator through list, inject, release and rotation, once with a credential of each vault. Keeps running until Ctrl-C unless
 * started with `--exit`.
 *
 * NATS, Redis and PostgreSQL: the configured ones (NATS_URL, REDIS_URL, DATABASE_URL, else the default local
 * ports) when they answer, private ones started here otherwise or with `--private`, their data and the demo's
 * keys kept in `.openecm/demo` (OPENECM_DEMO_DIR) so a later run opens what an earlier one sealed.
 * Set OTEL_EXPORTER_OTLP_ENDPOINT (e.g. http://127.0.0.1:4318 for a local Jaeger) to see the traces.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApplianceClient, ApplianceSite, runApplianceFlow, seedDemo } from '@openecm/appliance-sim';
import { launchSystem, type RunningSystem } from '@openecm/testing';
import { DEV_PEOPLE } from '@openecm/dev-idp';
import { DemoInfraError, DemoInfrastructure } from './src/demo-infra';
import { loadDemoKeys } from './src/demo-keys';

const env = process.env;
const args = process.argv.slice(2);
const exitAfterFlow = args.includes('--exit');
const verbose = args.includes('--verbose');
const out = (line: string) => process.stdout.write(`${line}\n`);
const demoDir = resolve(env['OPENECM_DEMO_DIR'] || join(__dirname, '..', '..', '.openecm', 'demo'));

/** Where the demo's own servers listen: a private NATS, Redis or PostgreSQL is never given one of these ports. */
const ports = {
  gateway: Number(env['GATEWAY_PORT'] ?? 8080),
  passwordSafe: Number(env['PS_SIM_PORT'] ?? 8090),
  secretServer: Number(env['SS_SIM_PORT'] ?? 8091),
  vaultSim: Number(env['VAULT_SIM_PORT'] ?? 8094),
  devIdp: Number(env['DEV_IDP_PORT'] ?? 8092),
};
const infra = new DemoInfrastructure({ env, forcePrivate: args.includes('--private'), dir: demoDir, say: out, reservedPorts: Object.values(ports) });
let launching: Promise<RunningSystem> | undefined;
let stopping: Promise<void> | undefined;
/** The appliance's own API (OAuth, session reports, Command API), which session-reporting polls. DEMO-ONLY account. */
const site = new ApplianceSite({ clientId: 'demo-reporting', clientSecret: env['OPENECM_DEMO_APPLIANCE_SECRET'] ?? 'demo-only-appliance-reporting-secret' });

/** The apps first, then the servers they use; safe to call while anything is still starting. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    const system = await launching?.catch(() => undefined);
    await system?.stop();
    await site.close();
    await infra.stop();
  })();
  return stopping;
}

function exitAfterStop(code: number): void {
  stopAll().then(
    () => process.exit(code),
    (error: Error) => {
      process.stderr.write(`stopping failed: ${error.message}\n`);
      process.exit(1);
    },
  );
}

interface VaultView {
  name: string;
  status?: 'ok' | 'unreadable';
  settings: { baseUrl?: string; endpointUrl?: string; address?: string; allowInsecureHttp?: boolean };
  createdAt: string;
}

/**
 * The demo's vaults as an earlier run left them. True when each is there, opens with the kept keys and still
 * points at this run's simulator, so nothing needs connecting again.
 */
async function earlierVaults(client: ApplianceClient, wanted: Record<string, string>): Promise<boolean> {
  const res = await client.call<{ vaults: VaultView[] }>('GET', '/api/v1/admin/vaults');
  if (res.status !== 200) {
    out(`0. setup    the vaults of an earlier run could not be listed (${res.status}): connecting them again`);
    return false;
  }
  let kept = true;
  for (const [name, url] of Object.entries(wanted)) {
    const vault = res.body.vaults.find((v) => v.name === name);
    if (!vault) {
      kept = false;
      continue;
    }
    const opens = (vault.status ?? 'ok') === 'ok';
    // the simulators speak plain http, which a connection saved before the https rule does not allow
    const same = (vault.settings.baseUrl ?? vault.settings.endpointUrl ?? vault.settings.address) === url && vault.settings.allowInsecureHttp === true;
    const state = !opens ? 'its settings do not open with these keys: connecting it again' : same ? 'its settings open with the kept keys' : 'its settings open; the simulator moved: connecting it again';
    out(`0. setup    vault "${name}" from an earlier run (connected ${vault.createdAt}): ${state}`);
    kept &&= opens && same;
  }
  return kept;
}

/** The console, built for this run into the demo folder (Vite takes a few seconds); undefined if it cannot be. */
function buildConsole(): string | undefined {
  const dir = join(demoDir, 'console');
  const root = resolve(__dirname, '..', '..');
  const built = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'apps/console/vite.config.mjs', '--outDir', dir], {
    cwd: root,
    encoding: 'utf8',
  });
  if (built.status === 0) return dir;
  out(`the console could not be built (${built.stderr.trim().split('\n').pop() ?? 'vite failed'}): /console will say so`);
  return undefined;
}

/** Where to sign in to the console, and as whom. */
function printConsole(system: RunningSystem): void {
  out(`console: ${system.gatewayUrl}/console, signing in at the development identity provider ${system.devIdpUrl ?? ''} as (DEMO ONLY):`);
  for (const p of DEV_PEOPLE) out(`  ${p.username.padEnd(6)} password ${p.password.padEnd(16)} ${p.about}`);
}

async function run(): Promise<void> {
  process.once('SIGINT', () => {
    out('stopping ...');
    exitAfterStop(0);
  });
  process.once('SIGTERM', () => {
    out('stopping ...');
    exitAfterStop(0);
  });
  mkdirSync(demoDir, { recursive: true });
  const keys = loadDemoKeys(demoDir);
  out(`keys: ${keys.created ? 'generated into' : 'reusing'} ${keys.file}`);
  const urls = await infra.start();
  if (stopping) return;

  const bootstrap = { clientId: 'demo-appliance', clientSecret: env['OPENECM_DEMO_CLIENT_SECRET'] ?? 'demo-appliance-secret-change-me' };
  const consoleDir = buildConsole();
  out('starting the Password Safe and Secret Server simulators, the development identity provider and the five OpenECM apps ...');
  launching = launchSystem({
    namespace: env['OPENECM_NAMESPACE'] ?? 'demo',
    ...urls,
    otlpEndpoint: env['OTEL_EXPORTER_OTLP_ENDPOINT'],
    gatewayPort: ports.gateway,
    simPort: ports.passwordSafe,
    secretServer: true,
    secretServerPort: ports.secretServer,
    vaultSim: { port: ports.vaultSim },
    logLevel: env['LOG_LEVEL'] ?? 'info',
    bootstrap,
    keys: keys.keys,
    devIdp: { port: ports.devIdp },
    ...(consoleDir ? { consoleDir } : {}),
    echo: verbose ? (name, line) => out(`[${name}] ${line}`) : undefined,
  });
  const system = await launching;
  if (stopping) return;

  out(`gateway ${system.gatewayUrl}, Password Safe simulator ${system.simUrl}, Secret Server simulator ${system.secretServerUrl}, HashiCorp Vault simulator ${system.vaultSimUrl}`);
  out(`API account: ${bootstrap.clientId} (its secret is in OPENECM_DEMO_CLIENT_SECRET or the README)`);
  printConsole(system);
  const client = new ApplianceClient(system.gatewayUrl, bootstrap.clientId, bootstrap.clientSecret);
  const secretServerUrl = `${system.secretServerUrl}/webservices/SSWebService.asmx`;
  const hashicorpVaultUrl = system.vaultSimUrl as string;
  if (await earlierVaults(client, { 'password-safe': system.simUrl, 'secret-server': secretServerUrl, 'hashicorp-vault': hashicorpVaultUrl })) {
    out('0. setup    the three vaults and the requesters group kept from the earlier run');
  } else {
    await seedDemo(client, { vaultName: 'password-safe', passwordSafeUrl: system.simUrl, apiKey: 'demo-api-key', secretServerUrl, hashicorpVaultUrl, users: ['alice'], print: out });
  }
  const siteUrl = await site.listen(Number(env['APPLIANCE_SIM_PORT'] ?? 8093));
  const connected = await client.call('PUT', '/api/v1/admin/appliance', {
    url: siteUrl,
    clientId: 'demo-reporting',
    clientSecret: env['OPENECM_DEMO_APPLIANCE_SECRET'] ?? 'demo-only-appliance-reporting-secret',
    pollIntervalSeconds: 10,
    allowInsecureHttp: true,
  });
  if (connected.status !== 200) throw new Error(`the appliance connection was refused: ${connected.status}`);
  out(`appliance site simulator ${siteUrl}: session-reporting polls its session reports every 10 s`);
  const result = await runApplianceFlow(client, {
    site,
    user: 'alice',
    endpoint: 'srv-app01',
    credential: 'Administrator',
    simControlUrl: system.simControlUrl,
    simAccountId: 1001,
    print: out,
  });
  out(`5. report   the session in ${system.gatewayUrl}/api/v1/reports/sessions?lsid=${result.sessionId} (reporting permission), the appliance's view of it within 10 s`);
  // the same flow with a credential of each of the other vaults: Secret Server's checked-out secret changes its
  // password at check-in by its own setting, Vault's library account is rotated by Vault at check-in
  const others = [];
  for (const [vault, credential] of [['secret-server', 'svc-deploy'], ['hashicorp-vault', 'rdp-admins']] as const) {
    out(`-- the same from vault "${vault}" (${credential})`);
    others.push(await runApplianceFlow(client, { site, user: 'alice', endpoint: 'srv-app01', credential, print: out }));
  }
  const ok = result.rotated && others.every((r) => r.state === 'rotated' || r.state === 'checked-in');
  out(ok ? 'done: a credential of each vault was injected, released and checked in (rotated where the vault rotates).' : 'done, but a lease did not end as expected: see the lease states above.');
  if (exitAfterFlow) {
    exitAfterStop(ok ? 0 : 1);
    return;
  }
  out('OpenECM keeps running; press Ctrl-C to stop.');
}

run().catch((error: Error) => {
  const lines = error instanceof DemoInfraError ? error.lines : [`demo failed: ${error.message}`];
  for (const line of lines) process.stderr.write(`${line}\n`);
  exitAfterStop(1);
});
