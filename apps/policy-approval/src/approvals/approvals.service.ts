import { Injectable } from '@nestjs/common';
import { OpenEcmError, type ApprovalStatus, type ApprovalView, type EventOf, type ParsedRequestOf, type PendingInjection } from '@openecm/contracts';
import { currentTraceId } from '@openecm/telemetry';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { AccessService } from '../access/access.service';
import { userKey } from '../access/identity';
import { LeaseEvents } from '../events/lease-events';
import type { Offer } from '../offers/offers.service';
import type { HeldPolicy } from '../policies/policy-engine';
import { countedApprovers } from './approver-matching';
import { ApprovalTimers } from './approval-timers';

export interface ApprovalRow {
  id: string;
  offer_id: string;
  user_name: string;
  user_key: string;
  endpoint: string;
  session_id: string;
  owner: string;
  vault: string;
  credential_name: string;
  policy_name: string;
  required: number;
  approver_groups: string[];
  reason: string | null;
  valid_minutes: number;
  status: ApprovalStatus;
  created_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  lease_id: string | null;
}

interface DecisionRow {
  approval_id: string;
  approver_key: string;
  approver_name: string;
  eligible_groups: string[];
  counted_group: string | null;
  decision: 'approve' | 'deny';
  comment: string | null;
  decided_at: Date;
}

/** Approved and unused, but past the time it could be used in: shown as expired. */
function effectiveStatus(row: ApprovalRow, now = Date.now()): ApprovalStatus {
  if ((row.status === 'pending' || (row.status === 'approved' && !row.lease_id)) && row.expires_at.getTime() <= now) return 'expired';
  return row.status;
}

function view(row: ApprovalRow, decisions: DecisionRow[]): ApprovalView {
  return {
    approvalId: row.id,
    status: effectiveStatus(row),
    user: row.user_name,
    endpoint: row.endpoint,
    sessionId: row.session_id,
    vault: row.vault,
    credentialName: row.credential_name,
    policy: row.policy_name,
    reason: row.reason,
    required: row.required,
    approverGroups: row.approver_groups,
    approvals: decisions.filter((d) => d.decision === 'approve' && d.counted_group !== null).length,
    decisions: decisions.map((d) => ({
      approver: d.approver_name,
      decision: d.decision,
      group: d.counted_group,
      comment: d.comment,
      at: d.decided_at.toISOString(),
    })),
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    decidedAt: row.decided_at?.toISOString() ?? null,
    leaseId: row.lease_id,
  };
}

/**
 * Manual approval ("dual control"): an injection under a manual policy asks N distinct approvers from the
 * policy's approver groups (one counted per group when N > 1; never the requester). Stored in Postgres,
 * announced as events; a pending request expires by a BullMQ delayed job, and the reconciler covers lost jobs.
 * An approved request opens one lease, when the appliance repeats the injection while it is valid.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    private readonly db: DataSource,
    private readonly access: AccessService,
    private readonly events: LeaseEvents,
    private readonly timers: ApprovalTimers,
  ) {}

  /**
   * The approval behind a repeated injection of this offer by this user: a pending one (answered again), an
   * approved one still unused and valid (the check-out may go ahead), or a denial still in its window.
   */
  async latestFor(offerId: string, user: string): Promise<ApprovalRow | undefined> {
    const rows: ApprovalRow[] = await this.db.query(
      `SELECT * FROM policy.approval
        WHERE offer_id = $1 AND user_key = $2 AND lease_id IS NULL AND status IN ('pending', 'approved', 'denied')
          AND expires_at > now()
        ORDER BY created_at DESC LIMIT 1`,
      [offerId, userKey(user)],
    );
    return rows[0];
  }

  async request(input: {
    offer: Offer;
    user: string;
    endpoint: string;
    sessionId: string;
    owner: string;
    policy: HeldPolicy;
    reason: string | null;
  }): Promise<PendingInjection> {
    const rule = input.policy.definition.approval;
    if (rule.mode !== 'manual') throw new Error('an approval is asked only under a manual policy');
    const rows: ApprovalRow[] = await this.db.query(
      `INSERT INTO policy.approval (id, offer_id, user_name, user_key, endpoint, session_id, owner, vault, credential_name,
                                    policy_name, required, approver_groups, reason, valid_minutes, status, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'pending', now() + make_interval(mins => $14))
       RETURNING *`,
      [
        randomUUID(),
        input.offer.id,
        input.user,
        userKey(input.user),
        input.endpoint,
        input.sessionId,
        input.owner,
        input.offer.vault,
        input.offer.name,
        input.policy.name,
        rule.required,
        rule.approverGroups,
        input.reason,
        rule.expiresAfterMinutes,
      ],
    );
    const row = rows[0] as ApprovalRow;
    await Promise.all([
      this.events.publish('policy.approval.requested.v1', {
        ...eventBase(row),
        required: row.required,
        approverGroups: row.approver_groups,
        reason: row.reason,
        expiresAt: row.expires_at.toISOString(),
      }),
      this.timers.expireAt(row.id, row.expires_at),
    ]);
    return pending(row);
  }

  /** Takes an approved request for the lease about to open: at most one lease per approval. */
  async claim(approvalId: string, leaseId: string): Promise<boolean> {
    const [, count] = (await this.db.query(
      `UPDATE policy.approval SET lease_id = $2
        WHERE id = $1 AND status = 'approved' AND lease_id IS NULL AND expires_at > now()`,
      [approvalId, leaseId],
    )) as [unknown, number];
    return count === 1;
  }

  /** Gives a claimed approval back when its check-out did not go ahead (refused before the vault was asked). */
  async unclaim(approvalId: string, leaseId: string): Promise<void> {
    await this.db.query(`UPDATE policy.approval SET lease_id = NULL WHERE id = $1 AND lease_id = $2`, [approvalId, leaseId]);
  }

  /** `owner`: another API account's request is not found, as if it did not exist. */
  async get(approvalId: string, owner?: string): Promise<ApprovalView> {
    await this.expireDue();
    const row = await this.find(this.db.manager, approvalId);
    if (owner !== undefined && row.owner !== owner) throw new OpenEcmError('APPROVAL_NOT_FOUND', 'no such approval request');
    return view(row, await this.decisionsOf(this.db.manager, [row.id]));
  }

  async list(query: ParsedRequestOf<'policy.approval.list.v1'>): Promise<ApprovalView[]> {
    await this.expireDue();
    const approver = query.approver ? userKey(query.approver) : null;
    const rows: ApprovalRow[] = await this.db.query(
      `SELECT a.* FROM policy.approval a
        WHERE ($1::text IS NULL OR a.status = $1)
          AND ($2::text IS NULL OR (
                a.status = 'pending' AND a.user_key <> $2
            AND NOT EXISTS (SELECT 1 FROM policy.approval_decision d WHERE d.approval_id = a.id AND d.approver_key = $2)
            AND EXISTS (SELECT 1 FROM policy.group_member m JOIN policy.requester_group g ON g.id = m.group_id
                         WHERE m.user_key = $2 AND g.name_key IN (SELECT lower(x) FROM unnest(a.approver_groups) x))))
        ORDER BY a.created_at DESC, a.id DESC
        LIMIT $3`,
      [query.status ?? null, approver, query.limit],
    );
    const decisions = await this.decisionsOf(this.db.manager, rows.map((r) => r.id));
    return rows.map((r) => view(r, decisions.filter((d) => d.approval_id === r.id)));
  }

  /**
   * One approver's decision. A denial ends the request; an approval counts when the approver is in an approver
   * group, is not the requester and has not decided before; with N > 1, N approvers each counted for a different
   * group. Serialised per request (row lock), so two approvers on two instances at once are both counted.
   */
  async decide(req: ParsedRequestOf<'policy.approval.decide.v1'>): Promise<ApprovalView> {
    await this.expireDue();
    const outcome = await this.db.transaction(async (tx) => {
      const row = await this.find(tx, req.approvalId, true);
      if (row.status !== 'pending') throw new OpenEcmError('APPROVAL_NOT_PENDING', `the approval request is ${effectiveStatus(row)}`);
      const approverKey = userKey(req.approver);
      if (approverKey === row.user_key) throw new OpenEcmError('APPROVER_NOT_ELIGIBLE', 'nobody approves their own request');
      const eligible = await this.access.groupsOfApprover(req.approver, row.approver_groups);
      if (eligible.length === 0) {
        throw new OpenEcmError('APPROVER_NOT_ELIGIBLE', `the approver is in none of the approver groups of the policy "${row.policy_name}"`);
      }
      const inserted: unknown[] = await tx.query(
        `INSERT INTO policy.approval_decision (approval_id, approver_key, approver_name, eligible_groups, decision, comment)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING approver_key`,
        [row.id, approverKey, req.approver, eligible, req.decision, req.comment ?? null],
      );
      if (inserted.length === 0) throw new OpenEcmError('APPROVER_NOT_ELIGIBLE', 'the approver has decided on this request already');
      if (req.decision === 'deny') {
        // a denial stays on record for the request's time, so repeating the injection does not simply ask again
        const denied = await this.finish(tx, row.id, 'denied');
        return { row: denied, status: 'denied' as const };
      }
      const decisions = await this.decisionsOf(tx, [row.id]);
      const counted = countedApprovers(
        decisions.filter((d) => d.decision === 'approve').map((d) => ({ approver: d.approver_key, groups: d.eligible_groups })),
        row.required,
      );
      for (const d of decisions) {
        await tx.query(`UPDATE policy.approval_decision SET counted_group = $3 WHERE approval_id = $1 AND approver_key = $2`, [
          row.id,
          d.approver_key,
          counted.get(d.approver_key) ?? null,
        ]);
      }
      if (counted.size < row.required) return { row, status: 'pending' as const };
      // approved: the injection may be repeated for as long again as the request could wait
      const rows: [ApprovalRow[], number] = await tx.query(
        `UPDATE policy.approval SET status = 'approved', decided_at = now(), expires_at = now() + make_interval(mins => valid_minutes)
          WHERE id = $1 RETURNING *`,
        [row.id],
      );
      return { row: rows[0][0] as ApprovalRow, status: 'approved' as const };
    });
    if (outcome.status !== 'pending') await this.announce(outcome.row, outcome.status, req.approver);
    return this.get(req.approvalId);
  }

  /** The request can no longer be used; answers the lease it opened, if any (the caller revokes it). */
  async revoke(approvalId: string, by: string): Promise<ApprovalRow> {
    const row = await this.db.transaction(async (tx) => {
      const found = await this.find(tx, approvalId, true);
      if (found.status === 'revoked') return undefined;
      return this.finish(tx, approvalId, 'revoked');
    });
    if (row) await this.announce(row, 'revoked', by);
    return row ?? (await this.find(this.db.manager, approvalId));
  }

  /** Every pending request past its time ends expired (the delayed job's work, and the reconciler's). */
  async expireDue(approvalId?: string): Promise<number> {
    const rows: [ApprovalRow[], number] = await this.db.query(
      `UPDATE policy.approval SET status = 'expired', decided_at = now()
        WHERE status = 'pending' AND expires_at <= now() AND ($1::uuid IS NULL OR id = $1)
        RETURNING *`,
      [approvalId ?? null],
    );
    for (const row of rows[0]) await this.announce(row, 'expired', null);
    return rows[0].length;
  }

  /** Pending requests and their due times: what the reconciler schedules again. */
  async pendingDue(): Promise<Array<{ id: string; expires_at: Date }>> {
    return this.db.query(`SELECT id, expires_at FROM policy.approval WHERE status = 'pending' ORDER BY expires_at`);
  }

  private async finish(tx: EntityManager, id: string, status: 'denied' | 'revoked'): Promise<ApprovalRow> {
    const rows: [ApprovalRow[], number] = await tx.query(`UPDATE policy.approval SET status = $2, decided_at = now() WHERE id = $1 RETURNING *`, [id, status]);
    return rows[0][0] as ApprovalRow;
  }

  private async announce(row: ApprovalRow, status: EventOf<'policy.approval.decided.v1'>['status'], approver: string | null): Promise<void> {
    await this.events.publish('policy.approval.decided.v1', { ...eventBase(row), status, approver, expiresAt: row.expires_at.toISOString() });
  }

  private async find(q: EntityManager, id: string, lock = false): Promise<ApprovalRow> {
    const rows: ApprovalRow[] = await q.query(`SELECT * FROM policy.approval WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    const row = rows[0];
    if (!row) throw new OpenEcmError('APPROVAL_NOT_FOUND', 'no such approval request');
    return row;
  }

  private decisionsOf(q: EntityManager, ids: string[]): Promise<DecisionRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return q.query(`SELECT * FROM policy.approval_decision WHERE approval_id = ANY($1) ORDER BY decided_at, approver_key`, [ids]);
  }
}

export function pending(row: ApprovalRow): PendingInjection {
  return { approvalId: row.id, status: 'pending', expiresAt: row.expires_at.toISOString(), policy: row.policy_name };
}

function eventBase(row: ApprovalRow) {
  const traceId = currentTraceId();
  return {
    // one event per request and outcome: a retried publish is deduplicated by JetStream
    eventId: randomUUID(),
    approvalId: row.id,
    user: row.user_name,
    endpoint: row.endpoint,
    sessionId: row.session_id,
    vault: row.vault,
    credentialName: row.credential_name,
    policy: row.policy_name,
    at: new Date().toISOString(),
    ...(traceId ? { traceId } : {}),
  };
}
