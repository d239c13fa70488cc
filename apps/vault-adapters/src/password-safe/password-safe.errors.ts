export type PasswordSafeErrorKind =
  | 'session-expired'
  | 'bad-credentials'
  | 'licence'
  | 'api-disabled'
  | 'forbidden'
  | 'approver-only'
  | 'approval-pending'
  | 'conflict'
  | 'not-found'
  | 'bad-request'
  | 'tls'
  | 'address-refused'
  | 'unavailable'
  | 'unexpected';

/**
 * Every failure of the Password Safe client. The message is built only from fixed operation labels, status
 * codes and vendor numeric codes, so it is safe to log: it never holds a secret, cookie, token or request id.
 */
export interface PasswordSafeErrorDetails {
  /** HTTP status, absent when no answer arrived (transport or TLS failure). */
  status?: number;
  /** Vendor numeric code from the body, e.g. 4031. */
  code?: number;
  /** Node/undici error code of a transport failure, e.g. ECONNREFUSED. */
  transportCode?: string;
  /** How many tries were made, so callers can tell a first answer from one after a lost response. */
  attempts?: number;
  /**
   * The vault's own short message (redacted) of a 400, for the operator's log: it is never part of the
   * message, so no answer to a caller echoes what a vault's body said.
   */
  vaultMessage?: string;
}

export class PasswordSafeError extends Error {
  readonly status: number | undefined;
  readonly code: number | undefined;
  readonly transportCode: string | undefined;
  readonly attempts: number;
  readonly vaultMessage: string | undefined;

  constructor(
    readonly kind: PasswordSafeErrorKind,
    message: string,
    details: PasswordSafeErrorDetails = {},
  ) {
    super(message);
    this.name = 'PasswordSafeError';
    this.status = details.status;
    this.code = details.code;
    this.transportCode = details.transportCode;
    this.attempts = details.attempts ?? 0;
    this.vaultMessage = details.vaultMessage;
  }
}

const CAPABILITY_PATH = /\b(Credentials|Requests(?:\/Release)?)\/\d+/gi;

/** Request ids are bearer capabilities, so they are replaced before anything reaches a log or a message. */
export function redactRequestIds(text: string): string {
  return text.replace(CAPABILITY_PATH, '$1/{id}');
}
