export type SecretServerErrorKind =
  | 'tls'
  | 'address-refused'
  | 'connect'
  | 'authentication'
  | 'impersonation-pending'
  | 'impersonation-denied'
  | 'impersonation-revoked'
  | 'no-impersonate-permission'
  | 'user-not-found'
  | 'token-expired'
  | 'search'
  | 'access-denied'
  | 'not-found'
  | 'comment-required'
  | 'approval-required'
  | 'checkout-required'
  | 'checked-out'
  | 'unavailable'
  | 'unexpected';

export interface SecretServerErrorDetails {
  /** HTTP status, absent when no answer arrived. */
  status?: number;
  /** Node/undici code of a transport failure, e.g. ECONNREFUSED. */
  transportCode?: string;
  attempts?: number;
  /**
   * Pending impersonation only: where the end user approves the API account. Kept out of the message on
   * purpose, because it carries the approval request's id.
   */
  approveUrl?: string;
  /** The vault's own words, sanitised and redacted: for matching and the operator's log. */
  vaultMessage?: string;
  /** vaultMessage is the Errors of a SOAP result in Secret Server's own schema, which Test Settings may show. */
  soapResultErrors?: boolean;
  /** A restricted read: the code to answer in `codeResponses` (SOAP `SecretError.ErrorCode`, e.g. COMMENT). */
  responseCode?: string;
}

/**
 * Every failure of the Secret Server clients. Messages are built from operation labels, statuses and the
 * vault's own sanitised text with every value the call sent (passwords, tokens) and any URL query removed,
 * so they are safe to log and to answer.
 */
export class SecretServerError extends Error {
  readonly status: number | undefined;
  readonly transportCode: string | undefined;
  readonly attempts: number;
  readonly approveUrl: string | undefined;
  readonly vaultMessage: string | undefined;
  readonly responseCode: string | undefined;
  readonly soapResultErrors: boolean;

  constructor(
    readonly kind: SecretServerErrorKind,
    message: string,
    details: SecretServerErrorDetails = {},
  ) {
    super(message);
    this.name = 'SecretServerError';
    this.status = details.status;
    this.transportCode = details.transportCode;
    this.attempts = details.attempts ?? 0;
    this.approveUrl = details.approveUrl;
    this.vaultMessage = details.vaultMessage;
    this.responseCode = details.responseCode;
    this.soapResultErrors = details.soapResultErrors ?? false;
  }
}

export function isSecretServerError(error: unknown, ...kinds: SecretServerErrorKind[]): error is SecretServerError {
  return error instanceof SecretServerError && (kinds.length === 0 || kinds.includes(error.kind));
}

const MAX_MESSAGE = 300;
/** What is kept of a vault's text once the secrets are out: far more than a message shows, however long the vault's answer. */
const MAX_SCANNED = 16 * MAX_MESSAGE;
// Every URL matches, with or without a query, so a scan never starts over inside one (linear in the text).
const URL_QUERY = /\b(https?:\/\/[^\s"'<>?#]*)([?#][^\s"'<>]*)?/gi;

/**
 * Makes a vault message fit to log and show: every value the call sent that must stay secret is cut out
 * (a vault may echo its input), URLs lose their query (AuthorizeURLs carry request ids), control characters
 * go, and the length is bounded. The work is linear in the text, and after the secrets only its start is read.
 */
export function sanitizeVaultText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // longest first, so a secret that contains another is removed whole
  for (const secret of [...secrets].filter((s) => s.length > 0).sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('[redacted]');
  }
  out = out.slice(0, MAX_SCANNED);
  out = out.replace(URL_QUERY, (url: string, base: string, query: string | undefined) => (query === undefined ? url : base));
  out = [...out].map((c) => (isControl(c) ? ' ' : c)).join('').replace(/\s+/g, ' ').trim();
  return out.length > MAX_MESSAGE ? `${out.slice(0, MAX_MESSAGE)}...` : out;
}

function isControl(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}
