/**
 * Every error the broker can answer, with the HTTP status the gateway gives it. Services throw
 * `OpenEcmError` with one of these codes; it crosses NATS as `{code, message, fields?}` and reaches the
 * appliance as problem+json with the same `code`.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_MISSING: 403,
  CSRF_TOKEN_INVALID: 403,
  ACCESS_DENIED: 403,
  CREDENTIAL_NOT_OFFERED: 403,
  APPROVAL_REQUIRED: 403,
  APPROVAL_DENIED: 403,
  APPROVER_NOT_ELIGIBLE: 403,
  VAULT_FORBIDDEN: 403,
  VAULT_APPROVAL_PENDING: 403,
  NOT_FOUND: 404,
  CREDENTIAL_NOT_FOUND: 404,
  LEASE_NOT_FOUND: 404,
  VAULT_NOT_FOUND: 404,
  VAULT_ACCOUNT_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  JUMP_ITEMS_DISABLED: 404,
  POLICY_NOT_FOUND: 404,
  APPROVAL_NOT_FOUND: 404,
  QUEUE_ENTRY_NOT_FOUND: 404,
  CREDENTIAL_IN_USE: 409,
  VAULT_CONFLICT: 409,
  LEASE_NOT_ACTIVE: 409,
  POLICY_IN_USE: 409,
  APPROVAL_NOT_PENDING: 409,
  RATE_LIMITED: 429,
  REQUEST_HEADERS_TOO_LARGE: 431,
  VAULT_AUTH_FAILED: 502,
  VAULT_ERROR: 502,
  VAULT_TLS_ERROR: 502,
  VAULT_ADDRESS_REFUSED: 502,
  VAULT_UNAVAILABLE: 503,
  VAULT_SETTINGS_UNREADABLE: 503,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_BUSY: 503,
  UPSTREAM_TIMEOUT: 504,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldIssue {
  field: string;
  message: string;
}

/** Facts an error carries for the caller to act on, answered as problem+json extension members. */
export interface ErrorDetails {
  /** CREDENTIAL_IN_USE: the caller's place in the credential's queue. */
  queueId?: string;
  queuePosition?: number;
  /** ACCESS_DENIED outside every window: when the next one opens. */
  opensAt?: string;
  /** APPROVAL_DENIED: the request that was denied. */
  approvalId?: string;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  fields?: FieldIssue[];
  details?: ErrorDetails;
}

/** A failure meant for the caller. The message must never carry a secret. */
export class OpenEcmError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldIssue[],
    readonly details?: ErrorDetails,
  ) {
    super(message);
    this.name = 'OpenEcmError';
  }

  get status(): number {
    return ERROR_CODES[this.code];
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, ...(this.fields ? { fields: this.fields } : {}), ...(this.details ? { details: this.details } : {}) };
  }

  static fromBody(body: ErrorBody): OpenEcmError {
    return new OpenEcmError(body.code, body.message, body.fields, body.details);
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}
