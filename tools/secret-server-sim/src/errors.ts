/**
 * Why a call failed, independent of the API it came through: SOAP answers HTTP 200 with the message in
 * `Errors` (plus a `SecretError` for the secret-access codes), REST answers a 4xx with JSON.
 */
export type SimErrorCode =
  | 'LOGIN_FAILED'
  | 'TOKEN_INVALID'
  | 'IMPERSONATE_NOT_ALLOWED'
  | 'USER_NOT_FOUND'
  | 'TRUST_PENDING'
  | 'TRUST_DENIED'
  | 'TRUST_REVOKED'
  | 'ACCESS_DENIED'
  | 'COMMENT_REQUIRED'
  | 'APPROVAL_REQUIRED'
  | 'CHECKOUT_REQUIRED'
  | 'CHECKED_OUT_BY_OTHER';

export class SimError extends Error {
  constructor(
    readonly code: SimErrorCode,
    message: string,
    /** Only for TRUST_PENDING: where the end user approves the API account. */
    readonly authorizeUrl?: string,
  ) {
    super(message);
    this.name = 'SimError';
  }
}

export const LOGIN_FAILED = 'Login failed.';
export const TOKEN_INVALID = 'Token is invalid or has expired.';
export const ACCESS_DENIED = 'Access Denied';
export const IMPERSONATE_NOT_ALLOWED = "Access Denied: the role permission 'Web Services Impersonate' is required to impersonate users.";
export const COMMENT_REQUIRED = 'The requested Secret requires a comment when viewed.';
export const APPROVAL_REQUIRED = 'The requested Secret requires approval for access.';
export const CHECKOUT_REQUIRED = 'The requested Secret requires check out.';
export const REST_AUTH_FAILED = 'Authentication failed.';

export const userNotFound = (name: string): string => `User '${name}' not found.`;
export const trustPending = (user: string, apiUser: string): string =>
  `User '${user}' has not approved access for the application '${apiUser}' yet. The request is pending approval.`;
export const trustDenied = (user: string, apiUser: string): string => `User '${user}' denied access for the application '${apiUser}'.`;
export const trustRevoked = (user: string, apiUser: string): string => `User '${user}' revoked access for the application '${apiUser}'.`;
export const checkedOutByOther = (displayName: string): string => `The Secret is checked out by ${displayName}.`;

/** SOAP `SecretError.ErrorCode` for the codes a caller may meet on GetSecret. */
export const SOAP_SECRET_ERROR_CODES: Partial<Record<SimErrorCode, { code: string; allowsResponse: boolean }>> = {
  COMMENT_REQUIRED: { code: 'COMMENT', allowsResponse: true },
  APPROVAL_REQUIRED: { code: 'APPROVAL', allowsResponse: false },
  CHECKED_OUT_BY_OTHER: { code: 'CHECKEDOUT', allowsResponse: false },
};

/**
 * REST answers: status, and the `errorCode` the vendor puts beside `message` where it has one. Sign-in and
 * token failures have fixed bodies of their own; the trust codes only arise from SOAP ImpersonateUser.
 */
export const REST_ERRORS: Record<Exclude<SimErrorCode, 'LOGIN_FAILED' | 'TOKEN_INVALID'>, { status: number; errorCode?: string }> = {
  IMPERSONATE_NOT_ALLOWED: { status: 403 },
  USER_NOT_FOUND: { status: 400 },
  TRUST_PENDING: { status: 403 },
  TRUST_DENIED: { status: 403 },
  TRUST_REVOKED: { status: 403 },
  ACCESS_DENIED: { status: 403, errorCode: 'API_AccessDenied' },
  COMMENT_REQUIRED: { status: 400, errorCode: 'API_ValidateSecretAccessCommentRequired' },
  APPROVAL_REQUIRED: { status: 400, errorCode: 'API_ValidateSecretAccessApprovalRequired' },
  CHECKOUT_REQUIRED: { status: 400, errorCode: 'API_ValidateSecretAccessCheckoutRequired' },
  CHECKED_OUT_BY_OTHER: { status: 400, errorCode: 'API_ValidateSecretAccessCheckedOut' },
};
