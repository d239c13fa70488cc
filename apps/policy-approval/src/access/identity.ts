/**
 * How user names and endpoints are compared. Directory names are case-insensitive, so `CORP\Alice` and
 * `corp\alice` are one user; the forms `DOMAIN\user` and `user@domain` stay distinct keys because the
 * appliance sends one form consistently and a silent merge could grant across domains.
 */
export function userKey(user: string): string {
  return user.trim().toLowerCase();
}

export function endpointKey(endpoint: string): string {
  return endpoint.trim().toLowerCase().replace(/\.$/, '');
}
