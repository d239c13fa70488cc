import type { HashicorpVaultSettings } from '@openecm/contracts';

const normalise = (name: string): string => name.trim().toLowerCase().replace(/\.$/, '');
const isIp = (name: string): boolean => /^[0-9.]+$/.test(name) || name.includes(':');

/**
 * Whether `endpoint` is one of `patterns`: the same name, IP address or DNS name (case-insensitive, a trailing dot
 * ignored); `*.corp.example` for every name below corp.example; and a bare host name for its fully qualified
 * names (`srv-db01` matches `srv-db01.corp.example`, never an IP address).
 */
export function matchesEndpoint(patterns: readonly string[], endpoint: string): boolean {
  const target = normalise(endpoint);
  const host = isIp(target) ? target : (target.split('.')[0] as string);
  return patterns.some((raw) => {
    const pattern = normalise(raw);
    if (pattern.startsWith('*.')) return target.endsWith(pattern.slice(1));
    if (pattern === target) return true;
    return !pattern.includes('.') && !isIp(pattern) && pattern === host;
  });
}

/** The account part of a user name: `CORP\\alice` and `alice@corp.example` are both `alice`. */
export function accountName(user: string): string {
  const slash = user.lastIndexOf('\\');
  const bare = slash >= 0 ? user.slice(slash + 1) : user;
  const at = bare.indexOf('@');
  return (at > 0 ? bare.slice(0, at) : bare).toLowerCase();
}

/** Whether `user` is among `users` (every user when there is no list), as the connection's userMapping matches them. */
export function userAllowed(users: readonly string[] | undefined, user: string, mapping: HashicorpVaultSettings['userMapping']): boolean {
  if (!users || users.length === 0) return true;
  const key = mapping.match === 'exact' ? (u: string) => u.trim().toLowerCase() : accountName;
  const wanted = key(user);
  return users.some((u) => key(u) === wanted);
}

/** A comma-separated custom_metadata value as a list. */
export function metadataList(value: string | undefined): string[] {
  return (value ?? '').split(',').map((v) => v.trim()).filter(Boolean);
}
