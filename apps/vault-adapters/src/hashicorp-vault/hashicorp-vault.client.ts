import { createHash } from 'node:crypto';
import { SecretValue } from '@openecm/crypto';
import { VaultHttp, VaultTransportError, type VaultHttpAnswer, type VaultHttpLogger, type VaultTransportOptions } from '@openecm/vault-sdk';

export type HashicorpVaultErrorKind = 'permission-denied' | 'bad-credentials' | 'exhausted' | 'not-found' | 'bad-request' | 'not-checked-out-by-caller' | 'unavailable' | 'unexpected';

/**
 * A failure at Vault. The message names the call by its fixed label and the status, never a path, a token, a
 * lease id or Vault's own words (they go to the debug log, shortened).
 */
export class HashicorpVaultError extends Error {
  constructor(
    readonly kind: HashicorpVaultErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HashicorpVaultError';
  }
}

export interface HashicorpVaultClientOptions extends VaultTransportOptions {
  address: string;
  namespace?: string | undefined;
}

/** A Vault token and the entity it belongs to: what the broker caches per connection. */
export interface VaultToken {
  token: SecretValue;
  entityId: string | null;
}

export interface LibrarySet {
  serviceAccounts: string[];
  ttlSeconds: number;
  maxTtlSeconds: number;
  disableCheckInEnforcement: boolean;
}

const NO_ACCOUNTS = /no service accounts available/i;
const NOT_CALLERS = /wasn't checked out by the caller|not checked out by/i;

const path = (...segments: string[]): string => segments.map((s) => s.split('/').map(encodeURIComponent).join('/')).join('/');

/** The HTTP calls of HashiCorp Vault / OpenBao the broker makes, on the shared transport. */
export class HashicorpVaultClient {
  private readonly http: VaultHttp;
  private readonly base: string;
  private readonly namespace: string | undefined;
  private readonly logger: VaultHttpLogger | undefined;

  constructor(options: HashicorpVaultClientOptions) {
    this.http = new VaultHttp({ ...options, vault: 'HashiCorp Vault' });
    this.base = `${options.address.replace(/\/+$/, '')}/v1/`;
    this.namespace = options.namespace;
    this.logger = options.logger;
  }

  close(): Promise<void> {
    return this.http.close();
  }

  async loginAppRole(mount: string, roleId: string, secretId: SecretValue): Promise<{ token: VaultToken; ttlSeconds: number }> {
    const body = await this.call('POST auth/{mount}/login', 'POST', path('auth', mount, 'login'), undefined, { role_id: roleId, secret_id: secretId.reveal() });
    const auth = record(body['auth']);
    const clientToken = auth['client_token'];
    if (typeof clientToken !== 'string' || clientToken === '') throw new HashicorpVaultError('unexpected', 'HashiCorp Vault answered the AppRole login without a token');
    const ttl = typeof auth['lease_duration'] === 'number' ? auth['lease_duration'] : 0;
    return { token: { token: SecretValue.of(clientToken), entityId: stringOrNull(auth['entity_id']) }, ttlSeconds: ttl };
  }

  async lookupSelf(token: SecretValue): Promise<{ entityId: string | null; ttlSeconds: number }> {
    const data = record((await this.call('GET auth/token/lookup-self', 'GET', 'auth/token/lookup-self', token))['data']);
    return { entityId: stringOrNull(data['entity_id']), ttlSeconds: typeof data['ttl'] === 'number' ? data['ttl'] : 0 };
  }

  async readLibrary(token: SecretValue, mount: string, set: string): Promise<LibrarySet> {
    const data = record((await this.call('GET {mount}/library/{set}', 'GET', path(mount, 'library', set), token))['data']);
    const names = Array.isArray(data['service_account_names']) ? data['service_account_names'].filter((n): n is string => typeof n === 'string') : [];
    return {
      serviceAccounts: names,
      ttlSeconds: typeof data['ttl'] === 'number' ? data['ttl'] : 0,
      maxTtlSeconds: typeof data['max_ttl'] === 'number' ? data['max_ttl'] : 0,
      disableCheckInEnforcement: data['disable_check_in_enforcement'] === true,
    };
  }

  /** Each account of the set: whether it is lent, and to which entity. */
  /** Each account of the set: whether it is lent, to which entity, and a digest of the token that borrowed it (never the token). */
  async libraryStatus(token: SecretValue, mount: string, set: string): Promise<Array<{ account: string; available: boolean; borrower: string | null; borrowerToken: string | null }>> {
    const data = record((await this.call('GET {mount}/library/{set}/status', 'GET', path(mount, 'library', set, 'status'), token))['data']);
    return Object.entries(data).map(([account, value]) => {
      const status = record(value);
      const borrowerToken = stringOrNull(status['borrower_client_token']);
      return { account, available: status['available'] !== false, borrower: stringOrNull(status['borrower_entity_id']), borrowerToken: borrowerToken && tokenDigest(borrowerToken) };
    });
  }

  /** Sent once: a retried check-out would lend a second account. The lease id Vault answers is dropped here. */
  async checkOut(token: SecretValue, mount: string, set: string, ttlSeconds: number): Promise<{ account: string; password: SecretValue }> {
    const body = await this.call('POST {mount}/library/{set}/check-out', 'POST', path(mount, 'library', set, 'check-out'), token, { ttl: `${ttlSeconds}s` }, true);
    const data = record(body['data']);
    const account = data['service_account_name'];
    const password = data['password'];
    if (typeof account !== 'string' || typeof password !== 'string') throw new HashicorpVaultError('unexpected', 'HashiCorp Vault answered the check-out without an account and password');
    return { account, password: SecretValue.of(password) };
  }

  /** The accounts Vault took back (and rotates); none when the account was not lent any more. */
  async checkIn(token: SecretValue, mount: string, set: string, account: string): Promise<string[]> {
    const data = record((await this.call('POST {mount}/library/{set}/check-in', 'POST', path(mount, 'library', set, 'check-in'), token, { service_account_names: [account] }))['data']);
    return Array.isArray(data['check_ins']) ? data['check_ins'].filter((n): n is string => typeof n === 'string') : [];
  }

  async readStaticRole(token: SecretValue, mount: string, role: string): Promise<{ username: string }> {
    const data = record((await this.call('GET {mount}/static-role/{role}', 'GET', path(mount, 'static-role', role), token))['data']);
    return { username: typeof data['username'] === 'string' ? data['username'] : role };
  }

  async readStaticCred(token: SecretValue, mount: string, role: string): Promise<{ username: string; password: SecretValue }> {
    const data = record((await this.call('GET {mount}/static-cred/{role}', 'GET', path(mount, 'static-cred', role), token))['data']);
    if (typeof data['username'] !== 'string' || typeof data['password'] !== 'string') throw new HashicorpVaultError('unexpected', 'HashiCorp Vault answered the static credential without a user name and password');
    return { username: data['username'], password: SecretValue.of(data['password']) };
  }

  async rotateRole(token: SecretValue, mount: string, role: string): Promise<void> {
    await this.call('POST {mount}/rotate-role/{role}', 'POST', path(mount, 'rotate-role', role), token, {});
  }

  /** The keys below a KV v2 folder (folders end with `/`); none when Vault answers 404, as it does for an empty one. */
  async listKv(token: SecretValue, mount: string, folder: string): Promise<string[]> {
    try {
      const data = record((await this.call('LIST {mount}/metadata/{path}', 'GET', `${path(mount, 'metadata', ...(folder ? [folder] : []))}?list=true`, token))['data']);
      return Array.isArray(data['keys']) ? data['keys'].filter((k): k is string => typeof k === 'string') : [];
    } catch (error) {
      if (error instanceof HashicorpVaultError && error.kind === 'not-found') return [];
      throw error;
    }
  }

  async kvMetadata(token: SecretValue, mount: string, secretPath: string): Promise<Record<string, string>> {
    const data = record((await this.call('GET {mount}/metadata/{path}', 'GET', path(mount, 'metadata', secretPath), token))['data']);
    return Object.fromEntries(Object.entries(record(data['custom_metadata'])).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }

  async kvRead(token: SecretValue, mount: string, secretPath: string): Promise<{ data: Record<string, SecretValue>; metadata: Record<string, string> }> {
    const outer = record((await this.call('GET {mount}/data/{path}', 'GET', path(mount, 'data', secretPath), token))['data']);
    const data = Object.fromEntries(Object.entries(record(outer['data'])).filter((e): e is [string, string] => typeof e[1] === 'string').map(([k, v]) => [k, SecretValue.of(v)]));
    const metadata = record(record(outer['metadata'])['custom_metadata']);
    return { data, metadata: Object.fromEntries(Object.entries(metadata).filter((e): e is [string, string] => typeof e[1] === 'string')) };
  }

  private async call(op: string, method: 'GET' | 'POST', relative: string, token: SecretValue | undefined, body?: unknown, unsafe = false): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['x-vault-token'] = token.reveal();
    if (this.namespace) headers['x-vault-namespace'] = this.namespace;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let answer: VaultHttpAnswer;
    try {
      answer = await this.http.send({ op, method, url: this.base + relative, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), unsafe });
    } catch (error) {
      if (error instanceof VaultTransportError) throw error;
      throw new HashicorpVaultError('unavailable', `HashiCorp Vault gave no answer to ${op}`);
    }
    if (answer.status === 204) return {};
    let parsed: unknown;
    try {
      parsed = answer.text === '' ? {} : JSON.parse(answer.text);
    } catch {
      throw new HashicorpVaultError(answer.status >= 500 ? 'unavailable' : 'unexpected', `HashiCorp Vault answered ${op} with ${answer.status} and a body that is not JSON`, answer.status);
    }
    const json = record(parsed);
    if (answer.status >= 200 && answer.status < 300) {
      const warnings = Array.isArray(json['warnings']) ? json['warnings'].length : 0;
      if (warnings > 0) this.logger?.debug({ op, warnings }, 'hashicorp vault answered with warnings');
      return json;
    }
    const words = Array.isArray(json['errors']) ? json['errors'].filter((e): e is string => typeof e === 'string').join('; ') : '';
    this.logger?.debug({ op, status: answer.status, errors: words.slice(0, 200) }, 'hashicorp vault refused a call');
    throw new HashicorpVaultError(kindOf(answer.status, words, op), `HashiCorp Vault answered ${op} with ${answer.status}`, answer.status);
  }
}

function kindOf(status: number, words: string, op: string): HashicorpVaultErrorKind {
  if (status === 403) return 'permission-denied';
  if (status === 400 && op.startsWith('POST auth/')) return 'bad-credentials';
  if (status === 400 && NO_ACCOUNTS.test(words)) return 'exhausted';
  if (status === 400 && NOT_CALLERS.test(words)) return 'not-checked-out-by-caller';
  if (status === 404) return 'not-found';
  if (status === 400 || status === 405) return 'bad-request';
  if (status === 429 || status >= 500) return 'unavailable';
  return 'unexpected';
}

/** What tells one borrowing token from another without keeping the token. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 22);
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
