import { productVersion } from '@openecm/config';
import {
  LOG_LEVEL_REVERT,
  LeaseState,
  LogLevel,
  SERVICE_NAMES,
  TEST_STEP_REMEDIES,
  VaultType,
  vaultTypeOf,
  type AuditVerification,
  type InstanceList,
  type LeaseView,
  type LogLevelAnswer,
  type VaultTestResult,
} from '@openecm/contracts';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runDoctor } from './doctor';
import { describeError, formatDuration, parseDuration, renderChecks, summary, table } from './format';
import { GatewayClient, type Transport } from './gateway-client';
import { SettingsError, resolveSettings } from './settings';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  transport?: Transport;
}

/** Exit codes: 0 all is well, 1 the call failed or not all is well, 2 the command line is wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

interface GlobalOptions {
  url?: string;
  config?: string;
  json?: boolean;
}

interface VaultView {
  name: string;
  type: string;
  settings: Record<string, unknown>;
  updatedAt: string;
  status?: string;
}

interface ApiAccountView {
  clientId: string;
  permissions: string[];
  createdAt: string;
}

type Action = (client: GatewayClient, json: boolean, command: Command) => Promise<number>;

const PERMISSIONS = ['credentials', 'reporting', 'admin', 'approvals'] as const;

function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`a whole number from ${min} to ${max}`);
    return n;
  };
}

function seconds(value: string): number {
  let n: number;
  try {
    n = parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  if (n < 1 || n > LOG_LEVEL_REVERT.maxSeconds) throw new InvalidArgumentError(`from 1s to ${formatDuration(LOG_LEVEL_REVERT.maxSeconds)}`);
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The vault's URL, from the setting its type registers as holding it. */
function vaultUrl(vault: VaultView): string | undefined {
  const type = VaultType.safeParse(vault.type);
  const url = type.success ? vault.settings[vaultTypeOf(type.data).urlField] : undefined;
  return typeof url === 'string' ? url : undefined;
}

/** The `openecm` command line: each command a thin client of the gateway API. */
export function buildProgram(io: Io, exit: (code: number) => void): Command {
  const program = new Command('openecm');
  const json = (value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);

  /** Runs an action with the client the global options describe; any failure is printed and exits 1. */
  const act =
    (action: Action) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const options = command.optsWithGlobals<GlobalOptions>();
      try {
        const settings = resolveSettings({ ...(options.url ? { url: options.url } : {}), ...(options.config ? { config: options.config } : {}) }, io.env);
        for (const warning of settings.warnings) io.err(`warning: ${warning}\n`);
        exit(await action(new GatewayClient(settings, io.transport), options.json === true, command));
      } catch (error) {
        io.err(describeError(error));
        exit(error instanceof SettingsError ? EXIT.usage : EXIT.failed);
      }
    };

  program
    .description('Operate an OpenECM deployment through its gateway API: diagnose it, test vaults, clear the token cache, look at leases, manage API accounts, switch log levels.')
    .version(productVersion(__dirname), '-V, --version')
    .option('--url <url>', 'the gateway (default: OPENECM_URL, the config file, or http://127.0.0.1:8080)')
    .option('--config <file>', 'config file with url, clientId and clientSecret (default: ~/.config/openecm/config.json)')
    .option('--json', 'machine-readable output')
    .showHelpAfterError('(openecm --help shows every command)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .addHelpText(
      'after',
      '\nThe API account (admin permission; lease show and release also need credentials) comes from OPENECM_CLIENT_ID and OPENECM_CLIENT_SECRET, or from the config file.\nExit codes: 0 all is well, 1 a call failed or not all is well, 2 the command line or the configuration is wrong.',
    );

  program
    .command('doctor')
    .description('walk the troubleshooting table: gateway, sign-in, NATS, services, PostgreSQL, Redis, migrations, keys, each vault (Test Settings, clock), the appliance')
    .option('--user <user>', 'the remote-access user to test each vault for (with --endpoint)')
    .option('--endpoint <endpoint>', 'the endpoint to test each vault for (with --user)')
    .action(
      act(async (client, asJson, command) => {
        const { user, endpoint } = command.opts<{ user?: string; endpoint?: string }>();
        if ((user === undefined) !== (endpoint === undefined)) throw new SettingsError('give --user and --endpoint together, or neither');
        const report = await runDoctor(client, { ...(user ? { user } : {}), ...(endpoint ? { endpoint } : {}) });
        if (asJson) json(report);
        else {
          const target = user ? ` (vault tests for ${user} on ${endpoint})` : ' (vault tests skipped: give --user and --endpoint)';
          io.out(`openecm doctor: ${client.url}${target}\n\n${renderChecks(report.checks)}\n\n${summary(report.checks)}\n`);
        }
        return report.status === 'ok' ? EXIT.ok : EXIT.failed;
      }),
    );

  const vault = program.command('vault').description('vault connections');
  vault
    .command('list')
    .description('the vault connections (secrets masked)')
    .action(
      act(async (client, asJson) => {
        const { vaults } = await client.call<{ vaults: VaultView[] }>('GET', '/api/v1/admin/vaults');
        if (asJson) json({ vaults });
        else io.out(table(['NAME', 'TYPE', 'URL', 'STATUS', 'UPDATED'], vaults.map((v) => [v.name, v.type, vaultUrl(v), v.status ?? 'ok', v.updatedAt])));
        return EXIT.ok;
      }),
    );
  vault
    .command('test')
    .description("Test Settings of a saved connection: the list for a user on an endpoint (names only), pending with the approve URL, or the failing step")
    .argument('<name>', 'the vault connection')
    .requiredOption('--user <user>', 'the remote-access user to list for')
    .requiredOption('--endpoint <endpoint>', 'the endpoint to list for')
    .action(
      act(async (client, asJson, command) => {
        const [name] = command.processedArgs as [string];
        const { user, endpoint } = command.opts<{ user: string; endpoint: string }>();
        const result = await client.call<VaultTestResult>('POST', `/api/v1/admin/vaults/${encodeURIComponent(name)}/test`, { user, endpoint }, 150_000);
        if (asJson) json(result);
        else if (result.result === 'ok') {
          io.out(`ok: ${result.credentials.length} credential${result.credentials.length === 1 ? '' : 's'} for ${user} on ${endpoint}${result.credentials.length === 0 ? ' (an empty list is a valid answer)' : ''}\n`);
          if (result.credentials.length > 0) io.out(table(['NAME', 'USERNAME', 'DOMAIN', 'SCOPE'], result.credentials.map((c) => [c.name, c.username, c.domain, c.scope])));
        } else if (result.result === 'pending') {
          io.out(`pending: ${result.reason}\n${result.approveUrl ? `approve at ${result.approveUrl}\n` : ''}`);
        } else {
          io.out(`failed at step ${result.step}: ${result.code}: ${result.message}\n→ ${TEST_STEP_REMEDIES[result.step]}\n`);
        }
        return result.result === 'ok' ? EXIT.ok : EXIT.failed;
      }),
    );

  program
    .command('cache')
    .description('the token cache (vault sessions)')
    .command('clear')
    .description("drop cached vault sessions: all, one vault's or one user's; the next call signs in anew")
    .option('--vault <name>', 'only this vault connection')
    .option('--user <user>', 'only this user')
    .action(
      act(async (client, asJson, command) => {
        const { vault: name, user } = command.opts<{ vault?: string; user?: string }>();
        const query = new URLSearchParams({ ...(name ? { vault: name } : {}), ...(user ? { user } : {}) }).toString();
        const result = await client.call<{ deleted: number }>('DELETE', `/api/v1/admin/token-cache${query ? `?${query}` : ''}`);
        if (asJson) json(result);
        else io.out(`cleared ${result.deleted} vault session${result.deleted === 1 ? '' : 's'}\n`);
        return EXIT.ok;
      }),
    );

  program
    .command('keys')
    .description('the keys things are sealed with')
    .command('reseal')
    .description('seal everything kept at rest again under the active key of VAULT_SETTINGS_KEYS, so an older key can be removed')
    .action(
      act(async (client, asJson) => {
        type Counts = { resealed: number; current: number; unreadable: number };
        const result = await client.call<{ activeKey: string; connections: Counts; checkouts: Counts }>('POST', '/api/v1/admin/keys/reseal');
        if (asJson) json(result);
        else {
          for (const [kind, c] of [['vault connections', result.connections], ['check-outs', result.checkouts]] as const) {
            io.out(`${kind}: ${c.resealed} sealed again under ${result.activeKey}, ${c.current} already were, ${c.unreadable} unreadable\n`);
          }
        }
        return result.connections.unreadable + result.checkouts.unreadable === 0 ? EXIT.ok : EXIT.failed;
      }),
    );

  const audit = program.command('audit').description('the tamper-evident record of every credential use and every change');
  audit
    .command('verify')
    .description('walk the HMAC chain and name the first record changed, removed or out of its place; exit 0 only when it holds')
    .action(
      act(async (client, asJson) => {
        const result = await client.call<AuditVerification>('POST', '/api/v1/admin/audit/verify', undefined, 10 * 60_000);
        if (asJson) json(result);
        else if (result.ok) io.out(`the chain holds: ${result.checked} records checked, ${result.unchained} not linked yet\n`);
        else {
          const p = result.firstProblem;
          io.out(`the chain does not hold after ${result.checked} records: ${p ? `${p.problem} at record ${p.seq}${p.position ? ` (position ${p.position})` : ''}: ${p.detail}` : 'no detail'}\n`);
        }
        return result.ok ? EXIT.ok : EXIT.failed;
      }),
    );
  audit
    .command('export')
    .description('every record, oldest first, as JSON lines (one record a line) on standard output, for a SIEM')
    .option('--from <time>', 'records at or after this ISO 8601 time')
    .option('--to <time>', 'records before this ISO 8601 time')
    .action(
      act(async (client, _asJson, command) => {
        const opts = command.opts<{ from?: string; to?: string }>();
        const query = new URLSearchParams({ ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}) });
        await client.stream(`/api/v1/admin/audit/export${query.size > 0 ? `?${query}` : ''}`, (text) => io.out(text));
        return EXIT.ok;
      }),
    );

  const lease = program.command('lease').description('leases: the check-outs of injected credentials');
  lease
    .command('list')
    .description('leases, newest first')
    .addOption(new Option('--state <state>', 'only leases in this state').choices(LeaseState.options))
    .option('--user <user>', 'only this user’s leases')
    .option('--limit <n>', 'leases per page (1 to 200)', wholeNumber(1, 200), 50)
    .option('--cursor <cursor>', 'the page after the one that printed it')
    .option('--all', 'every page')
    .action(
      act(async (client, asJson, command) => {
        const opts = command.opts<{ state?: string; user?: string; limit: number; cursor?: string; all?: boolean }>();
        const leases: LeaseView[] = [];
        let cursor = opts.cursor;
        let nextCursor: string | null;
        do {
          const query = new URLSearchParams({ limit: String(opts.limit), ...(opts.state ? { state: opts.state } : {}), ...(opts.user ? { user: opts.user } : {}), ...(cursor ? { cursor } : {}) });
          const page = await client.call<{ leases: LeaseView[]; nextCursor: string | null }>('GET', `/api/v1/leases?${query}`);
          leases.push(...page.leases);
          nextCursor = page.nextCursor;
          cursor = nextCursor ?? undefined;
        } while (opts.all && nextCursor);
        if (asJson) json({ leases, nextCursor });
        else {
          io.out(table(['LEASE', 'STATE', 'USER', 'ENDPOINT', 'CREDENTIAL', 'VAULT', 'OPENED', 'ROTATION'], leases.map((l) => [l.leaseId, l.state, l.user, l.endpoint, l.credentialName, l.vault, l.openedAt, l.rotation])));
          if (nextCursor) io.out(`more: openecm lease list --cursor ${nextCursor}\n`);
        }
        return EXIT.ok;
      }),
    );
  lease
    .command('show')
    .description('one lease, its state and rotation')
    .argument('<leaseId>')
    .action(
      act(async (client, asJson, command) => {
        const [id] = command.processedArgs as [string];
        const view = await client.call<LeaseView>('GET', `/api/v1/leases/${encodeURIComponent(id)}`);
        if (asJson) json(view);
        else io.out(table(['FIELD', 'VALUE'], Object.entries(view).map(([k, v]) => [k, v !== null && typeof v === 'object' ? JSON.stringify(v) : (v as string | null)])));
        return EXIT.ok;
      }),
    );
  lease
    .command('release')
    .description('check the credential in at the vault now (rotated when the connection says so); releasing twice answers the first release')
    .argument('<leaseId>')
    .action(
      act(async (client, asJson, command) => {
        const [id] = command.processedArgs as [string];
        const result = await client.call<{ leaseId: string; releasedAt: string; rotation: string }>('POST', `/api/v1/leases/${encodeURIComponent(id)}/release`);
        if (asJson) json(result);
        else io.out(`released ${result.leaseId} at ${result.releasedAt}; rotation ${result.rotation}\n`);
        return EXIT.ok;
      }),
    );

  const account = program.command('api-account').description('the API accounts appliances and operators sign in with');
  account
    .command('create')
    .description('a new account; its generated client secret is shown once, in this answer only')
    .argument('<clientId>')
    .addOption(new Option('--permission <permission>', 'a permission to grant (repeat for more)').choices(PERMISSIONS).argParser(collect).makeOptionMandatory())
    .action(
      act(async (client, asJson, command) => {
        const [clientId] = command.processedArgs as [string];
        const { permission } = command.opts<{ permission: string[] }>();
        const created = await client.call<ApiAccountView & { clientSecret: string }>('POST', '/api/v1/admin/api-accounts', { clientId, permissions: permission });
        if (asJson) json(created);
        else io.out(`created ${created.clientId} with ${created.permissions.join(', ')}\nclient secret (shown this once, keep it safe): ${created.clientSecret}\n`);
        return EXIT.ok;
      }),
    );
  account
    .command('list')
    .description('every account, without secrets')
    .action(
      act(async (client, asJson) => {
        const { accounts } = await client.call<{ accounts: ApiAccountView[] }>('GET', '/api/v1/admin/api-accounts');
        if (asJson) json({ accounts });
        else io.out(table(['CLIENT ID', 'PERMISSIONS', 'CREATED'], accounts.map((a) => [a.clientId, a.permissions.join(','), a.createdAt])));
        return EXIT.ok;
      }),
    );
  account
    .command('delete')
    .description('delete an account; its tokens stop working')
    .argument('<clientId>')
    .action(
      act(async (client, asJson, command) => {
        const [clientId] = command.processedArgs as [string];
        const result = await client.call<{ clientId: string; deleted: boolean }>('DELETE', `/api/v1/admin/api-accounts/${encodeURIComponent(clientId)}`);
        if (asJson) json(result);
        else io.out(`deleted ${result.clientId}\n`);
        return EXIT.ok;
      }),
    );

  program
    .command('log-level')
    .description("switch the log level of every running instance (or one service's) now, without a restart; each returns to its LOG_LEVEL after --for")
    .addArgument(new Argument('<level>').choices(LogLevel.options))
    .addOption(new Option('--service <service>', 'only this service').choices(SERVICE_NAMES))
    .option('--for <duration>', `how long it holds, e.g. 90s, 10m, 1h (default ${formatDuration(LOG_LEVEL_REVERT.defaultSeconds)}, at most ${formatDuration(LOG_LEVEL_REVERT.maxSeconds)})`, seconds)
    .action(
      act(async (client, asJson, command) => {
        const [level] = command.processedArgs as [string];
        const { service, for: holdSeconds } = command.opts<{ service?: string; for?: number }>();
        const answer = await client.call<LogLevelAnswer>('PUT', '/api/v1/admin/log-level', {
          level,
          ...(service ? { service } : {}),
          ...(holdSeconds ? { revertAfterSeconds: holdSeconds } : {}),
        });
        if (asJson) json(answer);
        else {
          io.out(table(['SERVICE', 'INSTANCE', 'LEVEL', 'REVERTS AT'], answer.applied.map((a) => [a.service, a.instance, a.level, a.revertsAt ?? 'stays (the configured level)'])));
          io.out(`${answer.level} on ${answer.applied.length} instance${answer.applied.length === 1 ? '' : 's'} of ${answer.service ?? 'every service'} for ${formatDuration(answer.revertAfterSeconds)}, then each returns to its LOG_LEVEL\n`);
        }
        return answer.applied.length > 0 ? EXIT.ok : EXIT.failed;
      }),
    );

  program
    .command('instances')
    .description('every running instance of every service: version, uptime, readiness, log level')
    .action(
      act(async (client, asJson) => {
        const { instances } = await client.call<InstanceList>('GET', '/api/v1/admin/instances');
        if (asJson) json({ instances });
        else {
          io.out(
            table(
              ['SERVICE', 'INSTANCE', 'VERSION', 'UPTIME', 'READY', 'LOG LEVEL'],
              instances.map((i) => [i.service, i.instance, i.version, formatDuration(i.uptimeSeconds), i.ready ? 'yes' : `no (${Object.entries(i.checks).filter(([, s]) => s === 'down').map(([n]) => n).join(', ')})`, i.logLevel]),
            ),
          );
        }
        return EXIT.ok;
      }),
    );

  return program;
}

/** Parses and runs one command line; answers the exit code. */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  program.exitOverride();
  for (const command of allCommands(program)) command.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // help and version end the way a mistake does, with exit code 0; commander has printed what went wrong
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  return code;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}
