import { OpenEcmError, type ErrorCode, type FieldIssue } from '@openecm/contracts';

/** RFC 6749 5.2 error names; the problem+json `code` stays the broker's own. */
export type OAuthErrorName = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type';

export class OAuthError extends OpenEcmError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly oauthError: OAuthErrorName,
    fields?: FieldIssue[],
  ) {
    super(code, message, fields);
  }

  static invalidClient(message = 'client authentication failed'): OAuthError {
    return new OAuthError('UNAUTHENTICATED', message, 'invalid_client');
  }
}
