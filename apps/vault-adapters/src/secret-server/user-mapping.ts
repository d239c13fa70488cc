import type { SecretServerSettings } from '@openecm/contracts';

/** One way to name a remote-access user to Secret Server, in the order they are tried. */
export interface UserCandidate {
  username: string;
  /** Empty for a local Secret Server user. */
  domain: string;
  /** Empty unless includeDefaultOrganization is set (and an organization configured). */
  organization: string;
  /** Why this candidate is on the list; for logs, messages and tests. */
  rule: 'as-given' | 'default-domain' | 'local-fallback';
}

export type UserMappingSettings = Pick<
  SecretServerSettings,
  'defaultDomainForLocalUsers' | 'fallBackToLocalAccount' | 'includeDefaultOrganization' | 'apiOrganization'
>;

/**
 * The Secret Server users to try, in order, for a user name as the remote-access console sends it
 * (`user`, `DOMAIN\user` or `user@domain`), following the plugin's settings:
 * - a bare user is tried first as `<defaultDomainForLocalUsers>\user` when that is set, else as the local user;
 * - `.\user` (or `\user`) is the local user, whatever the default domain;
 * - with fallBackToLocalAccount, a domain user (given or defaulted) that does not exist is tried again as the
 *   bare local name. Without it there is no second try, so a local Secret Server account is never picked for
 *   someone the settings say is a domain user;
 * - the organization is sent only when includeDefaultOrganization is set.
 * Only "user not found" moves on to the next candidate; a found user's refusal (pending, denied) is final.
 * An unusable name (no user part) yields no candidates.
 */
export function userCandidates(user: string, settings: UserMappingSettings): UserCandidate[] {
  const organization = settings.includeDefaultOrganization ? (settings.apiOrganization?.trim() ?? '') : '';
  const parsed = parseUserName(user);
  if (!parsed) return [];
  const defaultDomain = settings.defaultDomainForLocalUsers?.trim() ?? '';
  const out: UserCandidate[] = [];
  if (parsed.domain === '') {
    return [{ username: parsed.username, domain: '', organization, rule: 'as-given' }];
  }
  if (parsed.domain !== null) {
    out.push({ username: parsed.username, domain: parsed.domain, organization, rule: 'as-given' });
  } else if (defaultDomain !== '') {
    out.push({ username: parsed.username, domain: defaultDomain, organization, rule: 'default-domain' });
  } else {
    return [{ username: parsed.username, domain: '', organization, rule: 'as-given' }];
  }
  if (settings.fallBackToLocalAccount) out.push({ username: parsed.username, domain: '', organization, rule: 'local-fallback' });
  return out;
}

/**
 * Splits the three console forms. `DOMAIN\user` splits at the first backslash, `user@domain` at the last
 * `@`. The domain is null when none was given (a bare user, open to the default domain) and empty when
 * the name says local explicitly (`.\user`, `\user`). A missing user part makes the name unusable.
 */
export function parseUserName(raw: string): { username: string; domain: string | null } | undefined {
  const name = raw.trim();
  const slash = name.indexOf('\\');
  if (slash >= 0) {
    const domain = name.slice(0, slash).trim();
    const username = name.slice(slash + 1).trim();
    if (username === '' || username.includes('\\')) return undefined;
    return { username, domain: domain === '.' ? '' : domain };
  }
  const at = name.lastIndexOf('@');
  if (at >= 0) {
    const username = name.slice(0, at).trim();
    const domain = name.slice(at + 1).trim();
    if (username === '') return undefined;
    return { username, domain: domain === '' ? null : domain };
  }
  return name === '' ? undefined : { username: name, domain: null };
}

/** How a candidate reads in a message: `DOMAIN\user` or the bare name. */
export function describeCandidate(candidate: Pick<UserCandidate, 'username' | 'domain'>): string {
  return candidate.domain === '' ? candidate.username : `${candidate.domain}\\${candidate.username}`;
}
