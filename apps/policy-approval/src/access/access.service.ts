import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { OpenEcmError } from '@openecm/contracts';
import { Broadcaster } from '@openecm/messaging';
import { CacheInvalidations, type CacheScope } from '@openecm/service-kit';
import { DataSource } from 'typeorm';
import { userKey } from './identity';
import { isWithinWindow } from './schedule';

export const DEFAULT_POLICY = 'Secure Remote Access Approval Policy';
export const DEFAULT_GROUP = 'Secure Remote Access Requesters';

interface MembershipRow {
  group_name: string;
  policy_name: string;
  days_of_week: number[];
  start_minute: number;
  end_minute: number;
  time_zone: string;
  auto_approve: boolean;
}

/** Users whose memberships are kept in memory at most; the oldest is dropped first. */
const MEMBERSHIP_ENTRIES = 50_000;

/**
 * Decides whether a user may request credentials now: a requester group whose policy is in its window. A
 * user's memberships and their policies are read once per ACCESS_CACHE_SECONDS, not per request; the window
 * is judged at each request, and a change of a membership drops them on every instance before it is answered.
 */
@Injectable()
export class AccessService implements OnModuleInit {
  private readonly logger = new Logger(AccessService.name);
  private readonly ttlMs = loadConfig(policyConfig).ACCESS_CACHE_SECONDS * 1000;
  private readonly memberships = new Map<string, { rows: Promise<MembershipRow[]>; expiresAt: number }>();

  constructor(
    private readonly db: DataSource,
    private readonly broadcaster?: Broadcaster,
    private readonly caches?: CacheInvalidations,
  ) {}

  onModuleInit(): void {
    this.caches?.register('access-decisions', (scope) => this.dropHere(scope));
  }

  async check(user: string, at = new Date()): Promise<{ group: string; policy: string }> {
    const rows = await this.membershipsOf(userKey(user));
    if (rows.length === 0) {
      throw new OpenEcmError('ACCESS_DENIED', 'the user is not in a requester group');
    }
    const inWindow = rows.filter((r) =>
      isWithinWindow(
        { daysOfWeek: r.days_of_week.map(Number), startMinute: r.start_minute, endMinute: r.end_minute, timeZone: r.time_zone },
        at,
      ),
    );
    if (inWindow.length === 0) {
      throw new OpenEcmError('ACCESS_DENIED', "no requester group's access policy allows access at this time");
    }
    const auto = inWindow.find((r) => r.auto_approve);
    if (!auto) {
      throw new OpenEcmError('APPROVAL_REQUIRED', 'the access policy requires an approver; manual approval is not available yet');
    }
    return { group: auto.group_name, policy: auto.policy_name };
  }

  /** The policy and group Password Safe creates with its first remote-access connection; idempotent. */
  async ensureDefaults(): Promise<{ group: string; policy: string; created: boolean }> {
    return this.db.transaction(async (tx) => {
      const policy: Array<{ id: string }> = await tx.query(
        `INSERT INTO policy.access_policy (name) VALUES ($1)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
        [DEFAULT_POLICY],
      );
      const group: Array<{ id: string }> = await tx.query(
        `INSERT INTO policy.requester_group (name, name_key, policy_id) VALUES ($1, $2, $3)
         ON CONFLICT (name_key) DO NOTHING RETURNING id`,
        [DEFAULT_GROUP, DEFAULT_GROUP.toLowerCase(), policy[0]?.id],
      );
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

  private membershipsOf(key: string): Promise<MembershipRow[]> {
    const now = Date.now();
    const held = this.memberships.get(key);
    if (held && held.expiresAt > now) return held.rows;
    const rows = this.db.query<MembershipRow[]>(
      `SELECT g.name AS group_name, p.name AS policy_name, p.days_of_week, p.start_minute, p.end_minute,
              p.time_zone, p.auto_approve
         FROM policy.group_member m
         JOIN policy.requester_group g ON g.id = m.group_id
         JOIN policy.access_policy p ON p.id = g.policy_id
        WHERE m.user_key = $1
        ORDER BY g.name`,
      [key],
    );
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
  private async invalidateEverywhere(user?: string): Promise<void> {
    this.dropHere({ user });
    try {
      await this.broadcaster?.gather('ops.cache.invalidate.v1', { cache: 'access-decisions', ...(user ? { user } : {}) }, { quietMs: 100, maxWaitMs: 2_000 });
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
