import {
  SERVICE_NAMES,
  type ApplianceConnectionView,
  TEST_STEP_REMEDIES,
  worstStatus,
  type DiagnosticCheck,
  type DiagnosticsReport,
  type InstanceStatus,
  type ReplyOf,
  type VaultConnectionView,
  type VaultTestResult,
} from '@openecm/contracts';

/** A vault's clock further off than this, either way, is worth a warning: sessions and tokens expire early or late. */
export const CLOCK_SKEW_WARN_SECONDS = 30;

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

export interface JetStreamState {
  /** The lease lifecycle stream, as this deployment's namespace names it. */
  leaseStream: string;
  leaseStreamPresent: boolean;
}

/** What the gateway gathered; every check is worked out from this alone. */
export interface DiagnosticsInput {
  jetstream: Outcome<JetStreamState>;
  instances: Outcome<InstanceStatus[]>;
  /** Absent when no vault-adapters instance answers, so nothing was asked. */
  vaults?: Outcome<VaultConnectionView[]>;
  /** Absent when no token-cache instance answers, or no vault-adapters instance to relay the check. */
  keyring?: Outcome<ReplyOf<'vault.session-keyring.check.v1'>>;
  accounts: ReadonlyArray<{ clientId: string; permissions: readonly string[] }>;
  /** Absent when no user and endpoint were given. */
  target?: { user: string; endpoint: string };
  tests: Record<string, Outcome<VaultTestResult>>;
  clocks: Record<string, Outcome<ReplyOf<'vault.clock.check.v1'>>>;
  /** Absent when no session-reporting instance answers. */
  appliance?: Outcome<ApplianceConnectionView>;
}

/** What to do when a report poll fails at a step (the step is the first word of its error). */
const APPLIANCE_REMEDIES: Readonly<Record<string, string>> = {
  authentication:
    "check the API account's client id and secret (regenerating the secret on the appliance ends the old one) and that it holds the Reporting API permission",
  tls: "add the CA that signed the site's certificate as caBundle (PUT /api/v1/admin/appliance)",
  connect: 'check the URL and port and the network path',
  keys: 'restore the APPLIANCE_SETTINGS_KEYS key the secret was sealed with, or enter the connection again (PUT /api/v1/admin/appliance)',
};

/** The appliance connection as session-reporting keeps it, and how its last report poll went. */
function applianceCheck(input: DiagnosticsInput): DiagnosticCheck {
  const title = 'Appliance connection';
  if (!input.appliance) return check('appliance', title, 'info', 'not checked: no session-reporting instance answers');
  if (!input.appliance.ok) return check('appliance', title, 'warn', `session-reporting did not answer (${failed(input.appliance.error)})`);
  const c = input.appliance.value;
  if (!c.configured) {
    return check('appliance', title, 'info', 'not configured: session reports come only from the appliance posting its events', {
      remedy: "PUT /api/v1/admin/appliance with the site's URL and an API account holding the Reporting API (and Command API) permissions",
    });
  }
  if (c.poll.lastError) {
    const step = c.poll.lastError.slice(0, c.poll.lastError.indexOf(':'));
    const remedy = APPLIANCE_REMEDIES[step] ?? "check that the API account may read the appliance's session reports";
    return check('appliance', title, 'fail', `the last report poll of ${c.url} failed: ${c.poll.lastError}`, { step, remedy });
  }
  if (!c.poll.lastPolledAt) return check('appliance', title, 'info', `${c.url}: not polled yet (every ${c.pollIntervalSeconds} s)`);
  return check('appliance', title, 'ok', `${c.url}: polled every ${c.pollIntervalSeconds} s, last at ${c.poll.lastPolledAt}, resuming from ${c.poll.resumeFrom ?? 'now'}`);
}

function check(id: string, title: string, status: DiagnosticCheck['status'], detail: string, extra: { step?: string; remedy?: string } = {}): DiagnosticCheck {
  return { id, title, status, detail, ...(extra.step ? { step: extra.step } : {}), ...(extra.remedy ? { remedy: extra.remedy } : {}) };
}

function failed(error: { code: string; message: string }): string {
  return `${error.code}: ${error.message}`;
}

function natsCheck(input: DiagnosticsInput): DiagnosticCheck {
  const title = 'NATS and JetStream';
  if (!input.instances.ok) {
    return check('nats', title, 'fail', `the gateway cannot use NATS (${failed(input.instances.error)})`, {
      remedy: 'start nats-server and check NATS_URL on every service',
    });
  }
  if (!input.jetstream.ok) {
    return check('nats', title, 'fail', `JetStream is not available (${failed(input.jetstream.error)})`, {
      remedy: 'run nats-server with JetStream enabled (-js, or jetstream {} in its configuration)',
    });
  }
  const { leaseStream, leaseStreamPresent } = input.jetstream.value;
  if (!leaseStreamPresent) {
    return check('nats', title, 'warn', `JetStream is enabled but the stream ${leaseStream} does not exist yet`, {
      remedy: 'policy-approval creates it when it starts: check that it runs with the same OPENECM_NAMESPACE as the gateway',
    });
  }
  return check('nats', title, 'ok', `connected, JetStream enabled, stream ${leaseStream} present`);
}

function serviceChecks(instances: InstanceStatus[]): DiagnosticCheck[] {
  return SERVICE_NAMES.map((service) => {
    const mine = instances.filter((i) => i.service === service);
    const title = `${service} instances`;
    if (mine.length === 0) {
      return check(`service:${service}`, title, 'fail', 'no instance answers', {
        remedy: `start ${service}; when it exits at start its log names the missing or malformed setting (such as TOKEN_CACHE_KEYS or VAULT_SETTINGS_KEYS); it must use the gateway's NATS_URL and OPENECM_NAMESPACE`,
      });
    }
    const versions = [...new Set(mine.map((i) => i.version))].join(', ');
    const notReady = mine.filter((i) => !i.ready);
    const count = `${mine.length} instance${mine.length === 1 ? '' : 's'}`;
    if (notReady.length > 0) {
      const down = notReady.map((i) => `${i.instance} (${Object.entries(i.checks).filter(([, s]) => s === 'down').map(([n]) => n).join(', ') || 'draining'} down)`);
      return check(`service:${service}`, title, 'fail', `${mine.length - notReady.length} of ${count} ready; not ready: ${down.join('; ')}`, {
        remedy: 'see the checks below for what they cannot reach',
      });
    }
    return check(`service:${service}`, title, 'ok', `${count}, all ready (version ${versions})`);
  });
}

const INFRA = {
  postgres: { title: 'PostgreSQL', remedy: 'check that PostgreSQL runs and that DATABASE_URL points at it' },
  redis: { title: 'Redis', remedy: 'check that Redis runs and that REDIS_URL points at it' },
} as const;

/** PostgreSQL and Redis as the services see them: each instance's own readiness check. */
function infraChecks(instances: InstanceStatus[]): DiagnosticCheck[] {
  return (Object.keys(INFRA) as Array<keyof typeof INFRA>).map((name) => {
    const { title, remedy } = INFRA[name];
    const using = instances.filter((i) => i.checks[name] !== undefined);
    if (using.length === 0) return check(name, title, 'info', 'not checked: no instance that uses it answers');
    const down = using.filter((i) => i.checks[name] === 'down');
    const services = [...new Set(using.map((i) => i.service))].join(', ');
    if (down.length > 0) {
      return check(name, title, 'fail', `unreachable from ${down.map((i) => `${i.service} ${i.instance}`).join(', ')}`, { remedy });
    }
    return check(name, title, 'ok', `reachable from ${services}`);
  });
}

function migrationsCheck(instances: InstanceStatus[]): DiagnosticCheck {
  const title = 'Migrations';
  const owning = instances.filter((i) => i.migrations);
  if (owning.length === 0) return check('migrations', title, 'info', 'not checked: no instance that owns a schema answers');
  const pending = owning.filter((i) => (i.migrations?.pending.length ?? 0) > 0);
  if (pending.length > 0) {
    const what = pending.map((i) => `schema ${i.migrations?.schema}: ${i.migrations?.pending.join(', ')} not applied (${i.service} ${i.instance})`);
    return check('migrations', title, 'fail', what.join('; '), {
      remedy: 'restart the service: it applies its migrations when it starts (its log names a migration that failed)',
    });
  }
  const older = owning.filter((i) => (i.migrations?.unknown.length ?? 0) > 0);
  if (older.length > 0) {
    const what = older.map((i) => `${i.service} ${i.instance} (version ${i.version}) does not know ${i.migrations?.unknown.join(', ')} of schema ${i.migrations?.schema}`);
    return check('migrations', title, 'warn', `instances older than their schema: ${what.join('; ')}`, {
      remedy: 'upgrade these instances to the version that applied the newer migrations',
    });
  }
  const schemas = [...new Set(owning.map((i) => i.migrations?.schema))].sort().join(', ');
  return check('migrations', title, 'ok', `every migration applied (schemas ${schemas})`);
}

/** A connection whose settings do not open with the configured keys: left out of every list and test. */
export function unreadable(view: VaultConnectionView): boolean {
  return view.status === 'unreadable';
}

const VAULT_KEYS_REMEDY =
  'VAULT_SETTINGS_KEYS must still hold the key that sealed these settings: keep the old key after the new one (newId:key,oldId:key), or enter the settings again';

function vaultKeysCheck(input: DiagnosticsInput): DiagnosticCheck {
  const id = 'keys:vault-adapters';
  const title = 'Vault settings keys (VAULT_SETTINGS_KEYS)';
  if (!input.vaults) return check(id, title, 'info', 'not checked: no vault-adapters instance answers');
  if (!input.vaults.ok) return check(id, title, 'fail', `the vault connections cannot be read (${failed(input.vaults.error)})`, { remedy: VAULT_KEYS_REMEDY });
  const closed = input.vaults.value.filter(unreadable).map((v) => v.name);
  if (closed.length > 0) {
    return check(id, title, 'fail', `the settings of ${closed.join(', ')} do not open with the configured keys`, { remedy: VAULT_KEYS_REMEDY });
  }
  const count = input.vaults.value.length;
  return check(id, title, 'ok', count === 0 ? 'no vault connection sealed yet' : `the settings of every vault connection open (${count})`);
}

function tokenKeysCheck(input: DiagnosticsInput): DiagnosticCheck {
  const id = 'keys:token-cache';
  const title = 'Token cache keys (TOKEN_CACHE_KEYS)';
  if (!input.keyring) return check(id, title, 'info', 'not checked: no token-cache instance answers (or no vault-adapters instance to ask it)');
  if (!input.keyring.ok) return check(id, title, 'fail', `the keyring check failed (${failed(input.keyring.error)})`, { remedy: 'check that token-cache reaches Redis' });
  const { keyId, canary, sampled, unreadable: closed } = input.keyring.value;
  if (!canary) {
    return check(id, title, 'fail', `a canary sealed with key ${keyId} did not come back open from Redis`, {
      remedy: 'check that nothing else writes under the token cache keys in Redis (OPENECM_NAMESPACE) and that Redis keeps what it is given',
    });
  }
  if (closed > 0) {
    return check(id, title, 'warn', `${closed} of ${sampled} stored vault sessions do not open with the configured keys`, {
      remedy: 'give every token-cache instance the same TOKEN_CACHE_KEYS, keeping a retired key after the new one; meanwhile the users concerned simply sign in to the vault again',
    });
  }
  return check(id, title, 'ok', `key ${keyId} seals and opens; ${sampled} stored vault session${sampled === 1 ? '' : 's'} sampled, all open`);
}

function accountsCheck(accounts: DiagnosticsInput['accounts']): DiagnosticCheck {
  const title = 'API accounts for the appliance';
  const able = accounts.filter((a) => a.permissions.includes('credentials'));
  if (able.length === 0) {
    return check('api-accounts', title, 'warn', 'no API account holds the credentials permission: an appliance cannot list or inject', {
      remedy: 'openecm api-account create <client-id> --permission credentials, then enter its id and secret in the appliance',
    });
  }
  return check('api-accounts', title, 'ok', `${able.length} account${able.length === 1 ? '' : 's'} with the credentials permission: ${able.map((a) => a.clientId).join(', ')}`);
}

function vaultTestCheck(name: string, input: DiagnosticsInput): DiagnosticCheck {
  const id = `vault:${name}`;
  const title = `Vault ${name}: Test Settings`;
  const target = input.target;
  const outcome = input.tests[name];
  if (!target || !outcome) return check(id, title, 'info', 'not tested: give a user and an endpoint to list for');
  const who = `${target.user} on ${target.endpoint}`;
  if (!outcome.ok) return check(id, title, 'fail', `the test did not run (${failed(outcome.error)})`, { remedy: 'check that vault-adapters runs' });
  const result = outcome.value;
  switch (result.result) {
    case 'ok':
      return result.credentials.length === 0
        ? check(id, title, 'ok', `lists no credential for ${who} (an empty list is a valid answer)`)
        : check(id, title, 'ok', `lists ${result.credentials.length} credential${result.credentials.length === 1 ? '' : 's'} for ${who}`);
    case 'pending':
      return check(id, title, 'warn', `${target.user} has yet to approve: ${result.reason}`, {
        step: 'impersonation',
        remedy: result.approveUrl ? `the user approves the API account at ${result.approveUrl}` : 'the user approves the API account in the vault',
      });
    case 'failed':
      return check(id, title, 'fail', `${result.step} failed for ${who}: ${result.code}: ${result.message}`, { step: result.step, remedy: TEST_STEP_REMEDIES[result.step] });
  }
}

function clockCheck(name: string, input: DiagnosticsInput): DiagnosticCheck {
  const id = `clock:${name}`;
  const title = `Vault ${name}: clock`;
  const outcome = input.clocks[name];
  if (!outcome) return check(id, title, 'info', 'not measured');
  if (!outcome.ok) return check(id, title, 'warn', `not measured (${failed(outcome.error)})`);
  const { skewSeconds, failure } = outcome.value;
  if (failure) return check(id, title, 'info', `not measured: ${failure}`);
  if (skewSeconds === null) return check(id, title, 'info', "not measured: the vault's answer carries no Date header");
  const off = Math.abs(skewSeconds);
  const way = skewSeconds > 0 ? 'ahead of' : 'behind';
  if (off > CLOCK_SKEW_WARN_SECONDS) {
    return check(id, title, 'warn', `the vault's clock is ${off} s ${way} vault-adapters'`, {
      remedy: 'synchronise both hosts with NTP: vault sessions and tokens otherwise expire early or late',
    });
  }
  return check(id, title, 'ok', `within ${Math.max(1, Math.ceil(off))} s of vault-adapters' clock`);
}

function vaultChecks(input: DiagnosticsInput): DiagnosticCheck[] {
  if (!input.vaults?.ok) return [];
  if (input.vaults.value.length === 0) {
    return [check('vaults', 'Vault connections', 'warn', 'no vault is connected: every list is empty', { remedy: 'connect one: PUT /api/v1/admin/vaults/{name}' })];
  }
  return input.vaults.value.filter((v) => !unreadable(v)).flatMap((v) => [vaultTestCheck(v.name, input), clockCheck(v.name, input)]);
}

function logLevelCheck(instances: InstanceStatus[]): DiagnosticCheck {
  const title = 'Log level';
  const switched = instances.filter((i) => i.logLevelRevertsAt);
  const levels = [...new Set(instances.map((i) => i.logLevel))].join(', ') || 'unknown';
  if (switched.length === 0) return check('log-level', title, 'info', `${levels} on every instance (more detail: openecm log-level debug --for 15m)`);
  const until = switched.map((i) => `${i.service} ${i.instance}: ${i.logLevel} until ${i.logLevelRevertsAt}`);
  return check('log-level', title, 'info', `switched at run time on ${until.join('; ')}`);
}

/** Walks the troubleshooting table in order: infrastructure, services, keys, accounts, each vault, the appliance. */
export function evaluate(input: DiagnosticsInput, now = new Date()): DiagnosticsReport {
  const instances = input.instances.ok ? input.instances.value : [];
  const checks = [
    natsCheck(input),
    ...serviceChecks(instances),
    ...infraChecks(instances),
    migrationsCheck(instances),
    vaultKeysCheck(input),
    tokenKeysCheck(input),
    accountsCheck(input.accounts),
    ...vaultChecks(input),
    applianceCheck(input),
    logLevelCheck(instances),
  ];
  return { status: worstStatus(checks), generatedAt: now.toISOString(), checks };
}
