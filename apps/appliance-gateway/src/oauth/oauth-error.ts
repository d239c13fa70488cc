import { OpenEcmError, type ErrorCode, type FieldIssue, type OAuthErrorName } from '@openecm/contracts';

/** Carries the RFC 6749 5.2 error name beside the broker's own problem+json `code`. */
export class OAuthError extends OpenEcmError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly oauthError: OAuthErrorName,
    fields?: FieldIssue[],
    /** For RATE_LIMITED: the seconds the caller must wait, sent as `Retry-After`. */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message, fields);
  }

  static invalidClient(message = 'client authentication failed'): OAuthError {
    return new OAuthError('UNAUTHENTICATED', message, 'invalid_client');
  }
}
