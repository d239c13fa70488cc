import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  OpenEcmError,
  type ErrorCode,
  type HashicorpVaultSettings,
  type HashicorpVaultSource,
  type TestStep,
  type VaultCredential,
  type VaultRef,
  type VaultSystem,
  type VaultTestResult,
} from '@openecm/contracts';
import { SecretValue } from '@openecm/crypto';
import {
  ConnectionClients,
  VaultAddressPolicy,
  VaultTransportError,
  transportError,
  transportStep,
  type Checkout,
  type ConnectionOf,
  type HeldCheckout,
  type HeldSecret,
  type VaultAdapter,
} from '@openecm/vault-sdk';
import { vaultTransportOptions } from '../http/transport-options';
import { assertVaultUrl } from '../http/vault-url';
import { VaultSessionCache } from '../sessions/vault-session-cache';
import { endpointMachines, kvMachines } from '../systems/hashicorp-vault-systems';
import { machineSystems, mapLimit, matchesSearch, searchKey, type MachineFound } from '../systems/systems';
import { HashicorpVaultClient, HashicorpVaultError, tokenDigest, type HashicorpVaultErrorKind, type VaultToken } from './hashicorp-vault.client';
import { KvIndex, type KvListing } from './kv-index';
import { matchesEndpoint, metadataList, userAllowed } from './matching';

type Connection = ConnectionOf<'hashicorp-vault'>;
type LibrarySource = Extract<HashicorpVaultSource, { kind: 'library' }>;
type KvSource = Extract<HashicorpVaultSource, { kind: 'kv' }>;

const ERRORS: Record<HashicorpVaultErrorKind, ErrorCode> = {
  'permission-denied': 'VAULT_FORBIDDEN',
  'bad-credentials': 'VAULT_AUTH_FAILED',
  exhausted: 'CREDENTIAL_IN_USE',
  'not-found': 'VAULT_ACCOUNT_NOT_FOUND',
  'bad-request': 'VAULT_ERROR',
  'not-checked-out-by-caller': 'VAULT_FORBIDDEN',
  unavailable: 'VAULT_UNAVAILABLE',
  unexpected: 'VAULT_ERROR',
};

/** The broker's error for a Vault failure; the client's messages carry no path, token, lease id or Vault's words. */
export function toBrokerError(error: unknown): OpenEcmError {
  if (error instanceof OpenEcmError) return error;
  if (error instanceof HashicorpVaultError) {
    const message = error.kind === 'exhausted' ? `${error.message}: no service account of the set is free for check-out` : error.message;
    return new OpenEcmError(ERRORS[error.kind], message);
  }
  if (error instanceof VaultTransportError) return transportError(error);
  return new OpenEcmError('VAULT_ERROR', 'HashiCorp Vault: unexpected failure');
}

/** The broker signs in to Vault as itself (an AppRole, or the token of the settings): every user shares it. */
const APPLICATION_IDENTITY = '*application*';
/** KV folders are walked this deep at most, and this many secrets at most, so a list stays bounded. */
const KV_MAX_DEPTH = 8;
const KV_MAX_SECRETS = 5_000;
/** How long a KV source's walk is kept (KvIndex): a secret added at Vault is offered within this. */
const KV_INDEX_TTL_MS = 30_000;
/** A token is kept until shortly before Vault's TTL ends. */
const TOKEN_MARGIN = 0.9;

interface Session {
  token: string;
  entityId: string | null;
}

/**
 * HashiCorp Vault and OpenBao: the LDAP secrets engine's service-account library (a check-out lends an account,
 * a check-in makes Vault rotate it), static roles (the current password read, rotated after release), and KV v2
 * secrets whose custom_metadata names the machine and account, for systems Vault does not manage. The broker
 * signs in with AppRole or a token; which users are offered what is the broker's policy plus the `users` lists of
 * the settings or of a secret's metadata. External jump items are the systems those sources name: literal
 * endpoints and KV machines (docs/adapters.md).
 */
@Injectable()
export class HashicorpVaultAdapter implements VaultAdapter<'hashicorp-vault'>, OnApplicationShutdown {
  readonly type = 'hashicorp-vault' as const;
  private readonly logger = new Logger('hashicorp-vault');
  private readonly clients = new ConnectionClients<HashicorpVaultClient, Connection>((connection) => this.newClient(connection));
  private readonly kv = new KvIndex(KV_INDEX_TTL_MS);

  constructor(
    private readonly sessions: VaultSessionCache,
    private readonly addresses: VaultAddressPolicy,
  ) {}

  list(connection: Connection, user: string, endpoint: string): Promise<VaultCredential[]> {
    return this.withToken(connection, (client, token) => listFor(client, token, connection, this.kvOf(client, token, connection), user, endpoint));
  }

  searchSystems(connection: Connection, user: string, search: string, limit: number): Promise<{ systems: VaultSystem[]; truncated: boolean }> {
    return this.withToken(connection, (client, token) => systemsFor(client, token, connection, this.kvOf(client, token, connection), user, search, limit));
  }

  async test(connection: Connection, user: string, endpoint: string): Promise<VaultTestResult> {
    const client = this.newClient(connection);
    let step: TestStep = 'authentication';
    try {
      const signedIn = await signIn(client, connection.settings);
      step = 'search';
      // Test Settings walks KV afresh: what it shows is what Vault holds now
      const credentials = await listFor(client, signedIn.token.token, connection, (source) => kvSecrets(client, signedIn.token.token, source), user, endpoint);
      return { result: 'ok', credentials: credentials.map(({ name, username, domain, scope }) => ({ name, username, domain, scope })) };
    } catch (error) {
      const broker = toBrokerError(error);
      return { result: 'failed', step: transportStep(error, step), code: broker.code, message: broker.message };
    } finally {
      await client.close();
    }
  }

  async checkout(
    connection: Connection,
    input: { leaseId: string; user: string; ref: VaultRef; durationMinutes: number; reason: string },
    record: (vaultRequest: string) => Promise<void>,
  ): Promise<{ username: string; domain: string | null; secret: HeldSecret }> {
    const source = sourceOf(connection, input.ref);
    return this.withToken(connection, async (client, token) => {
      if (source.kind === 'library') {
        const set = await client.readLibrary(token, source.mount, source.set);
        const ttl = Math.min(input.durationMinutes * 60, set.maxTtlSeconds || Number.MAX_SAFE_INTEGER);
        const out = await client.checkOut(token, source.mount, source.set, ttl);
        await record(handleOf({ kind: 'library', mount: source.mount, name: source.set, account: out.account, borrower: tokenDigest(token.reveal()) }));
        return { username: out.account, domain: source.domain ?? null, secret: { type: 'password', value: out.password } };
      }
      if (source.kind === 'static-role') {
        await record(handleOf({ kind: 'static-role', mount: source.mount, name: source.role }));
        const cred = await client.readStaticCred(token, source.mount, source.role);
        return { username: cred.username, domain: source.domain ?? null, secret: { type: 'password', value: cred.password } };
      }
      const path = kvPath(source, input.ref);
      await record(handleOf({ kind: 'kv', mount: source.mount, name: path }));
      const secret = await client.kvRead(token, source.mount, path);
      const password = secret.data[source.passwordKey];
      const account = secret.metadata[source.accountKey];
      if (!password || !account) throw new OpenEcmError('VAULT_ACCOUNT_NOT_FOUND', `HashiCorp Vault: the secret has no ${password ? source.accountKey : source.passwordKey}`);
      return { username: account, domain: secret.metadata[source.domainKey] || null, secret: { type: 'password', value: password } };
    });
  }

  async checkin(connection: Connection, checkout: Checkout & { vaultRequest: string }, input: { rotate: boolean; reason: string }): Promise<{ rotationRequested: boolean }> {
    const handle = parseHandle(checkout.vaultRequest);
    return this.withToken(connection, async (client, token) => {
      if (handle.kind === 'library') {
        // Vault rotates a library account at every check-in; one no longer lent (its lease ran out) was rotated then
        await client.checkIn(token, handle.mount, handle.name, handle.account as string);
        return { rotationRequested: true };
      }
      if (handle.kind === 'static-role' && input.rotate) {
        await client.rotateRole(token, handle.mount, handle.name);
        return { rotationRequested: true };
      }
      return { rotationRequested: false };
    });
  }

  /**
   * The sweep: the library accounts lent to the broker's own entity. A set whose check-in enforcement is disabled
   * may be checked in by anyone, which does not make another entity's loan the broker's: only loans Vault
   * attributes to this entity are named.
   */
  async held(connection: Connection): Promise<HeldCheckout[]> {
    return this.withSession(connection, async (client, session) => {
      const entity = session.entityId ?? (await client.lookupSelf(SecretValue.of(session.token))).entityId;
      if (!entity) return [];
      const token = SecretValue.of(session.token);
      const libraries = connection.settings.sources.filter((s): s is LibrarySource => s.kind === 'library');
      const perSet = await mapLimit(libraries, 4, async (source) =>
        (await client.libraryStatus(token, source.mount, source.set))
          .filter((a) => !a.available && a.borrower === entity)
          .map((a) => ({
            handle: handleOf({ kind: 'library', mount: source.mount, name: source.set, account: a.account, ...(a.borrowerToken ? { borrower: a.borrowerToken } : {}) }),
            ageMs: undefined,
            target: targetOfLibrary(source.mount, source.set),
          })),
      );
      return perSet.flat();
    });
  }

  async release(connection: Connection, _user: string, handle: string): Promise<void> {
    const parsed = parseHandle(handle);
    if (parsed.kind !== 'library') return;
    await this.withToken(connection, (client, token) => client.checkIn(token, parsed.mount, parsed.name, parsed.account as string));
  }

  targetOf(ref: VaultRef): string | undefined {
    return ref['kind'] === 'library' && typeof ref['mount'] === 'string' && typeof ref['set'] === 'string' ? targetOfLibrary(ref['mount'], ref['set']) : undefined;
  }

  sweepIdentities(): string[] {
    return [APPLICATION_IDENTITY];
  }

  async reset(name: string, scope: 'here' | 'everywhere'): Promise<void> {
    this.kv.forget(name);
    await this.clients.drop(name);
    if (scope === 'everywhere') await this.sessions.forget(name);
    else this.sessions.dropHere({ vault: name });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.clients.closeAll();
  }

  /** A KV source's secrets and metadata, from the walk kept for this connection or a new one (KvIndex). */
  private kvOf(client: HashicorpVaultClient, token: SecretValue, connection: Connection): KvSecrets {
    const { name, settings } = connection;
    return (source) => this.kv.get([name, settings.address, settings.namespace ?? '', source.mount, source.path], () => kvSecrets(client, token, source));
  }

  private withToken<T>(connection: Connection, call: (client: HashicorpVaultClient, token: SecretValue) => Promise<T>): Promise<T> {
    return this.withSession(connection, (client, session) => call(client, SecretValue.of(session.token)));
  }

  /**
   * The cached token (one AppRole login per connection however many ask, ADR 6). A 403 with an AppRole token may
   * be a token Vault let expire: signed in again once, and the call made once more; a second 403 stands.
   */
  private async withSession<T>(connection: Connection, call: (client: HashicorpVaultClient, session: Session) => Promise<T>): Promise<T> {
    const client = this.clients.get(connection);
    const settings = connection.settings;
    try {
      if (settings.auth.method === 'token') return await call(client, { token: settings.auth.token, entityId: null });
      const login = async () => {
        const { token, ttlSeconds } = await signIn(client, settings);
        const value = JSON.stringify({ token: token.token.reveal(), entityId: token.entityId } satisfies Session);
        return ttlSeconds > 0 ? { value, ttlSeconds: Math.max(1, Math.floor(ttlSeconds * TOKEN_MARGIN)) } : value;
      };
      const session = await this.sessions.get(connection.name, APPLICATION_IDENTITY, login);
      try {
        return await call(client, JSON.parse(session) as Session);
      } catch (error) {
        if (!(error instanceof HashicorpVaultError && error.kind === 'permission-denied')) throw error;
        this.logger.debug({ vault: connection.name }, 'vault token refused; signing in again');
        const renewed = await this.sessions.renew(connection.name, APPLICATION_IDENTITY, session, login);
        return await call(client, JSON.parse(renewed) as Session);
      }
    } catch (error) {
      throw toBrokerError(error);
    }
  }

  private newClient(connection: Connection): HashicorpVaultClient {
    assertVaultUrl(connection);
    return new HashicorpVaultClient({
      address: connection.settings.address,
      namespace: connection.settings.namespace,
      ...vaultTransportOptions(connection.name, connection.settings, this.addresses, this.logger),
    });
  }
}

async function signIn(client: HashicorpVaultClient, settings: HashicorpVaultSettings): Promise<{ token: VaultToken; ttlSeconds: number }> {
  if (settings.auth.method === 'approle') return client.loginAppRole(settings.auth.mount, settings.auth.roleId, SecretValue.of(settings.auth.secretId));
  const token = SecretValue.of(settings.auth.token);
  // a token that Vault does not know fails here, in the authentication step
  const self = await client.lookupSelf(token).catch((error: unknown) => {
    throw error instanceof HashicorpVaultError && error.kind === 'permission-denied' ? new HashicorpVaultError('bad-credentials', error.message, error.status) : error;
  });
  return { token: { token, entityId: self.entityId }, ttlSeconds: self.ttlSeconds };
}

type KvSecrets = (source: KvSource) => Promise<KvListing>;

async function listFor(client: HashicorpVaultClient, token: SecretValue, connection: Connection, kv: KvSecrets, user: string, endpoint: string): Promise<VaultCredential[]> {
  const settings = connection.settings;
  const base = { vault: connection.name, releaseDurationMinutes: settings.releaseDurationMinutes };
  const perSource = await mapLimit(settings.sources, 4, async (source): Promise<VaultCredential[]> => {
    if (source.kind === 'kv') return listKv(connection, source, await kv(source), user, endpoint);
    if (!matchesEndpoint(source.endpoints, endpoint) || !userAllowed(source.users, user, settings.userMapping)) return [];
    const domain = source.domain ?? null;
    const scope = domain ? 'domain' : 'machine';
    if (source.kind === 'library') {
      const set = await client.readLibrary(token, source.mount, source.set);
      if (set.serviceAccounts.length === 0) return [];
      return [{ ...base, ref: { kind: 'library', mount: source.mount, set: source.set }, name: `${domain ? `${domain}\\` : ''}${source.set}`, username: source.set, domain, scope, rotateAfterRelease: true }];
    }
    const role = await client.readStaticRole(token, source.mount, source.role);
    return [{ ...base, ref: { kind: 'static-role', mount: source.mount, role: source.role }, name: `${domain ?? endpoint}\\${role.username}`, username: role.username, domain, scope, rotateAfterRelease: settings.rotateAfterRelease }];
  });
  return perSource.flat();
}

/**
 * The secrets below a KV source's folder and their custom_metadata: folders walked 8 deep, 5 000 secrets at most,
 * 8 metadata reads at once. `more`: the walk stopped at that bound with secrets left.
 */
async function kvSecrets(client: HashicorpVaultClient, token: SecretValue, source: KvSource): Promise<KvListing> {
  const paths: string[] = [];
  let more = false;
  const walk = async (folder: string, depth: number): Promise<void> => {
    for (const key of await client.listKv(token, source.mount, folder)) {
      if (paths.length >= KV_MAX_SECRETS) {
        more = true;
        return;
      }
      const full = folder ? `${folder}/${key}` : key;
      if (key.endsWith('/')) {
        if (depth < KV_MAX_DEPTH) await walk(full.replace(/\/$/, ''), depth + 1);
      } else {
        paths.push(full);
      }
    }
  };
  await walk(source.path, 0);
  const secrets = await mapLimit(paths, 8, async (path) => ({ path, meta: await client.kvMetadata(token, source.mount, path) }));
  return { secrets, more };
}

/**
 * External jump items: the literal endpoints of the library sets and static roles whose `users` let the user in
 * (checked at Vault, as a list does, only when one matches the search), and the machines of the KV secrets
 * offered to the user, one system per name however many secrets and sources name it.
 */
async function systemsFor(
  client: HashicorpVaultClient,
  token: SecretValue,
  connection: Connection,
  kv: KvSecrets,
  user: string,
  search: string,
  limit: number,
): Promise<{ systems: VaultSystem[]; truncated: boolean }> {
  const needle = searchKey(search);
  const mapping = connection.settings.userMapping;
  const perSource = await mapLimit(connection.settings.sources, 4, async (source): Promise<{ found: MachineFound[]; more: boolean }> => {
    if (source.kind === 'kv') {
      const { secrets, more } = await kv(source);
      return { found: secrets.flatMap(({ meta }) => kvMachines(source, meta, user, mapping)), more };
    }
    const found = endpointMachines(source, user, mapping).filter((m) => matchesSearch([m.machine], needle));
    if (found.length === 0) return { found, more: false };
    if (source.kind === 'library') {
      const set = await client.readLibrary(token, source.mount, source.set);
      return { found: set.serviceAccounts.length > 0 ? found : [], more: false };
    }
    await client.readStaticRole(token, source.mount, source.role);
    return { found, more: false };
  });
  return machineSystems(connection.name, perSource.flatMap((p) => p.found), needle, limit, perSource.some((p) => p.more));
}

function listKv(connection: Connection, source: KvSource, { secrets: found }: KvListing, user: string, endpoint: string): VaultCredential[] {
  const settings = connection.settings;
  return found.flatMap(({ path, meta }): VaultCredential[] => {
    const machines = metadataList(meta[source.machineKey]);
    const account = meta[source.accountKey];
    if (!account || !matchesEndpoint(machines, endpoint)) return [];
    const users = metadataList(meta[source.usersKey]);
    if (!userAllowed(users, user, settings.userMapping)) return [];
    const domain = meta[source.domainKey] || null;
    return [
      {
        vault: connection.name,
        ref: { kind: 'kv', mount: source.mount, path },
        name: `${domain ?? machines[0]}\\${account}`,
        username: account,
        domain,
        scope: domain ? 'domain' : 'machine',
        releaseDurationMinutes: settings.releaseDurationMinutes,
        rotateAfterRelease: false,
      },
    ];
  });
}

/** The configured source a reference names; a reference to anything the settings do not name is refused. */
function sourceOf(connection: Connection, ref: VaultRef): HashicorpVaultSource {
  const found = connection.settings.sources.find((s) => {
    if (s.kind !== ref['kind'] || s.mount !== ref['mount']) return false;
    if (s.kind === 'library') return s.set === ref['set'];
    if (s.kind === 'static-role') return s.role === ref['role'];
    const path = ref['path'];
    return typeof path === 'string' && (s.path === '' || path.startsWith(`${s.path}/`));
  });
  if (!found) throw new OpenEcmError('VAULT_ACCOUNT_NOT_FOUND', `HashiCorp Vault: vault ${connection.name} has no such source`);
  return found;
}

function kvPath(source: KvSource, ref: VaultRef): string {
  const path = ref['path'];
  if (typeof path !== 'string' || path.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new OpenEcmError('VALIDATION_FAILED', 'not a HashiCorp Vault credential reference', [{ field: 'ref', message: 'path expected' }]);
  }
  return source.path === '' || path.startsWith(`${source.path}/`) ? path : `${source.path}/${path}`;
}

/**
 * What a check-out recorded: for a library loan the set, the account and a digest of the token that borrowed it,
 * so an account lent again later (by hand, or with another token) is not taken for the loan a record names.
 */
interface Handle {
  kind: 'library' | 'static-role' | 'kv';
  mount: string;
  name: string;
  account?: string;
  borrower?: string;
}

/** Always the same text for the same loan: the sweep compares handles as text. */
function handleOf(handle: Handle): string {
  const { kind, mount, name, account, borrower } = handle;
  return JSON.stringify({ kind, mount, name, ...(account === undefined ? {} : { account }), ...(borrower === undefined ? {} : { borrower }) });
}

function parseHandle(text: string): Handle {
  const parsed = JSON.parse(text) as Partial<Handle>;
  if (!parsed.kind || !parsed.mount || !parsed.name || (parsed.kind === 'library' && !parsed.account)) throw new OpenEcmError('VAULT_ERROR', 'HashiCorp Vault: a recorded check-out cannot be read');
  return parsed as Handle;
}

function targetOfLibrary(mount: string, set: string): string {
  return `library:${mount}:${set}`;
}

