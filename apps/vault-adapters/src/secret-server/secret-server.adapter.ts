import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { SecretValue } from '@openecm/crypto';
import {
  OpenEcmError,
  type ErrorCode,
  type SecretServerSettings,
  type TestStep,
  type VaultCredential,
  type VaultRef,
  type VaultTestResult,
} from '@openecm/contracts';
import type { ConnectionOf } from '../connections/connections.service';
import type { Checkout } from '../credentials/checkout.repository';
import type { HeldCheckout, HeldSecret, VaultAdapter } from '../credentials/vault-adapter';
import { VaultSessionCache, type SignIn, type SignInResult } from '../sessions/vault-session-cache';
import { VaultAddressPolicy } from '@openecm/vault-sdk';
import { vaultTransportOptions } from '../http/transport-options';
import { assertVaultUrl } from '../http/vault-url';
import { SecretServerError, isSecretServerError, type SecretServerErrorKind } from './secret-server.errors';
import { secretServerUrls } from './secret-server.http';
import { SecretServerRestClient, type RestSecret, type RestSecretSummary } from './secret-server.rest-client';
import { SecretServerSoapClient, type SoapSecret, type SoapSecretSummary } from './secret-server.soap-client';
import { searchRestSystems, searchSoapSystems } from '../systems/secret-server-systems';
import { mapLimit, type SystemsOrPending } from '../systems/systems';
import { describeCandidate, userCandidates, type UserCandidate } from './user-mapping';

type Connection = ConnectionOf<'secret-server'>;
type Scope = VaultCredential['scope'];

/** What a listing answers for a user who cannot be listed yet, or any more: a reason, not an error. */
export interface SecretServerPending {
  reason: string;
  approveUrl?: string;
}
export type ListOrPending = { credentials: VaultCredential[] } | { pending: SecretServerPending };

const ERRORS: Record<SecretServerErrorKind, ErrorCode> = {
  tls: 'VAULT_TLS_ERROR',
  'address-refused': 'VAULT_ADDRESS_REFUSED',
  connect: 'VAULT_UNAVAILABLE',
  unavailable: 'VAULT_UNAVAILABLE',
  authentication: 'VAULT_AUTH_FAILED',
  'token-expired': 'VAULT_AUTH_FAILED',
  'impersonation-pending': 'VAULT_APPROVAL_PENDING',
  'impersonation-denied': 'VAULT_FORBIDDEN',
  'impersonation-revoked': 'VAULT_FORBIDDEN',
  'no-impersonate-permission': 'VAULT_FORBIDDEN',
  'user-not-found': 'VAULT_FORBIDDEN',
  'access-denied': 'VAULT_FORBIDDEN',
  'comment-required': 'VAULT_FORBIDDEN',
  'checkout-required': 'VAULT_FORBIDDEN',
  'approval-required': 'VAULT_APPROVAL_PENDING',
  'checked-out': 'CREDENTIAL_IN_USE',
  'not-found': 'VAULT_ACCOUNT_NOT_FOUND',
  search: 'VAULT_ERROR',
  unexpected: 'VAULT_ERROR',
};

export const PENDING_REASON = 'the user has not approved the API account yet (approve it at the link, or in Secret Server under Tools > Manage Applications)';
export const DENIED_REASON = 'the user denied access for the API account';
export const REVOKED_REASON = 'the user revoked access for the API account';

/** The broker's error for a Secret Server failure; the clients' messages are free of secrets by construction. */
export function toBrokerError(error: unknown): OpenEcmError {
  if (error instanceof OpenEcmError) return error;
  if (error instanceof SecretServerError) return new OpenEcmError(ERRORS[error.kind], error.message);
  return new OpenEcmError('VAULT_ERROR', 'Secret Server: unexpected failure');
}

/** A delegated-trust state that leaves nothing to list, as the answer's `pending` entry shows it. */
export function pendingOf(error: unknown): SecretServerPending | undefined {
  if (!(error instanceof SecretServerError)) return undefined;
  switch (error.kind) {
    case 'impersonation-pending':
      return { reason: PENDING_REASON, ...(error.approveUrl ? { approveUrl: error.approveUrl } : {}) };
    case 'impersonation-denied':
      return { reason: DENIED_REASON };
    case 'impersonation-revoked':
      return { reason: REVOKED_REASON };
    default:
      return undefined;
  }
}

/** The API account's own session in the token cache; no remote-access user may take this name. */
export const API_IDENTITY = '*api*';
/** Secret Server's "Session Timeout for Webservices" default, when the server does not say. */
const DEFAULT_TOKEN_LIFETIME_SECONDS = 20 * 60;
const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
const DEFAULT_REASON = 'Remote access session brokered by OpenECM';
const USERNAME_FIELD = 'Username';
const PASSWORD_FIELD = /^password$/i;
const PRIVATE_KEY_FIELD = /^private[\s_-]*key$/i;
/** How many secrets a listing reads at once, so one list never floods the vault. */
const READ_CONCURRENCY = 4;

/** Cached for a token's life minus a margin, so a cached token is never handed out in its last moments. */
export function cacheTtlSeconds(lifetimeSeconds: number): number {
  const margin = Math.min(60, Math.ceil(lifetimeSeconds * 0.1));
  return Math.max(1, Math.floor(lifetimeSeconds - margin));
}

/** Where tokens come from: the shared cache for real traffic, fresh sign-ins for Test Settings. */
interface TokenSource {
  get(identity: string, signIn: SignIn): Promise<string>;
  renew(identity: string, stale: string, signIn: SignIn): Promise<string>;
}

interface Clients {
  fingerprint: string;
  soap?: SecretServerSoapClient;
  rest?: SecretServerRestClient;
}

/**
 * Thycotic / Delinea Secret Server, as the vendor's remote-access plugin uses it. SOAP mode signs in as the
 * API account and impersonates each remote-access user (delegated trust), so Secret Server decides what
 * that user sees; REST mode lists what the API account itself sees and leaves filtering to the broker's
 * policy. Tokens live in token-cache (encrypted, shared by every instance) for their lifetime minus a margin.
 */
@Injectable()
export class SecretServerAdapter implements VaultAdapter<'secret-server'>, OnApplicationShutdown {
  readonly type = 'secret-server' as const;
  private readonly logger = new Logger('secret-server');
  private readonly clientsByConnection = new Map<string, Clients>();

  constructor(
    private readonly sessions: VaultSessionCache,
    private readonly addresses: VaultAddressPolicy,
  ) {}

  /** Names only. Pending approval throws VAULT_APPROVAL_PENDING; denied or revoked throw VAULT_FORBIDDEN. */
  async list(connection: Connection, user: string, endpoint: string): Promise<VaultCredential[]> {
    const answer = await this.listOrPending(connection, user, endpoint);
    if ('credentials' in answer) return answer.credentials;
    const code: ErrorCode = answer.pending.reason === PENDING_REASON ? 'VAULT_APPROVAL_PENDING' : 'VAULT_FORBIDDEN';
    throw new OpenEcmError(code, `Secret Server: ${answer.pending.reason}`);
  }

  /**
   * The listing, or why this user has nothing from this vault while delegated trust is not granted:
   * pending (with the URL where the user approves), denied or revoked. Other failures throw OpenEcmError.
   */
  async listOrPending(connection: Connection, user: string, endpoint: string): Promise<ListOrPending> {
    const tokens = this.cachedTokens(connection);
    const target = endpoint.trim();
    try {
      if (connection.settings.apiMode === 'rest') {
        return { credentials: await this.withRest(connection, tokens, (rest, token) => this.collectRest(connection, rest, token, target)) };
      }
      return {
        credentials: await this.withSoapUser(connection, tokens, user, (soap, token) => this.collectSoap(connection, soap, token, target)),
      };
    } catch (error) {
      const pending = pendingOf(error);
      if (pending) {
        this.logger.debug({ vault: connection.name, kind: error instanceof SecretServerError ? error.kind : undefined, msg: 'nothing to list: delegated trust not granted' });
        return { pending };
      }
      throw toBrokerError(error);
    }
  }

  /**
   * External jump items: machines named by the machine secrets the user sees (impersonated in SOAP mode, the API
   * account's view in REST mode), reached over RDP or a shell by their template. Pending, denied or revoked
   * delegated trust answers `pending` as a listing does.
   */
  async searchSystems(connection: Connection, user: string, search: string, limit: number): Promise<SystemsOrPending> {
    const tokens = this.cachedTokens(connection);
    try {
      if (connection.settings.apiMode === 'rest') {
        return await this.withRest(connection, tokens, (rest, token) => searchRestSystems(connection.name, connection.settings, rest, token, search, limit));
      }
      return await this.withSoapUser(connection, tokens, user, (soap, token) => searchSoapSystems(connection.name, connection.settings, soap, token, search, limit));
    } catch (error) {
      const pending = pendingOf(error);
      if (pending) return { pending };
      throw toBrokerError(error);
    }
  }

  async checkout(
    connection: Connection,
    input: { leaseId: string; user: string; ref: VaultRef; durationMinutes: number; reason: string },
    record: (vaultRequest: string) => Promise<void>,
  ): Promise<{ username: string; domain: string | null; secret: HeldSecret }> {
    const ref = parseRef(input.ref);
    const reason = input.reason.trim() || DEFAULT_REASON;
    let recorded = false;
    // Recorded before the read: a read that checks the secret out but whose answer is lost still gets its
    // check-in. Once only, though a token renewal runs the read twice.
    const recordOnce = async (): Promise<void> => {
      if (recorded) return;
      await record(String(ref.secretId));
      recorded = true;
    };
    const tokens = this.cachedTokens(connection);
    try {
      if (connection.settings.apiMode === 'rest') {
        return await this.withRest(connection, tokens, async (rest, token) => {
          await recordOnce();
          return this.readRest(connection.settings, rest, token, ref, reason);
        });
      }
      return await this.withSoapUser(connection, tokens, input.user, async (soap, token) => {
        await recordOnce();
        return this.readSoap(connection.settings, soap, token, ref, reason);
      });
    } catch (error) {
      throw toBrokerError(error);
    }
  }

  /**
   * Checks the secret in as the user who read it. A secret that was never checked out, or whose check-out
   * the vault already ended and gave to someone else, has nothing of ours to check in: both count as done.
   */
  async checkin(connection: Connection, checkout: Checkout & { vaultRequest: string }, _input: { rotate: boolean; reason: string }): Promise<{ rotationRequested: boolean }> {
    await this.checkInSecret(connection, checkout.user, checkout.vaultRequest);
    // Secret Server rotates on check-in by the secret's own CheckOutChangePasswordEnabled, not on request.
    return { rotationRequested: false };
  }

  private async checkInSecret(connection: Connection, user: string, handle: string): Promise<void> {
    const secretId = Number(handle);
    if (!Number.isSafeInteger(secretId) || secretId <= 0) {
      throw new OpenEcmError('VAULT_ERROR', 'Secret Server: the recorded check-out does not name a secret');
    }
    const tokens = this.cachedTokens(connection);
    try {
      if (connection.settings.apiMode === 'rest') {
        await this.withRest(connection, tokens, (rest, token) => rest.checkIn(token, secretId));
      } else {
        await this.withSoapUser(connection, tokens, user, (soap, token) => soap.checkIn(token, secretId));
      }
    } catch (error) {
      if (!isSecretServerError(error, 'checked-out')) throw toBrokerError(error);
      this.logger.debug({ vault: connection.name, msg: 'check-in: the vault already ended this check-out' });
    }
  }

  /**
   * The sweep: which of `candidates` (secret ids OpenECM checked out for this user) the vault shows checked
   * out, asked as the identity that checked them out (the impersonated user in SOAP mode, the API account in
   * REST mode). Secret Server says nothing of when a check-out began: the records' age stands in for it.
   */
  async held(connection: Connection, user: string, candidates: readonly string[]): Promise<HeldCheckout[]> {
    const ids = [...new Set(candidates)].map(Number).filter((id) => Number.isSafeInteger(id) && id > 0);
    const tokens = this.cachedTokens(connection);
    try {
      // only what is checked out to this identity: someone else's check-out is not OpenECM's to end
      const { me, statuses } =
        connection.settings.apiMode === 'rest'
          ? await this.withRest(connection, tokens, async (rest, token) => ({
              me: await rest.currentUserId(token),
              statuses: await mapLimit(ids, READ_CONCURRENCY, (id) => unlessGone(rest.getCheckOutStatus(token, id))),
            }))
          : await this.withSoapUser(connection, tokens, user, async (soap, token) => ({
              me: (await soap.whoAmI(token)).userId,
              statuses: await mapLimit(ids, READ_CONCURRENCY, (id) => unlessGone(soap.getCheckOutStatus(token, id))),
            }));
      return ids.flatMap((id, i) => {
        const status = statuses[i];
        const mine = status?.checkedOut === true && (status.userId === undefined || status.userId === me);
        return mine ? [{ handle: String(id), ageMs: undefined, target: undefined }] : [];
      });
    } catch (error) {
      // a user who has not approved the API account, or no longer does: nothing can be ended as them
      if (pendingOf(error)) return [];
      throw toBrokerError(error);
    }
  }

  /** Checks the secret in as the identity that holds it; one checked out to someone else is not ours and is left alone. */
  async release(connection: Connection, user: string, handle: string): Promise<void> {
    // rotated, or not, by the secret's own CheckOutChangePasswordEnabled
    await this.checkInSecret(connection, user, handle);
  }

  targetOf(): undefined {
    return undefined;
  }

  /** REST: the API account holds every check-out; SOAP: each impersonated user holds their own. */
  sweepIdentities(connection: Connection, users: readonly string[]): string[] {
    if (connection.settings.apiMode === 'rest') return [API_IDENTITY];
    return [...new Set(users.map((u) => u.trim()))].filter((u) => u !== '' && u.toLowerCase() !== API_IDENTITY);
  }

  /**
   * Test Settings: the listing with these settings (saved or not) and a fresh sign-in, bypassing and not
   * filling the token cache. Answers the names, pending (with the approve URL), or the failing step with the
   * vault's own message.
   */
  async test(connection: Connection, user: string, endpoint: string): Promise<VaultTestResult> {
    let clients: Clients;
    try {
      clients = this.newClients(connection.settings, connection.name);
    } catch {
      return { result: 'failed', step: 'configuration', code: 'VALIDATION_FAILED', message: 'the endpoint URL or CA bundle cannot be used' };
    }
    const tokens = freshTokens();
    const target = endpoint.trim();
    let step: TestStep = 'authentication';
    try {
      let credentials: VaultCredential[];
      if (clients.rest) {
        const rest = clients.rest;
        const token = await tokens.get(API_IDENTITY, () => this.signInRest(connection.settings, rest));
        step = 'search';
        credentials = await this.collectRest(connection, rest, token, target);
      } else if (clients.soap) {
        const soap = clients.soap;
        const apiToken = await tokens.get(API_IDENTITY, () => this.signInSoap(connection.settings, soap));
        step = 'impersonation';
        const userToken = await this.impersonateFirst(connection, soap, apiToken, this.candidatesFor(connection, user), user);
        step = 'search';
        credentials = await this.collectSoap(connection, soap, valueOf(userToken), target);
      } else {
        throw new SecretServerError('unexpected', 'no client for this API mode');
      }
      return {
        result: 'ok',
        credentials: credentials.map((c) => ({ name: c.name, username: c.username, domain: c.domain, scope: c.scope })),
      };
    } catch (error) {
      const pending = pendingOf(error);
      if (pending) return { result: 'pending', ...pending };
      const broker = toBrokerError(error);
      const failedStep: TestStep = isSecretServerError(error, 'tls')
        ? 'tls'
        : isSecretServerError(error, 'connect') || isSecretServerError(error, 'address-refused')
          ? 'connect'
          : step;
      // A SOAP result's Errors are Secret Server's own answer in its own schema ("Login failed."), which Test
      // Settings shows as the plugin did; an HTTP error body or a SOAP fault is never shown (see the clients).
      const message = error instanceof SecretServerError && error.vaultMessage && error.soapResultErrors ? error.vaultMessage : broker.message;
      return { result: 'failed', step: failedStep, code: broker.code, message };
    } finally {
      await closeClients(clients);
    }
  }

  async reset(name: string, scope: 'here' | 'everywhere'): Promise<void> {
    const clients = this.clientsByConnection.get(name);
    this.clientsByConnection.delete(name);
    if (clients) await closeClients(clients);
    if (scope === 'everywhere') await this.sessions.forget(name);
    else this.sessions.dropHere({ vault: name });
  }

  async onApplicationShutdown(): Promise<void> {
    const all = [...this.clientsByConnection.values()];
    this.clientsByConnection.clear();
    await Promise.all(all.map(closeClients));
  }


  private cachedTokens(connection: Connection): TokenSource {
    return {
      get: (identity, signIn) => this.sessions.get(connection.name, identity, signIn),
      renew: (identity, stale, signIn) => this.sessions.renew(connection.name, identity, stale, signIn),
    };
  }

  /** Runs `call` with the user's impersonated token; when the vault says it expired, renews it once. */
  private async withSoapUser<T>(
    connection: Connection,
    tokens: TokenSource,
    user: string,
    call: (soap: SecretServerSoapClient, token: string) => Promise<T>,
  ): Promise<T> {
    const soap = this.clients(connection).soap;
    if (!soap) throw new SecretServerError('unexpected', 'no SOAP client for this connection');
    const identity = user.trim();
    if (identity.toLowerCase() === API_IDENTITY) throw new SecretServerError('user-not-found', 'this user name is reserved');
    const signIn: SignIn = () => this.impersonate(connection, soap, tokens, user);
    const token = await tokens.get(identity, signIn);
    try {
      return await call(soap, token);
    } catch (error) {
      if (!isSecretServerError(error, 'token-expired')) throw error;
      this.logger.debug({ vault: connection.name, msg: 'impersonated token expired; impersonating again' });
      return call(soap, await tokens.renew(identity, token, signIn));
    }
  }

  private async withRest<T>(connection: Connection, tokens: TokenSource, call: (rest: SecretServerRestClient, token: string) => Promise<T>): Promise<T> {
    const rest = this.clients(connection).rest;
    if (!rest) throw new SecretServerError('unexpected', 'no REST client for this connection');
    const signIn: SignIn = () => this.signInRest(connection.settings, rest);
    const token = await tokens.get(API_IDENTITY, signIn);
    try {
      return await call(rest, token);
    } catch (error) {
      // REST says 401 for an expired or dropped token: the cached one is dropped and replaced once
      if (!isSecretServerError(error, 'token-expired')) throw error;
      this.logger.debug({ vault: connection.name, msg: 'REST token rejected; signing in again' });
      return call(rest, await tokens.renew(API_IDENTITY, token, signIn));
    }
  }

  /** The user's sign-in: the API account's token (cached itself), then ImpersonateUser per mapped name. */
  private async impersonate(connection: Connection, soap: SecretServerSoapClient, tokens: TokenSource, user: string): Promise<SignInResult> {
    const candidates = this.candidatesFor(connection, user);
    const apiSignIn: SignIn = () => this.signInSoap(connection.settings, soap);
    const apiToken = await tokens.get(API_IDENTITY, apiSignIn);
    try {
      return await this.impersonateFirst(connection, soap, apiToken, candidates, user);
    } catch (error) {
      if (!isSecretServerError(error, 'token-expired')) throw error;
      this.logger.debug({ vault: connection.name, msg: 'API token expired; authenticating again' });
      return this.impersonateFirst(connection, soap, await tokens.renew(API_IDENTITY, apiToken, apiSignIn), candidates, user);
    }
  }

  private candidatesFor(connection: Connection, user: string): UserCandidate[] {
    return userCandidates(user, connection.settings);
  }

  /** Tries the mapped names in order; only "user not found" moves on, any other answer is final. */
  private async impersonateFirst(
    connection: Connection,
    soap: SecretServerSoapClient,
    apiToken: string,
    candidates: UserCandidate[],
    user: string,
  ): Promise<SignInResult> {
    const tried: string[] = [];
    let last: SecretServerError | undefined;
    for (const candidate of candidates) {
      tried.push(describeCandidate(candidate));
      try {
        const token = await soap.impersonateUser(apiToken, candidate);
        this.logger.debug({ vault: connection.name, rule: candidate.rule, msg: 'impersonated' });
        return { value: token, ttlSeconds: await this.soapTokenTtl(soap, token) };
      } catch (error) {
        if (!isSecretServerError(error, 'user-not-found')) throw error;
        last = error;
      }
    }
    throw new SecretServerError(
      'user-not-found',
      tried.length === 0
        ? `Secret Server: "${user}" is not a usable user name`
        : `Secret Server has no user matching "${user}" (tried ${tried.join(', ')})`,
      last?.vaultMessage ? { vaultMessage: `${last.vaultMessage} (tried ${tried.join(', ')})`, soapResultErrors: last.soapResultErrors } : {},
    );
  }

  private async signInSoap(settings: SecretServerSettings, soap: SecretServerSoapClient): Promise<SignInResult> {
    const token = await soap.authenticate({
      username: settings.apiUser,
      password: SecretValue.of(settings.apiPassword),
      domain: settings.apiDomain?.trim() ?? '',
      organization: settings.apiOrganization?.trim() ?? '',
    });
    return { value: token, ttlSeconds: await this.soapTokenTtl(soap, token) };
  }

  private async signInRest(settings: SecretServerSettings, rest: SecretServerRestClient): Promise<SignInResult> {
    const token = await rest.token({ username: settings.apiUser, password: SecretValue.of(settings.apiPassword), domain: settings.apiDomain?.trim() });
    return { value: token.accessToken, ttlSeconds: cacheTtlSeconds(lifetime(token.expiresIn)) };
  }

  /** What GetTokenIsValid says of the token's life, or the vendor default when it cannot tell. */
  private async soapTokenTtl(soap: SecretServerSoapClient, token: string): Promise<number> {
    try {
      const { maxOfflineSeconds } = await soap.getTokenIsValid(token);
      return cacheTtlSeconds(lifetime(maxOfflineSeconds));
    } catch {
      return cacheTtlSeconds(DEFAULT_TOKEN_LIFETIME_SECONDS);
    }
  }


  /**
   * Machine secrets whose Machine field is the endpoint, then domain secrets whose Domain field is one of
   * the configured domains, as the impersonated user sees them. A secret is read only when nothing about it
   * is restricted, to confirm the field and learn the user name; a restricted one (comment, approval or
   * check-out) is listed from its summary alone, because reading it would ask for a comment or check it out.
   */
  private async collectSoap(connection: Connection, soap: SecretServerSoapClient, token: string, endpoint: string): Promise<VaultCredential[]> {
    const settings = connection.settings;
    const out = new Map<number, VaultCredential>();
    for (const { field, value, scope } of searches(settings, endpoint)) {
      const summaries = await soap.searchSecretsByFieldValue(token, field, value, { showDeleted: false, showRestricted: true });
      const found = await mapLimit(
        summaries.filter((s) => !out.has(s.secretId)),
        READ_CONCURRENCY,
        (summary) => this.describeSoap(connection, soap, token, summary, { field, value, scope }),
      );
      for (const credential of found) if (credential && !out.has(Number(credential.ref['secretId']))) out.set(Number(credential.ref['secretId']), credential);
    }
    return [...out.values()];
  }

  private async describeSoap(
    connection: Connection,
    soap: SecretServerSoapClient,
    token: string,
    summary: SoapSecretSummary,
    match: { field: string; value: string; scope: Scope },
  ): Promise<VaultCredential | undefined> {
    if (summary.isRestricted) return this.credential(connection, summary.secretId, summary.name, '', match.scope === 'domain' ? match.value : null, match.scope);
    let secret: SoapSecret;
    try {
      secret = await soap.getSecret(token, summary.secretId, { loadSettingsAndPermissions: false });
    } catch (error) {
      if (isSecretServerError(error, 'comment-required', 'approval-required', 'checkout-required', 'checked-out')) {
        return this.credential(connection, summary.secretId, summary.name, '', match.scope === 'domain' ? match.value : null, match.scope);
      }
      if (isSecretServerError(error, 'access-denied', 'not-found')) return undefined;
      throw error;
    }
    const fieldValue = soapField(secret, match.field);
    if (fieldValue === undefined || !sameName(fieldValue, match.value)) return undefined;
    const username = soapField(secret, USERNAME_FIELD)?.trim() ?? '';
    const domain = match.scope === 'domain' ? fieldValue.trim() : soapField(secret, connection.settings.domainField)?.trim() || null;
    return this.credential(connection, secret.id, secret.name || summary.name, username, domain, match.scope);
  }

  /**
   * The same searches over REST. Summaries carry the Machine, Domain and Username fields as extended fields,
   * so no secret is read (no password fetched, nothing checked out); only a server that leaves them out gets
   * each unrestricted secret read, without auto check-out.
   */
  private async collectRest(connection: Connection, rest: SecretServerRestClient, token: string, endpoint: string): Promise<VaultCredential[]> {
    const settings = connection.settings;
    const extendedFields = uniqueNames([settings.machineField, settings.domainField, USERNAME_FIELD]);
    const out = new Map<number, VaultCredential>();
    for (const { field, value, scope } of searches(settings, endpoint)) {
      const summaries = await rest.searchSecrets(token, { searchField: field, searchText: value, isExactMatch: true, extendedFields, includeRestricted: true });
      const found = await mapLimit(
        summaries.filter((s) => s.active !== false && !out.has(s.id)),
        READ_CONCURRENCY,
        (summary) => this.describeRest(connection, rest, token, summary, { field, value, scope }),
      );
      for (const credential of found) if (credential && !out.has(Number(credential.ref['secretId']))) out.set(Number(credential.ref['secretId']), credential);
    }
    return [...out.values()];
  }

  private async describeRest(
    connection: Connection,
    rest: SecretServerRestClient,
    token: string,
    summary: RestSecretSummary,
    match: { field: string; value: string; scope: Scope },
  ): Promise<VaultCredential | undefined> {
    const settings = connection.settings;
    let read: (name: string) => string | undefined;
    if (summary.extendedFields) {
      const fields = summary.extendedFields;
      read = (name) => fields.find((f) => sameName(f.name, name))?.value ?? undefined;
    } else if (!summary.isRestricted && !summary.checkOutEnabled && !summary.requiresComment) {
      let secret: RestSecret;
      try {
        secret = await rest.getSecret(token, summary.id, { noAutoCheckout: true });
      } catch (error) {
        if (isSecretServerError(error, 'access-denied', 'not-found')) return undefined;
        if (!isSecretServerError(error, 'comment-required', 'approval-required', 'checkout-required', 'checked-out')) throw error;
        secret = { id: summary.id, name: summary.name, items: [] };
      }
      read = (name) => restField(secret, name);
    } else {
      read = () => undefined;
    }
    const fieldValue = read(match.field);
    // an absent value is a field the server did not report: the exact search already matched it
    if (fieldValue !== undefined && !sameName(fieldValue, match.value)) return undefined;
    const username = read(USERNAME_FIELD)?.trim() ?? '';
    const domain = match.scope === 'domain' ? (fieldValue ?? match.value).trim() : read(settings.domainField)?.trim() || null;
    return this.credential(connection, summary.id, summary.name, username, domain, match.scope);
  }

  private credential(connection: Connection, secretId: number, name: string, username: string, domain: string | null, scope: Scope): VaultCredential {
    return {
      vault: connection.name,
      ref: { secretId, username, ...(domain ? { domain } : {}) },
      name,
      username,
      domain,
      scope,
      releaseDurationMinutes: connection.settings.releaseDurationMinutes,
      rotateAfterRelease: false,
    };
  }


  private async readSoap(
    settings: SecretServerSettings,
    soap: SecretServerSoapClient,
    token: string,
    ref: ParsedRef,
    reason: string,
  ): Promise<{ username: string; domain: string | null; secret: HeldSecret }> {
    let secret: SoapSecret;
    try {
      secret = await soap.getSecret(token, ref.secretId, { loadSettingsAndPermissions: true });
    } catch (error) {
      // a restricted secret that takes a comment gets the lease's reason under the code it named
      if (!isSecretServerError(error, 'comment-required')) throw error;
      secret = await soap.getSecret(token, ref.secretId, {
        loadSettingsAndPermissions: true,
        codeResponses: [{ errorCode: error.responseCode ?? 'COMMENT', comment: reason }],
      });
    }
    const items = secret.items.map((i) => ({ name: i.fieldName, value: i.value, isPassword: i.isPassword, isFile: i.isFile }));
    const value = await secretValue(items, async () => {
      // SOAP GetSecret carries only the attachment's file name; its content needs an operation this adapter does not use
      throw new SecretServerError('unexpected', 'the private key of this secret is a file attachment, which the SOAP mode cannot read; use the REST mode');
    });
    return {
      username: soapField(secret, USERNAME_FIELD)?.trim() || ref.username,
      domain: soapField(secret, settings.domainField)?.trim() || ref.domain,
      secret: value,
    };
  }

  private async readRest(
    settings: SecretServerSettings,
    rest: SecretServerRestClient,
    token: string,
    ref: ParsedRef,
    reason: string,
  ): Promise<{ username: string; domain: string | null; secret: HeldSecret }> {
    let secret: RestSecret;
    let comment: string | undefined;
    try {
      secret = await rest.getSecret(token, ref.secretId);
    } catch (error) {
      if (!isSecretServerError(error, 'comment-required')) throw error;
      comment = reason;
      secret = await rest.getSecret(token, ref.secretId, { comment });
    }
    const items = secret.items.map((i) => ({
      name: i.fieldName ?? i.slug ?? '',
      slug: i.slug ?? undefined,
      value: i.itemValue ?? '',
      isPassword: i.isPassword ?? false,
      isFile: i.isFile ?? false,
    }));
    const value = await secretValue(items, (item) => rest.getField(token, ref.secretId, item.slug ?? 'private-key', comment === undefined ? {} : { comment }));
    return {
      username: restField(secret, USERNAME_FIELD)?.trim() || ref.username,
      domain: restField(secret, settings.domainField)?.trim() || ref.domain,
      secret: value,
    };
  }


  /** One client per connection, replaced when the settings that shape it change (even in another instance). */
  private clients(connection: Connection): Clients {
    const fingerprint = clientFingerprint(connection.settings);
    const existing = this.clientsByConnection.get(connection.name);
    if (existing?.fingerprint === fingerprint) return existing;
    if (existing) void closeClients(existing).catch(() => undefined);
    const fresh = this.newClients(connection.settings, connection.name);
    this.clientsByConnection.set(connection.name, fresh);
    return fresh;
  }

  private newClients(settings: SecretServerSettings, vault: string): Clients {
    const { soapUrl, baseUrl } = secretServerUrls(settings.endpointUrl);
    assertVaultUrl({ type: 'secret-server', settings });
    const common = vaultTransportOptions(vault, settings, this.addresses, this.logger);
    const fingerprint = clientFingerprint(settings);
    return settings.apiMode === 'rest'
      ? { fingerprint, rest: new SecretServerRestClient({ ...common, baseUrl }) }
      : { fingerprint, soap: new SecretServerSoapClient({ ...common, soapUrl }) };
  }
}


interface ParsedRef {
  secretId: number;
  username: string;
  domain: string | null;
}

function parseRef(ref: VaultRef): ParsedRef {
  const secretId = typeof ref['secretId'] === 'string' && /^\d{1,10}$/.test(ref['secretId']) ? Number(ref['secretId']) : ref['secretId'];
  const username = ref['username'];
  const domain = ref['domain'];
  if (typeof secretId !== 'number' || !Number.isSafeInteger(secretId) || secretId <= 0 || typeof username !== 'string') {
    throw new OpenEcmError('VALIDATION_FAILED', 'not a Secret Server credential reference', [{ field: 'ref', message: 'secretId and username expected' }]);
  }
  return { secretId, username, domain: typeof domain === 'string' && domain !== '' ? domain : null };
}

function freshTokens(): TokenSource {
  const memo = new Map<string, Promise<string>>();
  return {
    get: (identity, signIn) => {
      let pending = memo.get(identity);
      if (!pending) {
        pending = signIn().then(valueOf);
        memo.set(identity, pending);
      }
      return pending;
    },
    renew: (identity, _stale, signIn) => {
      const pending = signIn().then(valueOf);
      memo.set(identity, pending);
      return pending;
    },
  };
}

function valueOf(result: SignInResult): string {
  return typeof result === 'string' ? result : result.value;
}

function lifetime(seconds: number | undefined): number {
  return seconds !== undefined && Number.isFinite(seconds) && seconds > 0 && seconds <= MAX_TOKEN_LIFETIME_SECONDS ? seconds : DEFAULT_TOKEN_LIFETIME_SECONDS;
}

function searches(settings: SecretServerSettings, endpoint: string): Array<{ field: string; value: string; scope: Scope }> {
  return [
    { field: settings.machineField, value: endpoint, scope: 'machine' as const },
    ...uniqueNames(settings.includeDomainCredentialsFor).map((domain) => ({ field: settings.domainField, value: domain, scope: 'domain' as const })),
  ];
}

function uniqueNames(names: string[]): string[] {
  const byKey = new Map<string, string>();
  for (const raw of names) {
    const name = raw.trim();
    if (name !== '' && !byKey.has(name.toLowerCase())) byKey.set(name.toLowerCase(), name);
  }
  return [...byKey.values()];
}

function sameName(a: string, b: string): boolean {
  return a.trim().replace(/\.$/, '').toLowerCase() === b.trim().replace(/\.$/, '').toLowerCase();
}

function soapField(secret: SoapSecret, name: string): string | undefined {
  return secret.items.find((i) => sameName(i.fieldName, name))?.value;
}

function restField(secret: RestSecret, name: string): string | undefined {
  const item = secret.items.find((i) => sameName(i.fieldName ?? '', name) || sameName(i.slug ?? '', name));
  return item?.itemValue ?? undefined;
}

interface SecretItemView {
  name: string;
  slug?: string | undefined;
  value: string;
  isPassword: boolean;
  isFile: boolean;
}

/**
 * The password when the secret has one; else the private key (an SSH template without a password); a
 * key kept as a file attachment is fetched with `readFile`.
 */
async function secretValue(items: SecretItemView[], readFile: (item: SecretItemView) => Promise<string>): Promise<HeldSecret> {
  const passwords = items.filter((i) => i.isPassword && !i.isFile);
  const password = passwords.find((i) => PASSWORD_FIELD.test(i.name.trim()) && i.value !== '') ?? passwords.find((i) => i.value !== '');
  if (password) return { type: 'password', value: SecretValue.of(password.value) };
  const key = items.find((i) => PRIVATE_KEY_FIELD.test(i.name.trim()) || i.slug === 'private-key');
  if (key && key.value !== '') {
    const value = key.isFile ? await readFile(key) : key.value;
    if (value.trim() !== '') return { type: 'ssh-key', value: SecretValue.of(value) };
  }
  throw new SecretServerError('unexpected', 'the secret holds neither a password nor a private key');
}

function clientFingerprint(settings: SecretServerSettings): string {
  return JSON.stringify([settings.apiMode, settings.endpointUrl, settings.caBundle ?? '', settings.timeoutSeconds]);
}

async function closeClients(clients: Clients): Promise<void> {
  await Promise.all([clients.soap?.close(), clients.rest?.close()]);
}

/** A secret deleted, or no longer visible to the identity, holds nothing of OpenECM's there. */
function unlessGone<T>(status: Promise<T>): Promise<T | undefined> {
  return status.catch((error: unknown) => {
    if (isSecretServerError(error, 'not-found', 'access-denied')) return undefined;
    throw error;
  });
}
