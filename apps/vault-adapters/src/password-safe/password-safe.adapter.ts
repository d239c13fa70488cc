import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { jumpItemsConfig, loadConfig, vaultAdaptersConfig } from '@openecm/config';
import { SecretValue } from '@openecm/crypto';
import {
  OpenEcmError,
  type ErrorCode,
  type PasswordSafeSettings,
  type TestStep,
  type VaultCredential,
  type VaultRef,
  type VaultTestResult,
} from '@openecm/contracts';
import type { ConnectionOf } from '../connections/connections.service';

type VaultConnection = ConnectionOf<'password-safe'>;
import type { Checkout } from '../credentials/checkout.repository';
import type { HeldCheckout, HeldSecret, VaultAdapter } from '../credentials/vault-adapter';
import { PasswordSafeSystems } from '../systems/password-safe-systems';
import type { SystemsOrPending } from '../systems/systems';
import { VaultSessionCache } from '../sessions/vault-session-cache';
import { ConnectionClients, ShortLived, VaultAddressPolicy } from '@openecm/vault-sdk';
import { vaultTransportOptions } from '../http/transport-options';
import { assertVaultUrl } from '../http/vault-url';
import {
  PasswordSafeClient,
  PasswordSafeError,
  runAsProblem,
  vaultDate,
  withSessionRetry,
  type ManagedAccount,
  type ManagedSystem,
  type PasswordSafeErrorKind,
  type PasswordSafeSession,
} from './password-safe.client';

const ERRORS: Record<PasswordSafeErrorKind, ErrorCode> = {
  'session-expired': 'VAULT_AUTH_FAILED',
  'bad-credentials': 'VAULT_AUTH_FAILED',
  licence: 'VAULT_ERROR',
  'api-disabled': 'VAULT_ERROR',
  forbidden: 'VAULT_FORBIDDEN',
  'approver-only': 'VAULT_FORBIDDEN',
  'approval-pending': 'VAULT_APPROVAL_PENDING',
  conflict: 'CREDENTIAL_IN_USE',
  'not-found': 'VAULT_ACCOUNT_NOT_FOUND',
  'bad-request': 'VAULT_ERROR',
  tls: 'VAULT_TLS_ERROR',
  'address-refused': 'VAULT_ADDRESS_REFUSED',
  unavailable: 'VAULT_UNAVAILABLE',
  unexpected: 'VAULT_ERROR',
};

/** The broker's error for a Password Safe failure; the client's messages are free of secrets by construction. */
export function toBrokerError(error: unknown): OpenEcmError {
  if (error instanceof OpenEcmError) return error;
  if (error instanceof PasswordSafeError) return new OpenEcmError(ERRORS[error.kind], `Password Safe: ${error.message}`);
  return new OpenEcmError('VAULT_ERROR', 'Password Safe: unexpected failure');
}

/** Password Safe sessions die after an idle time, so each use extends the cached entry. */
const IDLE_SESSION = { sliding: true };

/** In OAuth mode the broker signs in as the application, so all users share its session. */
const APPLICATION_IDENTITY = '*application*';

/**
 * BeyondTrust Password Safe. In API-key mode it signs in as the remote-access user (`runas`), so Password
 * Safe filters what that user may request; in OAuth mode it signs in as the application and the broker's
 * policy alone filters.
 */
@Injectable()
export class PasswordSafeAdapter implements VaultAdapter<'password-safe'>, OnApplicationShutdown {
  readonly type = 'password-safe' as const;
  private readonly logger = new Logger('password-safe');
  private readonly clients = new ConnectionClients<PasswordSafeClient, VaultConnection>((connection) => this.newClient(connection));
  private readonly systems = systemsFrom(loadConfig(jumpItemsConfig));
  /** Each identity's managed systems, which every list reads before it picks the endpoint's (VAULT_SYSTEMS_CACHE_SECONDS). */
  private readonly managedSystems = new ShortLived<ManagedSystem[]>(loadConfig(vaultAdaptersConfig).VAULT_SYSTEMS_CACHE_SECONDS * 1000);

  constructor(
    private readonly sessions: VaultSessionCache,
    private readonly addresses: VaultAddressPolicy,
  ) {}

  async list(connection: VaultConnection, user: string, endpoint: string): Promise<VaultCredential[]> {
    const scope = [connection.name, connection.settings.baseUrl, identityOf(connection, user)];
    return this.withSession(connection, user, (client, session) =>
      listFor(client, session, connection, endpoint, () => this.managedSystems.get(scope, () => client.listManagedSystems(session))),
    );
  }

  /**
   * Test Settings: the listing with the settings as given, signed in afresh (nothing read from or written to
   * the cache), answering the failing step and the vault's own message instead of throwing.
   */
  async test(connection: VaultConnection, user: string, endpoint: string): Promise<VaultTestResult> {
    const client = this.newClient(connection);
    let step: TestStep = 'authentication';
    try {
      assertRunAsUser(connection, user);
      const settings = connection.settings;
      const session =
        settings.auth.mode === 'api-key'
          ? await client.signInWithApiKey({ apiKey: SecretValue.of(settings.auth.apiKey), runAs: user })
          : await client.signInWithOAuth({ clientId: settings.auth.clientId, clientSecret: SecretValue.of(settings.auth.clientSecret) });
      step = 'search';
      const credentials = await listFor(client, session, connection, endpoint, () => client.listManagedSystems(session));
      await client.signOut(session).catch(() => undefined);
      return {
        result: 'ok',
        credentials: credentials.map(({ name, username, domain, scope }) => ({ name, username, domain, scope })),
      };
    } catch (error) {
      const broker = toBrokerError(error);
      return { result: 'failed', step: testStep(error, step), code: broker.code, message: broker.message };
    } finally {
      await client.close();
    }
  }

  async checkout(
    connection: VaultConnection,
    input: { leaseId: string; user: string; ref: VaultRef; durationMinutes: number; reason: string },
    record: (vaultRequest: string) => Promise<void>,
  ) {
    const ref = parseRef(input.ref);
    return this.withSession(connection, input.user, async (client, session) => {
      const requestId = await client.createRequest(session, {
        systemId: ref.systemId,
        accountId: ref.accountId,
        durationMinutes: input.durationMinutes,
        reason: input.reason,
        accessType: 'View',
        rotateOnCheckin: connection.settings.rotateAfterRelease,
      });
      // The handle is recorded while the secret is read, and the answer waits for both: a failure of either
      // still leaves the request recorded (or, if the record failed, the intent the release path reclaims from).
      const [recorded, read] = await Promise.allSettled([record(String(requestId)), client.getCredential(session, requestId)]);
      if (recorded.status === 'rejected') throw recorded.reason;
      if (read.status === 'rejected') throw read.reason;
      const password = read.value;
      return { username: ref.account, domain: ref.domain, secret: { type: 'password' as const, value: password } satisfies HeldSecret };
    });
  }

  /**
   * Password Safe answers a new request for the same account with the caller's open one (`ConflictOption:
   * reuse`), so asking again as the same user names the request a lost answer left behind; when there was
   * none, the request made here is the one checked in next.
   */
  async reclaim(connection: VaultConnection, checkout: Checkout): Promise<string> {
    const ref = parseRef(checkout.ref);
    return this.withSession(connection, checkout.user, async (client, session) =>
      String(
        await client.createRequest(session, {
          systemId: ref.systemId,
          accountId: ref.accountId,
          durationMinutes: checkout.durationMinutes ?? 1,
          reason: 'OpenECM: checking in a check-out whose answer was lost',
          accessType: 'View',
          rotateOnCheckin: connection.settings.rotateAfterRelease,
        }),
      ),
    );
  }

  async checkin(connection: VaultConnection, checkout: Checkout & { vaultRequest: string }, input: { rotate: boolean; reason: string }) {
    const requestId = Number(checkout.vaultRequest);
    return this.withSession(connection, checkout.user, async (client, session) => {
      try {
        // Asked once, with the request, when the connection rotates after release; only a rotation the
        // request was not made with is asked for here.
        if (input.rotate && !connection.settings.rotateAfterRelease) await client.rotateOnCheckin(session, requestId);
        await client.checkin(session, requestId, input.reason);
      } catch (error) {
        // the vault already ended the request (its duration ran out): it rotated then, per the request's flag
        if (!(error instanceof PasswordSafeError && error.kind === 'not-found')) throw error;
      }
      return { rotationRequested: input.rotate };
    });
  }

  /**
   * The sweep: the active requests of the signed-in identity (the run-as user in API-key mode, the application in
   * OAuth mode), each aged by the vault's clock (its `Date` against the request's `RequestReleaseDate`).
   */
  async held(connection: VaultConnection, user: string): Promise<HeldCheckout[]> {
    return this.withSession(connection, user, async (client, session) => {
      const { requests, vaultNow } = await client.listActiveRequests(session);
      const now = vaultNow ?? Date.now();
      return requests.map((r) => {
        const began = vaultDate(r.RequestReleaseDate) ?? vaultDate(r.ApprovedDate);
        return {
          handle: String(r.RequestID),
          ageMs: began === undefined ? undefined : now - began,
          target: typeof r.SystemID === 'number' && typeof r.AccountID === 'number' ? `${r.SystemID}:${r.AccountID}` : undefined,
        };
      });
    });
  }

  /**
   * Checks in an orphaned request; when the connection rotates after release, the rotation is asked for first
   * (a request made by hand may lack it). A request the vault already ended counts as checked in.
   */
  async release(connection: VaultConnection, user: string, handle: string): Promise<void> {
    const requestId = Number(handle);
    await this.withSession(connection, user, async (client, session) => {
      try {
        if (connection.settings.rotateAfterRelease) await client.rotateOnCheckin(session, requestId);
        await client.checkin(session, requestId, 'OpenECM: checking in a request no lease holds');
      } catch (error) {
        if (!(error instanceof PasswordSafeError && error.kind === 'not-found')) throw error;
      }
    });
  }

  targetOf(ref: VaultRef): string | undefined {
    const { systemId, accountId } = ref;
    return typeof systemId === 'number' && typeof accountId === 'number' ? `${systemId}:${accountId}` : undefined;
  }

  /** OAuth: the application holds every request; API key: each run-as user holds their own. */
  sweepIdentities(connection: VaultConnection, users: readonly string[]): string[] {
    if (connection.settings.auth.mode === 'oauth') return [APPLICATION_IDENTITY];
    const seen = new Map<string, string>();
    for (const user of users) if (!runAsProblem(user) && !seen.has(user.toLowerCase())) seen.set(user.toLowerCase(), user);
    return [...seen.values()];
  }

  /**
   * External jump items: the managed systems this user may request an account on (as the run-as user in API-key
   * mode), reached over RDP or SSH, whose name, host name, DNS name or IP address contains `search`.
   */
  async searchSystems(connection: VaultConnection, user: string, search: string, limit: number): Promise<SystemsOrPending> {
    const identity = connection.settings.auth.mode === 'api-key' ? user.trim().toLowerCase() : APPLICATION_IDENTITY;
    return this.withSession(connection, user, (client, session) => this.systems.search(connection.name, connection.settings.baseUrl, identity, client, session, search, limit));
  }

  async reset(name: string, scope: 'here' | 'everywhere'): Promise<void> {
    this.systems.forget(name);
    this.managedSystems.forget(name);
    await this.clients.drop(name);
    if (scope === 'everywhere') await this.sessions.forget(name);
    else this.sessions.dropHere({ vault: name });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.clients.closeAll();
  }

  private async withSession<T>(
    connection: VaultConnection,
    user: string,
    call: (client: PasswordSafeClient, session: PasswordSafeSession) => Promise<T>,
  ): Promise<T> {
    assertRunAsUser(connection, user);
    const client = this.clients.get(connection);
    const settings = connection.settings;
    const identity = identityOf(connection, user);
    const signIn = async () => {
      const session =
        settings.auth.mode === 'api-key'
          ? await client.signInWithApiKey({ apiKey: SecretValue.of(settings.auth.apiKey), runAs: user })
          : await client.signInWithOAuth({ clientId: settings.auth.clientId, clientSecret: SecretValue.of(settings.auth.clientSecret) });
      return JSON.stringify(session);
    };
    try {
      return await withSessionRetry(
        async () => JSON.parse(await this.sessions.get(connection.name, identity, signIn, IDLE_SESSION)) as PasswordSafeSession,
        async (stale) => {
          this.logger.debug({ vault: connection.name }, 'vault session expired; signing in again');
          return JSON.parse(await this.sessions.renew(connection.name, identity, JSON.stringify(stale), signIn, IDLE_SESSION)) as PasswordSafeSession;
        },
        (session) => call(client, session),
      );
    } catch (error) {
      throw toBrokerError(error);
    }
  }

  private newClient(connection: VaultConnection): PasswordSafeClient {
    assertVaultUrl(connection);
    return new PasswordSafeClient({
      baseUrl: connection.settings.baseUrl,
      ...vaultTransportOptions(connection.name, connection.settings, this.addresses, this.logger),
    });
  }
}

/**
 * In API-key mode Password Safe is signed in to as the user, named in the PS-Auth header: a name that header
 * cannot carry is the caller's mistake (400 naming `user`), found before the cache or the vault is asked, never
 * a vault that seems unreachable and is retried.
 */
function assertRunAsUser(connection: VaultConnection, user: string): void {
  if (connection.settings.auth.mode !== 'api-key') return;
  const problem = runAsProblem(user);
  if (problem) throw new OpenEcmError('VALIDATION_FAILED', `invalid user for vault ${connection.name}: user (${problem})`, [{ field: 'user', message: problem }]);
}

function systemsFrom(config: { JUMP_ITEMS_CACHE_SECONDS: number; JUMP_ITEMS_INVENTORY_SECONDS: number }): PasswordSafeSystems {
  return new PasswordSafeSystems({ inventoryTtlMs: config.JUMP_ITEMS_INVENTORY_SECONDS * 1000, entitlementTtlMs: config.JUMP_ITEMS_CACHE_SECONDS * 1000 });
}

/** Who the broker signs in as: the user in API-key mode, the application (the same for everyone) in OAuth mode. */
function identityOf(connection: VaultConnection, user: string): string {
  return connection.settings.auth.mode === 'api-key' ? user : APPLICATION_IDENTITY;
}

async function listFor(
  client: PasswordSafeClient,
  session: PasswordSafeSession,
  connection: VaultConnection,
  endpoint: string,
  managedSystems: () => Promise<ManagedSystem[]>,
): Promise<VaultCredential[]> {
  const target = endpoint.toLowerCase();
  const systems = (await managedSystems()).filter((s) => matchesEndpoint(s, target));
  const out = new Map<string, VaultCredential>();
  for (const system of systems) {
    const [local, linked] = await Promise.all([
      client.listManagedAccounts(session, { systemId: system.ManagedSystemID }),
      client.listManagedAccounts(session, { systemId: system.ManagedSystemID, type: 'domainlinked' }),
    ]);
    for (const account of [...local, ...linked]) {
      const credential = toCredential(connection.name, connection.settings, system, account);
      out.set(JSON.stringify(credential.ref), credential);
    }
  }
  return [...out.values()];
}

/** Which step of a listing failed, for Test Settings: the transport tells TLS and connect apart. */
function testStep(error: unknown, reached: TestStep): TestStep {
  if (error instanceof PasswordSafeError) {
    if (error.kind === 'tls') return 'tls';
    if (error.kind === 'address-refused') return 'connect';
    if (error.kind === 'unavailable' && error.transportCode) return 'connect';
  }
  return reached;
}

function matchesEndpoint(system: ManagedSystem, endpoint: string): boolean {
  return [system.HostName, system.DnsName, system.IPAddress, system.SystemName].some(
    (v) => typeof v === 'string' && v.toLowerCase().replace(/\.$/, '') === endpoint,
  );
}

/** Directory accounts come as `DOMAIN\account` or a UPN; local ones as the bare account name. */
function splitAccount(account: ManagedAccount): { name: string; domain: string | null } {
  const raw = account.AccountName;
  const slash = raw.indexOf('\\');
  if (slash > 0) return { domain: raw.slice(0, slash), name: raw.slice(slash + 1) };
  if (account.DomainName) return { domain: account.DomainName, name: raw };
  return { domain: null, name: raw };
}

function toCredential(vault: string, settings: PasswordSafeSettings, system: ManagedSystem, account: ManagedAccount): VaultCredential {
  const { name, domain } = splitAccount(account);
  const scope = domain ? 'domain' : 'machine';
  const max = account.MaximumReleaseDuration ?? system.MaxReleaseDuration ?? undefined;
  return {
    vault,
    ref: { systemId: account.SystemId, accountId: account.AccountId, account: name, ...(domain ? { domain } : {}) },
    name: domain ? `${domain}\\${name}` : `${system.SystemName}\\${name}`,
    username: name,
    domain,
    scope,
    releaseDurationMinutes: max ? Math.min(settings.releaseDurationMinutes, max) : settings.releaseDurationMinutes,
    rotateAfterRelease: settings.rotateAfterRelease,
  };
}

function parseRef(ref: VaultRef): { systemId: number; accountId: number; account: string; domain: string | null } {
  const { systemId, accountId, account, domain } = ref;
  if (typeof systemId !== 'number' || typeof accountId !== 'number' || typeof account !== 'string') {
    throw new OpenEcmError('VALIDATION_FAILED', 'not a Password Safe credential reference', [{ field: 'ref', message: 'systemId, accountId and account expected' }]);
  }
  return { systemId, accountId, account, domain: typeof domain === 'string' ? domain : null };
}
