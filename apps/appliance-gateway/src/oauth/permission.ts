import { ApiPermission, type ConsolePerson } from '@openecm/contracts';

/** The API account behind a valid access token, or a person signed in to the console (`person:<subject>`). */
export interface ApiPrincipal {
  accountId: string;
  clientId: string;
  permissions: readonly ApiPermission[];
  person?: ConsolePerson;
}

export type AccessDecision = 'allow' | 'unauthenticated' | 'forbidden';

/**
 * No token, or one that is unknown or expired, is 401; a valid token without the route's permission is 403.
 * A route that names no permission admits nobody, so a forgotten declaration fails closed. Permissions
 * do not imply each other: an admin account lists no credentials unless it also holds `credentials`.
 */
export function decideAccess(principal: ApiPrincipal | undefined, required: ApiPermission | readonly ApiPermission[] | undefined): AccessDecision {
  if (!principal) return 'unauthenticated';
  const anyOf = typeof required === 'string' ? [required] : (required ?? []);
  if (!anyOf.some((p) => principal.permissions.includes(p))) return 'forbidden';
  return 'allow';
}

/** Narrows a stored permission name; anything the contract no longer knows grants nothing. */
export function isApiPermission(value: string): value is ApiPermission {
  return ApiPermission.safeParse(value).success;
}

/**
 * Whose leases an account may read and release: its own, or, holding `admin`, any account's (an operator
 * releasing a lease an appliance left open).
 */
export function leaseOwnerFilter(principal: ApiPrincipal): string | null {
  return principal.permissions.includes('admin') ? null : principal.clientId;
}
