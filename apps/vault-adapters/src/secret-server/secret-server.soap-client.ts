import type { SecretValue } from '@openecm/crypto';
import { SecretServerError, sanitizeVaultText, type SecretServerErrorKind } from './secret-server.errors';
import { SecretServerHttp, type HttpAnswer, type SecretServerHttpOptions } from './secret-server.http';
import {
  SOAP_ENVELOPE_NS,
  XmlParseError,
  XmlValueError,
  child,
  childText,
  children,
  el,
  leaf,
  parseXml,
  soapEnvelope,
  type XmlElement,
  type XmlNode,
  type XmlParseOptions,
} from '@openecm/xml';

export const SS_NS = 'urn:thesecretserver.com';
// SOAP answers are a few levels deep, but a search result may list many secrets, and any element of it may
// carry an xsi:nil; every other bound of the parser stays at its default.
const XML_LIMITS: XmlParseOptions = { maxElements: 200_000, maxAttributes: 200_000 };

/** How Secret Server names a user: the domain and organization travel in arguments of their own. */
export interface SoapUser {
  username: string;
  /** NetBIOS name or FQDN; empty for a local Secret Server user. */
  domain: string;
  /** Empty unless the installation is multi-tenant and the setting asks for it. */
  organization: string;
}

export interface SoapSecretSummary {
  secretId: number;
  name: string;
  typeName: string;
  typeId: number;
  folderId: number;
  isRestricted: boolean;
}

export interface SoapSecretItem {
  fieldId: number;
  fieldName: string;
  value: string;
  isPassword: boolean;
  isFile: boolean;
  isNotes: boolean;
}

export interface SoapSecret {
  id: number;
  name: string;
  typeId: number;
  items: SoapSecretItem[];
  isCheckedOut: boolean;
  isRestricted: boolean;
  checkOutEnabled: boolean | undefined;
}

export interface CodeResponse {
  errorCode: string;
  comment: string;
  additionalComment?: string;
}

/** What Secret Server demands before a restricted secret may be read (`SecretError`). */
export interface SoapSecretDemand {
  errorCode: string;
  allowsResponse: boolean;
}

export interface SecretServerSoapClientOptions extends SecretServerHttpOptions {
  /** The `SSWebService.asmx` URL. */
  soapUrl: string;
}

type Param = { name: string; value: string | number | boolean; secret?: boolean } | { name: string; children: XmlNode[] };

/**
 * Secret Server's SOAP 1.1 web service (`urn:thesecretserver.com`), only the operations the adapter needs.
 * The service answers HTTP 200 with an `Errors` string array for every failure; those are classified into
 * SecretServerError kinds here, so callers never parse vendor wording.
 */
export class SecretServerSoapClient {
  private readonly http: SecretServerHttp;
  private readonly url: string;

  constructor(options: SecretServerSoapClientOptions) {
    this.url = options.soapUrl;
    this.http = new SecretServerHttp(options);
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  /** The password is revealed here only, into the envelope it signs in with. */
  async authenticate(input: SoapUser & { password: SecretValue }): Promise<string> {
    const result = await this.call('Authenticate', [
      { name: 'username', value: input.username },
      { name: 'password', value: input.password.reveal(), secret: true },
      { name: 'organization', value: input.organization },
      { name: 'domain', value: input.domain },
    ]);
    return requiredText(result, 'Token', 'Authenticate');
  }

  /**
   * Needs "Web Services Impersonate" on the API account and the end user's delegated trust; a pending trust
   * fails with kind `impersonation-pending` and the AuthorizeURL in `approveUrl`, never in the message.
   */
  async impersonateUser(token: string, user: SoapUser): Promise<string> {
    const result = await this.call('ImpersonateUser', [
      { name: 'token', value: token, secret: true },
      { name: 'username', value: user.username },
      { name: 'organization', value: user.organization },
      { name: 'domain', value: user.domain },
    ]);
    return requiredText(result, 'Token', 'ImpersonateUser');
  }

  /** `MaxOfflineSeconds` is what the service reports of the token's remaining life; 0 when it says nothing. */
  async getTokenIsValid(token: string): Promise<{ maxOfflineSeconds: number; version: string | undefined }> {
    const result = await this.call('GetTokenIsValid', [{ name: 'token', value: token, secret: true }]);
    return { maxOfflineSeconds: int(childText(result, 'MaxOfflineSeconds')) ?? 0, version: childText(result, 'Version') };
  }

  async searchSecretsByFieldValue(
    token: string,
    fieldName: string,
    searchTerm: string,
    options: { showDeleted?: boolean; showRestricted?: boolean } = {},
  ): Promise<SoapSecretSummary[]> {
    const result = await this.call('SearchSecretsByFieldValue', [
      { name: 'token', value: token, secret: true },
      { name: 'fieldName', value: fieldName },
      { name: 'searchTerm', value: searchTerm },
      { name: 'showDeleted', value: options.showDeleted ?? false },
      { name: 'showRestricted', value: options.showRestricted ?? true },
    ]);
    return summariesOf(result);
  }

  /** Secrets whose name or searchable fields contain `searchTerm`, as the signed-in (or impersonated) user sees them. */
  async searchSecrets(token: string, searchTerm: string, options: { includeDeleted?: boolean; includeRestricted?: boolean } = {}): Promise<SoapSecretSummary[]> {
    const result = await this.call('SearchSecrets', [
      { name: 'token', value: token, secret: true },
      { name: 'searchTerm', value: searchTerm },
      { name: 'includeDeleted', value: options.includeDeleted ?? false },
      { name: 'includeRestricted', value: options.includeRestricted ?? true },
    ]);
    return summariesOf(result);
  }

  /**
   * Reads a secret with its values. A restricted secret answers a `SecretError` first: when it allows a
   * response (a comment or ticket), the error has kind `comment-required` and `responseCode` = that
   * ErrorCode, and the caller sends the reason back in `codeResponses` under it; `approval-required` and
   * `checked-out` allow no response. A secret with CheckOutEnabled is checked out to the caller by the read.
   */
  async getSecret(
    token: string,
    secretId: number,
    options: { loadSettingsAndPermissions?: boolean; codeResponses?: CodeResponse[] } = {},
  ): Promise<SoapSecret> {
    const codes = (options.codeResponses ?? []).map((c) =>
      el('CodeResponse', [leaf('ErrorCode', c.errorCode), leaf('Comment', c.comment), leaf('AdditionalComment', c.additionalComment ?? '')]),
    );
    const result = await this.call('GetSecret', [
      { name: 'token', value: token, secret: true },
      { name: 'secretId', value: positiveId(secretId) },
      { name: 'loadSettingsAndPermissions', value: options.loadSettingsAndPermissions ?? false },
      { name: 'codeResponses', children: codes },
    ]);
    const secret = child(result, 'Secret');
    if (!secret || int(childText(secret, 'Id')) === undefined) {
      throw new SecretServerError('unexpected', 'Secret Server answered GetSecret without a secret');
    }
    const settings = child(secret, 'SecretSettings');
    return {
      id: int(childText(secret, 'Id')) ?? secretId,
      name: childText(secret, 'Name') ?? '',
      typeId: int(childText(secret, 'SecretTypeId')) ?? 0,
      items: children(child(secret, 'Items'), 'SecretItem').map((item) => ({
        fieldId: int(childText(item, 'FieldId')) ?? 0,
        fieldName: childText(item, 'FieldName') ?? childText(item, 'FieldDisplayName') ?? '',
        value: childText(item, 'Value') ?? '',
        isPassword: bool(childText(item, 'IsPassword')) ?? false,
        isFile: bool(childText(item, 'IsFile')) ?? false,
        isNotes: bool(childText(item, 'IsNotes')) ?? false,
      })),
      isCheckedOut: bool(childText(secret, 'IsCheckedOut')) ?? false,
      isRestricted: bool(childText(secret, 'IsRestricted')) ?? false,
      checkOutEnabled: settings ? bool(childText(settings, 'CheckOutEnabled')) : undefined,
    };
  }

  /** Whether the secret is checked out and to which user id (-1 or absent: nobody); no values are read. */
  async getCheckOutStatus(token: string, secretId: number): Promise<{ checkedOut: boolean; userId: number | undefined }> {
    const result = await this.call('GetCheckOutStatus', [
      { name: 'token', value: token, secret: true },
      { name: 'secretId', value: positiveId(secretId) },
    ]);
    const userId = int(childText(result, 'CheckOutUserId'));
    return { checkedOut: bool(childText(result, 'IsCheckedOut')) ?? false, userId: userId === undefined || userId < 0 ? undefined : userId };
  }

  /** Checking in a secret that is not checked out is not an error. */
  async checkIn(token: string, secretId: number): Promise<void> {
    try {
      await this.call('CheckIn', [
        { name: 'token', value: token, secret: true },
        { name: 'secretId', value: positiveId(secretId) },
      ]);
    } catch (error) {
      if (error instanceof SecretServerError && error.kind === 'unexpected' && /not\s+(currently\s+)?checked\s*out/i.test(error.vaultMessage ?? '')) return;
      throw error;
    }
  }

  async whoAmI(token: string): Promise<{ userId: number; userName: string; displayName: string; domainName: string | undefined }> {
    const result = await this.call('WhoAmI', [{ name: 'token', value: token, secret: true }]);
    return {
      userId: int(childText(result, 'UserId')) ?? 0,
      userName: childText(result, 'UserName') ?? '',
      displayName: childText(result, 'DisplayName') ?? '',
      domainName: childText(result, 'DomainName') || undefined,
    };
  }

  /** Sends one operation and answers its `<Op>Result`, or throws the classified error. */
  private async call(operation: string, params: Param[]): Promise<XmlElement> {
    const op = `SOAP ${operation}`;
    const secrets = params.flatMap((p) => ('secret' in p && p.secret ? [String(p.value)] : []));
    let body: string;
    try {
      body = envelope(operation, params);
    } catch (error) {
      if (error instanceof XmlValueError) throw new SecretServerError('unexpected', `${op}: ${error.message}`);
      throw error;
    }
    const answer = await this.http.send({
      op,
      method: 'POST',
      url: this.url,
      headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${SS_NS}/${operation}"` },
      body,
      // A client fault is the service refusing the request itself; sending it again cannot help.
      noRetry: (status, text) => status === 500 && /<faultcode>\s*(?:\w+:)?(?:Client|VersionMismatch)\s*<\/faultcode>/i.test(text),
    });
    const result = readResult(operation, answer, secrets);
    const errors = children(child(result, 'Errors'), 'string')
      .map((e) => e.text.trim())
      .filter(Boolean);
    const demand = operation === 'GetSecret' ? readDemand(result) : undefined;
    if (errors.length === 0 && !demand) return result;
    const authorize = operation === 'ImpersonateUser' ? childText(result, 'AuthorizeURL')?.trim() : undefined;
    const approveUrl = authorize ? absoluteUrl(authorize, this.url) : undefined;
    const vaultMessage = sanitizeVaultText(errors.join(' ') || demand?.errorCode || 'unknown error', [...secrets, ...(authorize ? [authorize] : [])]);
    const kind = classify(operation, vaultMessage, demand, Boolean(authorize));
    throw new SecretServerError(kind, `Secret Server ${operation}: ${vaultMessage}`, {
      status: answer.status,
      attempts: answer.attempts,
      vaultMessage,
      soapResultErrors: true,
      ...(kind === 'impersonation-pending' && approveUrl ? { approveUrl } : {}),
      ...(kind === 'comment-required' && demand ? { responseCode: demand.errorCode } : {}),
    });
  }
}

/** Strict, so a value XML cannot carry is refused (naming its element) rather than sent altered. */
function summariesOf(result: XmlElement): SoapSecretSummary[] {
  return children(child(result, 'SecretSummaries'), 'SecretSummary').flatMap((s) => {
    const secretId = int(childText(s, 'SecretId'));
    if (secretId === undefined) return [];
    return [
      {
        secretId,
        name: childText(s, 'SecretName') ?? '',
        typeName: childText(s, 'SecretTypeName') ?? '',
        typeId: int(childText(s, 'SecretTypeId')) ?? 0,
        folderId: int(childText(s, 'FolderId')) ?? -1,
        isRestricted: bool(childText(s, 'IsRestricted')) ?? false,
      },
    ];
  });
}

function envelope(operation: string, params: Param[]): string {
  const inner = params.map((p) => ('children' in p ? el(p.name, p.children) : leaf(p.name, p.value)));
  return soapEnvelope([el(operation, inner, { xmlns: SS_NS })], { strict: true });
}

function readResult(operation: string, answer: HttpAnswer, secrets: string[]): XmlElement {
  const op = `SOAP ${operation}`;
  const details = { status: answer.status, attempts: answer.attempts };
  if (answer.status === 401 || answer.status === 403) {
    throw new SecretServerError('authentication', `Secret Server refused ${op} with HTTP ${answer.status}`, details);
  }
  if (answer.status === 404) {
    throw new SecretServerError('unexpected', `no Secret Server web service at this URL (HTTP 404 to ${op}); check the endpoint URL and that web services are enabled`, details);
  }
  if (/html/i.test(answer.contentType) && !/xml/i.test(answer.contentType)) {
    throw new SecretServerError('unexpected', `Secret Server answered ${op} with an HTML page (HTTP ${answer.status}), not SOAP; check the endpoint URL`, details);
  }
  let root: XmlElement;
  try {
    root = parseXml(answer.text, XML_LIMITS);
  } catch (error) {
    // only the message: the detailed one repeats what the vault sent
    if (error instanceof XmlParseError) throw new SecretServerError('unexpected', `Secret Server answered ${op} with unreadable XML (${error.message})`, details);
    throw error;
  }
  const body = root.local === 'Envelope' && root.ns === SOAP_ENVELOPE_NS ? child(root, 'Body', SOAP_ENVELOPE_NS) : undefined;
  if (!body) throw new SecretServerError('unexpected', `Secret Server answered ${op} without a SOAP 1.1 envelope`, details);
  const fault = child(body, 'Fault', SOAP_ENVELOPE_NS);
  if (fault) {
    const text = sanitizeVaultText(childText(fault, 'faultstring') ?? 'no fault text', secrets);
    throw new SecretServerError('unexpected', `Secret Server rejected ${op} with a SOAP fault`, { ...details, vaultMessage: text });
  }
  if (answer.status < 200 || answer.status >= 300) {
    throw new SecretServerError('unexpected', `Secret Server answered HTTP ${answer.status} to ${op}`, details);
  }
  const result = child(child(body, `${operation}Response`), `${operation}Result`);
  if (!result) throw new SecretServerError('unexpected', `Secret Server answered ${op} without ${operation}Result`, details);
  return result;
}

function readDemand(result: XmlElement): SoapSecretDemand | undefined {
  const secretError = child(result, 'SecretError');
  const errorCode = childText(secretError, 'ErrorCode')?.trim();
  if (!secretError || !errorCode) return undefined;
  return { errorCode, allowsResponse: bool(childText(secretError, 'AllowsResponse')) ?? false };
}

/**
 * Vendor wording to kinds. Quoted parts (user and application names) are dropped first so a user called
 * "pending" or "revoked" cannot steer the classification.
 */
function classify(operation: string, message: string, demand: SoapSecretDemand | undefined, hasAuthorizeUrl: boolean): SecretServerErrorKind {
  const text = message.replace(/'[^']*'|"[^"]*"/g, ' ');
  if (operation === 'Authenticate') return 'authentication';
  if (/\btoken\b/i.test(text) && /\b(invalid|expired|not valid)\b/i.test(text)) return 'token-expired';
  if (/\bsession\b/i.test(text) && /\bexpired\b/i.test(text)) return 'token-expired';
  switch (operation) {
    case 'ImpersonateUser':
      if (hasAuthorizeUrl || /\bpending\b|\bnot approved\b|\bhas not approved\b/i.test(text)) return 'impersonation-pending';
      if (/\brevoked\b/i.test(text)) return 'impersonation-revoked';
      if (/impersonat/i.test(text) && /\b(permission|role|not allowed|access denied)\b/i.test(text)) return 'no-impersonate-permission';
      if (/\b(not found|does not exist|no such user|unknown user|invalid user)\b/i.test(text)) return 'user-not-found';
      if (/\bdenied access\b|\baccess (was )?denied by\b|\brejected\b/i.test(text)) return 'impersonation-denied';
      if (/\bdenied\b/i.test(text)) return 'no-impersonate-permission';
      return 'unexpected';
    case 'SearchSecretsByFieldValue':
    case 'SearchSecrets':
      return 'search';
    case 'GetSecret': {
      const code = demand?.errorCode.toUpperCase();
      if (code === 'COMMENT' || code === 'TICKETNUMBER' || (demand?.allowsResponse && code !== 'CHECKEDOUT')) return 'comment-required';
      if (code === 'APPROVAL' || code === 'DOUBLELOCK') return 'approval-required';
      if (code === 'CHECKEDOUT' || /\bchecked out by\b/i.test(text)) return 'checked-out';
      if (/\baccess denied\b|\bnot (have )?permission\b/i.test(text)) return 'access-denied';
      if (/\bnot found\b|\bdoes not exist\b/i.test(text)) return 'not-found';
      return 'unexpected';
    }
    case 'GetCheckOutStatus':
      if (/\baccess denied\b|\bnot (have )?permission\b/i.test(text)) return 'access-denied';
      if (/\bnot found\b|\bdoes not exist\b/i.test(text)) return 'not-found';
      return 'unexpected';
    case 'CheckIn':
      if (/\bchecked out by\b/i.test(text)) return 'checked-out';
      if (/\baccess denied\b/i.test(text)) return 'access-denied';
      return 'unexpected';
    default:
      return 'unexpected';
  }
}

/** An AuthorizeURL may be relative to the server; anything other than http(s) is not passed on. */
function absoluteUrl(raw: string, base: string): string | undefined {
  try {
    const url = new URL(raw, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

function requiredText(result: XmlElement, name: string, operation: string): string {
  const value = childText(result, name)?.trim();
  if (!value) throw new SecretServerError('unexpected', `Secret Server answered ${operation} without a ${name}`);
  return value;
}

function int(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  return /^[+-]?\d{1,15}$/.test(trimmed) ? Number(trimmed) : undefined;
}

function bool(text: string | undefined): boolean | undefined {
  const t = text?.trim().toLowerCase();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  return undefined;
}

function positiveId(id: number): number {
  if (!Number.isSafeInteger(id) || id <= 0 || id > 2_147_483_647) throw new SecretServerError('unexpected', 'a secret id must be a positive 32-bit integer');
  return id;
}
