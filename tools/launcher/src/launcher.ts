/**
 * Runs the five OpenECM services on one host, as `npm start` does: from compiled JavaScript, with one
 * environment (a `.env` file plus the process environment), never a simulator. It refuses to start when a
 * setting is missing or malformed, restarts a service that dies, and on SIGTERM stops the gateway first (so
 * no new request comes in) and the others after it, each draining what it holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as openecmConfig from '@openecm/config';
import { configErrors, defineConfig, isConfigDefinition, lifecycleConfig, loadConfig, type ConfigDefinition } from '@openecm/config';
import { Keyring } from '@openecm/crypto';
import { Agent, request } from 'undici';
import { z } from 'zod';

/** Started in this order, stopped in the reverse: the gateway last up, first down. */
export const SERVICES = ['token-cache', 'vault-adapters', 'policy-approval', 'session-reporting', 'appliance-gateway'] as const;
export type ServiceName = (typeof SERVICES)[number];

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);

/** The ops ports (/health, /metrics) of the four internal services when they share one host. */
export const launcherConfig = defineConfig(
  'launcher',
  z.object({
    TOKEN_CACHE_HTTP_PORT: port(9461),
    VAULT_ADAPTERS_HTTP_PORT: port(9462),
    POLICY_APPROVAL_HTTP_PORT: port(9463),
    SESSION_REPORTING_HTTP_PORT: port(9464),
    START_READY_TIMEOUT_MS: z.coerce.number().int().min(1000).default(60_000),
  }),
);

type Env = Record<string, string | undefined>;

/**
 * Every problem with the environment, one line per variable, without any value: each concern the services
 * read (libs/config) and the launcher's own. Empty when the services can start.
 */
export function configurationProblems(env: Env): string[] {
  const concerns = [...(Object.values(openecmConfig) as unknown[]).filter(isConfigDefinition), launcherConfig as unknown as ConfigDefinition<z.ZodObject>];
  const problems = configErrors(concerns, env).flatMap((error) =>
    error.issues.map((issue) => (env[issue.variable] ? `${issue.variable}: malformed: ${issue.problem}` : `${issue.variable}: required, not set`)),
  );
  // A keyring of the right form may still hold keys of the wrong size; the audit chain needs its key too.
  for (const variable of ['TOKEN_CACHE_KEYS', 'VAULT_SETTINGS_KEYS', 'AUDIT_HMAC_KEYS', 'APPLIANCE_SETTINGS_KEYS']) {
    const value = env[variable];
    if (problems.some((p) => p.startsWith(`${variable}:`))) continue;
    if (!value) {
      problems.push(`${variable}: required, not set`);
      continue;
    }
    try {
      Keyring.parse(value);
    } catch (error) {
      problems.push(`${variable}: malformed: ${(error as Error).message}`);
    }
  }
  return [...new Set(problems)].sort();
}

export interface ServiceProcess {
  name: ServiceName;
  entry: string;
  readyUrl: string;
  env: Env;
  child?: ChildProcess;
  restarts: number;
}

/** Where each compiled service is, and the port its readiness is asked on. */
export function plan(distRoot: string, env: Env): ServiceProcess[] {
  const ports = loadConfig(launcherConfig, env);
  const gateway = loadConfig(openecmConfig.gatewayConfig, env);
  const opsPort: Record<ServiceName, number> = {
    'token-cache': ports.TOKEN_CACHE_HTTP_PORT,
    'vault-adapters': ports.VAULT_ADAPTERS_HTTP_PORT,
    'policy-approval': ports.POLICY_APPROVAL_HTTP_PORT,
    'session-reporting': ports.SESSION_REPORTING_HTTP_PORT,
    'appliance-gateway': gateway.GATEWAY_PORT,
  };
  const gatewayHost = ['0.0.0.0', '::', ''].includes(gateway.GATEWAY_HOST) ? '127.0.0.1' : gateway.GATEWAY_HOST;
  const gatewayScheme = gateway.GATEWAY_TLS_CERT ? 'https' : 'http';
  return SERVICES.map((name) => ({
    name,
    entry: join(distRoot, 'apps', name, 'src', 'main.js'),
    readyUrl:
      name === 'appliance-gateway'
        ? `${gatewayScheme}://${gatewayHost}:${opsPort[name]}/health/ready`
        : `http://127.0.0.1:${opsPort[name]}/health/ready`,
    env: name === 'appliance-gateway' ? env : { ...env, HTTP_PORT: String(opsPort[name]) },
    restarts: 0,
  }));
}

export type Say = (line: string) => void;

export class Launcher {
  private stopping = false;
  private readonly shutdownMs: number;
  private readonly probeAgent = new Agent({ connect: { rejectUnauthorized: false } });

  constructor(
    private readonly services: ServiceProcess[],
    private readonly say: Say,
    private readonly readyTimeoutMs: number,
    env: Env,
  ) {
    this.shutdownMs = loadConfig(lifecycleConfig, env).SHUTDOWN_TIMEOUT_MS;
  }

  static missingBuild(services: ServiceProcess[]): string[] {
    return services.filter((s) => !existsSync(s.entry)).map((s) => s.entry);
  }

  async start(): Promise<void> {
    for (const service of this.services) this.spawn(service);
    await Promise.all(this.services.map((s) => this.waitReady(s)));
  }

  private spawn(service: ServiceProcess): void {
    const child = spawn(process.execPath, ['--enable-source-maps', service.entry], {
      env: service.env as NodeJS.ProcessEnv,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    service.child = child;
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      // A service that dies is started again, later each time (at most 30 s), as an init system would.
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(service.restarts, 5));
      service.restarts++;
      this.say(`${service.name} exited (${signal ?? `code ${code}`}); starting it again in ${delay / 1000} s`);
      setTimeout(() => {
        if (!this.stopping) this.spawn(service);
      }, delay).unref();
    });
  }

  private async waitReady(service: ServiceProcess): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      try {
        // The launcher asks its own child on this host: the gateway's certificate need not name this address.
        const res = await request(service.readyUrl, { dispatcher: this.probeAgent, headersTimeout: 2000, bodyTimeout: 2000 });
        await res.body.dump();
        if (res.statusCode === 200) {
          this.say(`${service.name} ready (pid ${service.child?.pid})`);
          return;
        }
      } catch {
        // not listening yet
      }
      if (this.stopping) return;
      if (Date.now() > deadline) throw new Error(`${service.name} was not ready within ${this.readyTimeoutMs} ms (${service.readyUrl})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The gateway first, then the others together; each gets its drain time, then SIGKILL. */
  async stop(): Promise<boolean> {
    this.stopping = true;
    const gateway = this.services.filter((s) => s.name === 'appliance-gateway');
    const others = this.services.filter((s) => s.name !== 'appliance-gateway');
    const first = await Promise.all(gateway.map((s) => this.stopOne(s)));
    const rest = await Promise.all(others.map((s) => this.stopOne(s)));
    return [...first, ...rest].every(Boolean);
  }

  private async stopOne(service: ServiceProcess): Promise<boolean> {
    const child = service.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return true;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const killer = setTimeout(() => {
      this.say(`${service.name} did not stop within ${this.shutdownMs + 5000} ms; killing it`);
      child.kill('SIGKILL');
    }, this.shutdownMs + 5000);
    const code = await exited;
    clearTimeout(killer);
    this.say(`${service.name} stopped${code === 0 ? '' : ` (code ${code})`}`);
    return code === 0;
  }
}
