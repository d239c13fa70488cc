import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { watchGateway } from './gateway-answers';
import { freePort } from './ports';

export const APPS = ['token-cache', 'vault-adapters', 'policy-approval', 'session-reporting', 'appliance-gateway'] as const;
export type AppName = (typeof APPS)[number];

const ROOT = resolve(__dirname, '../../..');
/** The console's client at the development identity provider. */
const CONSOLE_CLIENT_ID = 'openecm-console';

export interface LaunchedProcess {
  name: string;
  child: ChildProcess;
  lines: string[];
  httpUrl: string;
  /** Starts the process again with the same settings (after a crash a test caused) and waits until it is ready. */
  restart(): Promise<void>;
}

export interface SystemOptions {
  namespace: string;
  /** VAULT_ALLOWED_ADDRESSES of vault-adapters; loopback (where the simulators listen) unless given. */
  vaultAllowedAddresses?: string;
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
  otlpEndpoint?: string;
  /** Trace with the shipped sampling (TRACE_SAMPLE_RATIO unset) instead of keeping every trace, as tests do. */
  shippedSampling?: boolean;
  gatewayPort?: number;
  simPort?: number;
  secretServerPort?: number;
  logLevel?: string;
  /** Extra environment for every app (e.g. a short reconcile interval). */
  env?: Record<string, string>;
  /** Extra environment for the vault simulators only, after `env` (the bench keeps them untraced on every side). */
  simEnv?: Record<string, string>;
  bootstrap?: { clientId: string; clientSecret: string };
  /** More than one instance of an app (they share the work through their NATS queue group). */
  instances?: Partial<Record<AppName, number>>;
  /** Also start the Secret Server simulator. */
  secretServer?: boolean;
  /** Also start the HashiCorp Vault simulator (tools/vault-sim), on this port when given. */
  vaultSim?: boolean | { port?: number };
  /**
   * Also start the development identity provider (tools/dev-idp, its own process) and give the gateway its
   * OpenID Connect settings, so people can sign in to the console; `port` fixes its port (a free one otherwise).
   */
  devIdp?: boolean | { port?: number };
  /** The built console the gateway serves (CONSOLE_DIR); dist/apps/console when not given. */
  consoleDir?: string;
  /** The keyrings (`keyId:base64[,...]`) token-cache and vault-adapters seal with; new random ones when absent. */
  keys?: { tokenCacheKeys: string; vaultSettingsKeys: string; auditKeys?: string; applianceKeys?: string };
  /** Options for every process's Node.js (the bench's profiler, say). */
  nodeArgs?: string[];
  /** The checkout whose apps and simulators run (another release's, for the bench to compare with); this one by default. */
  root?: string;
  /** Echo every line the processes print (the demo does; tests keep them for inspection). */
  echo?: (process: string, line: string) => void;
}

export interface RunningSystem {
  gatewayUrl: string;
  simUrl: string;
  simControlUrl: string;
  /** The Secret Server simulator's base URL and control URL, when started. */
  secretServerUrl?: string;
  secretServerControlUrl?: string;
  /** The HashiCorp Vault simulator's address and control URL, when started. */
  vaultSimUrl?: string;
  vaultSimControlUrl?: string;
  /** The development identity provider's issuer, when started; the console is at `${gatewayUrl}/console`. */
  devIdpUrl?: string;
  processes: LaunchedProcess[];
  bootstrap: { clientId: string; clientSecret: string };
  secrets: string[];
  stop(): Promise<void>;
}

function key(): string {
  return randomBytes(32).toString('base64');
}

function launch(name: string, entry: string, env: Record<string, string>, httpUrl: string, echo?: SystemOptions['echo'], nodeArgs: string[] = [], root = ROOT): LaunchedProcess {
  const lines: string[] = [];
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      lines.push(line);
      echo?.(name, line);
    }
  };
  const start = () => {
    const child = spawn(process.execPath, [...nodeArgs, '-r', '@swc-node/register', entry], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    return child;
  };
  const launched: LaunchedProcess = {
    name,
    child: start(),
    lines,
    httpUrl,
    restart: async () => {
      await stopProcess(launched);
      launched.child = start();
      await waitReady(launched, name.endsWith('-sim') ? '/_sim/stats' : '/health/ready', 60_000);
    },
  };
  return launched;
}

async function waitReady(p: LaunchedProcess, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null) {
      throw new Error(`${p.name} exited with ${p.child.exitCode} before it was ready:\n${p.lines.slice(-20).join('\n')}`);
    }
    try {
      const res = await fetch(`${p.httpUrl}${path}`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${p.name} was not ready within ${timeoutMs} ms:\n${p.lines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopProcess(p: LaunchedProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.child.once('exit', () => r()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the Password Safe simulator and every OpenECM app as its own process, the way an operator runs
 * them, and waits until each is ready. Used by the end-to-end suite, the benchmark and the demo.
 */
export async function launchSystem(options: SystemOptions): Promise<RunningSystem> {
  const bootstrap = options.bootstrap ?? { clientId: 'e2e-appliance', clientSecret: randomBytes(24).toString('base64url') };
  const tokenKeys = options.keys?.tokenCacheKeys ?? `k1:${key()}`;
  const vaultKeys = options.keys?.vaultSettingsKeys ?? `v1:${key()}`;
  const auditKeys = options.keys?.auditKeys ?? `a1:${key()}`;
  const applianceKeys = options.keys?.applianceKeys ?? `r1:${key()}`;
  const gatewayPort = options.gatewayPort ?? (await freePort());
  watchGateway(`http://127.0.0.1:${gatewayPort}`);
  const simPort = options.simPort ?? (await freePort());
  const ssPort = options.secretServerPort ?? (await freePort());
  const vaultSimPort = (typeof options.vaultSim === 'object' ? options.vaultSim.port : undefined) ?? (await freePort());
  const common: Record<string, string> = {
    OPENECM_NAMESPACE: options.namespace,
    NATS_URL: options.natsUrl,
    REDIS_URL: options.redisUrl,
    DATABASE_URL: options.databaseUrl,
    LOG_LEVEL: options.logLevel ?? 'info',
    ...(options.otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint } : {}),
    // a test finds the trace of every request it makes; the shipped ratio keeps one in ten
    ...(options.shippedSampling ? {} : { TRACE_SAMPLE_RATIO: '1' }),
    ...options.env,
  };
  const processes: LaunchedProcess[] = [];
  const consoleClientSecret = randomBytes(24).toString('base64url');
  let devIdpUrl: string | undefined;
  const stop = async () => {
    await Promise.all(processes.map(stopProcess));
  };
  try {
    const sim = launch(
      'password-safe-sim',
      'tools/password-safe-sim/src/main.ts',
      { ...common, ...options.simEnv, PS_SIM_PORT: String(simPort), PS_SIM_HOST: '127.0.0.1' },
      `http://127.0.0.1:${simPort}`,
      options.echo,
      options.nodeArgs,
      options.root,
    );
    processes.push(sim);
    const sims = [sim];
    if (options.secretServer) {
      const ss = launch(
        'secret-server-sim',
        'tools/secret-server-sim/src/main.ts',
        { ...common, ...options.simEnv, SS_SIM_PORT: String(ssPort), SS_SIM_HOST: '127.0.0.1' },
        `http://127.0.0.1:${ssPort}`,
        options.echo,
      );
      processes.push(ss);
      sims.push(ss);
    }
    if (options.vaultSim) {
      const hv = launch('vault-sim', 'tools/vault-sim/src/main.ts', { ...common, ...options.simEnv, VAULT_SIM_PORT: String(vaultSimPort), VAULT_SIM_HOST: '127.0.0.1' }, `http://127.0.0.1:${vaultSimPort}`, options.echo);
      processes.push(hv);
      sims.push(hv);
    }
    const consoleEnv: Record<string, string> = options.consoleDir ? { CONSOLE_DIR: options.consoleDir } : {};
    if (options.devIdp) {
      const port = (typeof options.devIdp === 'object' ? options.devIdp.port : undefined) ?? (await freePort());
      const gateway = `http://127.0.0.1:${gatewayPort}`;
      devIdpUrl = `http://127.0.0.1:${port}`;
      const idp = launch(
        'dev-idp',
        'tools/dev-idp/src/main.ts',
        {
          ...common,
          DEV_IDP_PORT: String(port),
          DEV_IDP_CLIENT_ID: CONSOLE_CLIENT_ID,
          DEV_IDP_CLIENT_SECRET: consoleClientSecret,
          DEV_IDP_REDIRECT_URIS: `${gateway}/console/auth/callback`,
          DEV_IDP_POST_LOGOUT_REDIRECT_URIS: `${gateway}/console`,
        },
        devIdpUrl,
        options.echo,
      );
      processes.push(idp);
      await waitReady(idp, '/.well-known/openid-configuration', 60_000);
      Object.assign(consoleEnv, {
        OIDC_ISSUER: devIdpUrl,
        OIDC_CLIENT_ID: CONSOLE_CLIENT_ID,
        OIDC_CLIENT_SECRET: consoleClientSecret,
        OIDC_REDIRECT_URI: `${gateway}/console/auth/callback`,
      });
    }
    for (const app of APPS) {
      for (let instance = 0; instance < (options.instances?.[app] ?? 1); instance++) {
        const port = app === 'appliance-gateway' && instance === 0 ? gatewayPort : await freePort();
        const env: Record<string, string> = { ...common, HTTP_PORT: String(port) };
        if (app === 'token-cache') env['TOKEN_CACHE_KEYS'] = tokenKeys;
        if (app === 'vault-adapters') {
          env['VAULT_SETTINGS_KEYS'] = vaultKeys;
          // the simulators listen on loopback, which a vault URL may name only when the operator allows it
          env['VAULT_ALLOWED_ADDRESSES'] = options.vaultAllowedAddresses ?? '127.0.0.1';
        }
        if (app === 'appliance-gateway') env['AUDIT_HMAC_KEYS'] = auditKeys;
        if (app === 'session-reporting') env['APPLIANCE_SETTINGS_KEYS'] = applianceKeys;
        if (app === 'appliance-gateway') {
          Object.assign(env, {
            GATEWAY_PORT: String(port),
            GATEWAY_HOST: '127.0.0.1',
            OPENECM_BOOTSTRAP_CLIENT_ID: bootstrap.clientId,
            OPENECM_BOOTSTRAP_CLIENT_SECRET: bootstrap.clientSecret,
            ...consoleEnv,
          });
        }
        const name = instance === 0 ? app : `${app}#${instance + 1}`;
        processes.push(launch(name, `apps/${app}/src/main.ts`, env, `http://127.0.0.1:${port}`, options.echo, options.nodeArgs, options.root));
      }
    }
    await Promise.all(sims.map((s) => waitReady(s, '/_sim/stats', 60_000)));
    await Promise.all(processes.filter((p) => !sims.includes(p) && p.name !== 'dev-idp').map((p) => waitReady(p, '/health/ready', 60_000)));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    simUrl: `http://127.0.0.1:${simPort}/BeyondTrust/api/public/v3/`,
    simControlUrl: `http://127.0.0.1:${simPort}/_sim`,
    ...(options.secretServer
      ? { secretServerUrl: `http://127.0.0.1:${ssPort}/SecretServer`, secretServerControlUrl: `http://127.0.0.1:${ssPort}/_sim` }
      : {}),
    ...(options.vaultSim ? { vaultSimUrl: `http://127.0.0.1:${vaultSimPort}`, vaultSimControlUrl: `http://127.0.0.1:${vaultSimPort}/_sim` } : {}),
    ...(devIdpUrl ? { devIdpUrl } : {}),
    processes,
    bootstrap,
    secrets: [bootstrap.clientSecret, ...(devIdpUrl ? [consoleClientSecret] : []), ...[tokenKeys, vaultKeys, auditKeys, applianceKeys].flatMap((ring) => ring.split(',').map((entry) => entry.slice(entry.indexOf(':') + 1)))],
    stop,
  };
}
