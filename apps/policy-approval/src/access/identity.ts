import { userKey as contractsUserKey } from '@openecm/contracts';

/**
 * How user names and endpoints are compared. Directory names are case-insensitive, so `CORP\Alice` and
 * `corp\alice` are one user (the contracts' `userKey`, which never merges two names a vault tells apart); the
 * forms `DOMAIN\user` and `user@domain` stay distinct keys because the appliance sends one form consistently
 * and a silent merge could grant across domains.
 */
export function userKey(user: string): string {
  return contractsUserKey(user);
}

export function endpointKey(endpoint: string): string {
  return endpoint.trim().toLowerCase().replace(/\.$/, '');
}
