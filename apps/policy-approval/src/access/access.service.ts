import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { AccessPolicyDefinition, OpenEcmError } from '@openecm/contracts';
import { Broadcaster } from '@openecm/messaging';
import { prepared } from '@openecm/persistence';
import { CacheInvalidations, type CacheScope } from '@openecm/service-kit';
import { DataSource } from 'typeorm';
import { coversEndpoint, decide, inScope, nextOpeningOf, openNow, type Grant, type HeldPolicy, type Target } from '../policies/policy-engine';
import { userKey } from './identity';

export const DEFAULT_POLICY = 'Secure Remote Access Approval Policy';
export const DEFAULT_GROUP = 'Secure Remote Access Requesters';

/** Users whose policies are kept in memory at most; the oldest is dropped first. */
const MEMBERSHIP_ENTRIES = 50_000;

/** A user's groups and their policies: read afresh by every injection, and by a list on a cache miss. */
const POLICIES_OF = prepared(
  'policy.policies_of',
  `SELECT g.name AS group_name, p.name AS policy_name, p.definition
     FROM policy.group_member m
     JOIN policy.requester_group g ON g.id = m.group_id
     JOIN policy.group_policy gp ON gp.group_id = g.id
     JOIN policy.access_policy p ON p.id = gp.policy_id
    WHERE m.user_key = $1
    ORDER BY g.name, p.name`,
);

/** The default policy as Password Safe creates it: all day, every day, auto-approved. */
const DEFAULT_DEFINITION: AccessPolicyDefinition = AccessPolicyDefinition.parse({});

/**
 * Decides what a user may request: the policies of their requester groups, the most permissive that covers a
 * credential and is in its window now. A user's policies are read once per ACCESS_CACHE_SECONDS, not per
 * request; windows are judged at each request, and a change of a membership, group or policy drops them on
 * every instance before it is answered.
 */
@Injectable()
export class AccessService implements OnModuleInit {
  private readonly logger = new Logger(AccessService.name);
  private readonly ttlMs = loadConfig(policyConfig).ACCESS_CACHE_SECONDS * 1000;
  private readonly memberships = new Map<string, { rows: Promise<HeldPolicy[]>; expiresAt: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly broadcaster?: Broadcaster,
    private readonly caches?: CacheInvalidations,
  ) {}

  onModuleInit(): void {
    this.caches?.register('access-decisions', (scope) => this.dropHere(scope));
  }

  /**
   * The policies a user holds; ACCESS_DENIED when none. `fresh` reads them from PostgreSQL whatever is held (an
   * injection: the decision that hands out a secret never rests on an invalidation that may have been missed).
   */
  async policiesOf(user: string, options: { fresh?: boolean } = {}): Promise<HeldPolicy[]> {
    const held = await this.membershipsOf(userKey(user), options.fresh === true);
    if (held.length === 0) throw new OpenEcmError('ACCESS_DENIED', 'the user is not in a requester group with an access policy');
    return held;
  }

  /**
   * Whether the user may request anything at all on this endpoint now (before any vault is asked): some policy
   * in its window whose endpoint scope can cover it. Otherwise ACCESS_DENIED, naming when the next window opens.
   */
  async mayRequest(user: string, endpoint: string | undefined, at = new Date()): Promise<HeldPolicy[]> {
    const held = await this.policiesOf(user);
    const candidates = endpoint === undefined ? held : held.filter((p) => coversEndpoint(p.definition, endpoint));
    if (candidates.some((p) => openNow(p.definition, at))) return candidates;
    throw outsideWindows(candidates, at, endpoint === undefined ? 'no access policy of the user is in its window now' : 'no access policy of the user covers this endpoint now');
  }

  /** The grant for one credential now: the most permissive policy that covers it and is in its window. */
  decide(held: readonly HeldPolicy[], target: Target, at = new Date()): Grant {
    const grant = decide(held, target, at);
    if (grant) return grant;
    throw outsideWindows(held.filter((p) => inScope(p.definition, target)), at, 'no access policy of the user covers this credential now');
  }

  /** Whether `approver` is a member of each of these groups (by name, any case): the groups they are in. */
  async groupsOfApprover(approver: string, groups: readonly string[]): Promise<string[]> {
    if (groups.length === 0) return [];
    const rows: Array<{ name: string }> = await this.db.query(
      `SELECT g.name FROM policy.group_member m JOIN policy.requester_group g ON g.id = m.group_id
        WHERE m.user_key = $1 AND g.name_key = ANY($2) ORDER BY g.name`,
      [userKey(approver), groups.map((g) => g.trim().toLowerCase())],
    );
    return rows.map((r) => r.name);
  }

  /** The policy and group Password Safe creates with its first remote-access connection; idempotent. */
  async ensureDefaults(): Promise<{ group: string; policy: string; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const policy: Array<{ id: string }> = await tx.query(
        `INSERT INTO policy.access_policy (name, name_key, definition) VALUES ($1, lower($1), $2)
         ON CONFLICT (name_key) DO UPDATE SET name_key = EXCLUDED.name_key RETURNING id`,
        [DEFAULT_POLICY, JSON.stringify(DEFAULT_DEFINITION)],
      );
      const group: Array<{ id: string }> = await tx.query(
        `INSERT INTO policy.requester_group (name, name_key) VALUES ($1, $2)
         ON CONFLICT (name_key) DO NOTHING RETURNING id`,
        [DEFAULT_GROUP, DEFAULT_GROUP.toLowerCase()],
      );
      // a group an admin has since given other policies keeps them
      if (group[0]) await tx.query(`INSERT INTO policy.group_policy (group_id, policy_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [group[0].id, policy[0]?.id]);
      return { group: DEFAULT_GROUP, policy: DEFAULT_POLICY, created: group.length > 0 };
    });
  }

  async addMember(group: string, user: string): Promise<boolean> {
    const groupId = await this.groupId(group);
    const rows: unknown[] = await this.db.query(
      `INSERT INTO policy.group_member (group_id, user_key, user_name) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING user_key`,
      [groupId, userKey(user), user.trim()],
    );
    await this.invalidateEverywhere(user);
    return rows.length > 0;
  }

  async removeMember(group: string, user: string): Promise<boolean> {
    const groupId = await this.groupId(group);
    const [, count] = (await this.db.query(`DELETE FROM policy.group_member WHERE group_id = $1 AND user_key = $2`, [
      groupId,
      userKey(user),
    ])) as [unknown, number];
    // answered only once every instance forgot what it knew of the user: the next request anywhere is refused
    await this.invalidateEverywhere(user);
    return count > 0;
  }

  private membershipsOf(key: string, fresh = false): Promise<HeldPolicy[]> {
    const now = Date.now();
    const held = this.memberships.get(key);
    if (!fresh && held && held.expiresAt > now) return held.rows;
    const rows = POLICIES_OF
      .run<{ group_name: string; policy_name: string; definition: AccessPolicyDefinition }>(this.db, [key])
      .then((found) => found.map((r) => ({ name: r.policy_name, group: r.group_name, definition: r.definition })));
    if (this.ttlMs > 0) {
      const entry = { rows, expiresAt: now + this.ttlMs };
      this.memberships.delete(key);
      this.memberships.set(key, entry);
      if (this.memberships.size > MEMBERSHIP_ENTRIES) this.memberships.delete(this.memberships.keys().next().value as string);
      // a failed read is not kept
      rows.catch(() => {
        if (this.memberships.get(key) === entry) this.memberships.delete(key);
      });
    }
    return rows;
  }

  private dropHere(scope: CacheScope): number {
    if (scope.user === undefined) {
      const dropped = this.memberships.size;
      this.memberships.clear();
      return dropped;
    }
    return this.memberships.delete(userKey(scope.user)) ? 1 : 0;
  }

  /** This instance and every other drop what they hold for the user (every user without one). */
  async invalidateEverywhere(user?: string): Promise<void> {
    this.dropHere({ user });
    try {
      // an admin change, not the hot path: waited out long enough for a busy instance to answer before it is answered
      await this.broadcaster?.gather('ops.cache.invalidate.v1', { cache: 'access-decisions', ...(user ? { user } : {}) }, { quietMs: 400, maxWaitMs: 3_000 });
    } catch (error) {
      // the change stands; an instance that missed it forgets within ACCESS_CACHE_SECONDS
      this.logger.warn({ msg: 'access change not announced to the other instances', err: (error as Error).message });
    }
  }

  private async groupId(group: string): Promise<string> {
    const rows: Array<{ id: string }> = await this.db.query(`SELECT id FROM policy.requester_group WHERE name_key = $1`, [
      group.trim().toLowerCase(),
    ]);
    const id = rows[0]?.id;
    if (!id) throw new OpenEcmError('GROUP_NOT_FOUND', `no requester group named "${group}"`);
    return id;
  }
}

/** ACCESS_DENIED outside every window, with when the next one opens (in the detail and as `opensAt`). */
function outsideWindows(policies: readonly HeldPolicy[], at: Date, why: string): OpenEcmError {
  const opens = nextOpeningOf(policies, at);
  if (!opens) return new OpenEcmError('ACCESS_DENIED', `${why}, and none opens again`);
  const when = opens.toISOString();
  return new OpenEcmError('ACCESS_DENIED', `${why}; the next window opens at ${when}`, undefined, { opensAt: when });
}
