/**
 * A Password Safe answer other than success. `body` keeps the vendor's shapes: a number goes out as a bare
 * numeric text (`4031`), a string as a JSON string (`"User not authenticated"`), an object as JSON.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: number | string | Record<string, unknown>,
  ) {
    super(typeof body === 'object' ? `Password Safe API error ${status}` : String(body));
    this.name = 'ApiError';
  }
}

export const NOT_AUTHENTICATED = 'User not authenticated';
export const ACCOUNT_NOT_FOUND = 'Managed Account not found';

export const CODE_NO_PERMISSION = 4031;
export const CODE_APPROVER_ONLY = 4033;
export const CODE_NOT_APPROVED = 4034;
export const CODE_CONFLICT = 4091;

export const notAuthenticated = (): ApiError => new ApiError(401, NOT_AUTHENTICATED);
export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const noPermission = (): ApiError => new ApiError(403, CODE_NO_PERMISSION);
