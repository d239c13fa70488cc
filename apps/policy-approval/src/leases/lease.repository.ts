import { Injectable } from '@nestjs/common';
import type { LeaseView, LeaseState, VaultRef } from '@openecm/contracts';
import { prepared } from '@openecm/persistence';
import { DataSource, type EntityManager } from 'typeorm';

export interface LeaseRow {
  id: string;
  offer_id: string;
  user_name: string;
  endpoint: string;
  session_id: string;
  vault: string;
  credential_name: string;
  username: string;
  domain: string | null;
  state: LeaseState;
  rotate: boolean;
  rotation: LeaseView['rotation'];
  opened_at: Date;
  release_at: Date;
  released_at: Date | null;
  released_by: 'appliance' | 'expiry' | 'revocation' | null;
  rotated_at: Date | null;
  error_code: string | null;
  error_message: string | null;
  /** A failed check-out that may have reached the vault: the release path still checks it in. */
  checkin_due: boolean;
  /** The client id of the API account that opened the lease; null for leases opened before owners were kept. */
  owner: string | null;
  ref?: VaultRef;
  policy_name: string | null;
  approval_id: string | null;
  emergency: boolean;
  reason: string | null;
  exclusive: boolean;
  credential_key: string | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

/** Runs a statement: the data source, or a transaction's manager. */
export type Queryable = Pick<EntityManager, 'query'>;

/** Every column of a lease row, named (a prepared statement answers named columns: libs/persistence). */
const LEASE_COLUMNS = [
  'id', 'offer_id', 'user_name', 'endpoint', 'session_id', 'vault', 'credential_name', 'username', 'domain', 'state', 'rotate',
  'rotation', 'opened_at', 'release_at', 'released_at', 'released_by', 'rotated_at', 'error_code', 'error_message', 'checkin_due',
  'owner', 'policy_name', 'approval_id', 'emergency', 'reason', 'exclusive', 'credential_key', 'revoked_at', 'revoked_reason',
].join(', ');

/** Written by every injection. */
const INSERT_LEASE = prepared(
  'policy.insert_lease',
  `INSERT INTO policy.lease (id, offer_id, user_name, endpoint, session_id, vault, credential_name, username, domain,
                             state, rotate, rotation, release_at, owner, policy_name, approval_id, emergency, reason,
                             exclusive, credential_key)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11, now() + make_interval(mins => $12), $13, $14, $15,
           $16, $17, $18, $19)
   RETURNING ${LEASE_COLUMNS}`,
);

/** Postgres refused a second holder of an exclusive credential (the partial unique index). */
export function isExclusiveConflict(error: unknown): boolean {
  const driver = (error as { driverError?: { code?: string; constraint?: string }; code?: string; constraint?: string }) ?? {};
  const e = driver.driverError ?? driver;
  return e.code === '23505' && e.constraint === 'lease_exclusive_holder';
}

export function toView(row: LeaseRow): LeaseView {
  return {
    leaseId: row.id,
    state: row.state,
    user: row.user_name,
    endpoint: row.endpoint,
    sessionId: row.session_id,
    vault: row.vault,
    credentialName: row.credential_name,
    username: row.username,
    domain: row.domain,
    openedAt: row.opened_at.toISOString(),
    releaseAt: row.release_at.toISOString(),
    releasedAt: row.released_at?.toISOString() ?? null,
    releasedBy: row.released_by,
    rotation: row.rotation,
    rotatedAt: row.rotated_at?.toISOString() ?? null,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    policy: row.policy_name,
    approvalId: row.approval_id,
    emergency: row.emergency,
    reason: row.reason,
    revokedReason: row.revoked_reason,
  };
}

/** Leases in Postgres: the source of truth for what must still be checked in and rotated. */
@Injectable()
export class LeaseRepository {
  constructor(private readonly db: DataSource) {}

  async insert(lease: {
    id: string;
    offerId: string;
    user: string;
    endpoint: string;
    sessionId: string;
    vault: string;
    credentialName: string;
    username: string;
    domain: string | null;
    rotate: boolean;
    durationMinutes: number;
    owner: string;
    policy: string;
    approvalId: string | null;
    emergency: boolean;
    reason: string | null;
    exclusive: boolean;
    credentialKey: string;
  }, q: Queryable = this.db): Promise<LeaseRow> {
    const rows = await INSERT_LEASE.run<LeaseRow>(q, [lease.id, lease.offerId, lease.user, lease.endpoint, lease.sessionId, lease.vault, lease.credentialName, lease.username, lease.domain, lease.rotate, lease.rotate ? 'pending' : 'not-required', lease.durationMinutes, lease.owner, lease.policy, lease.approvalId, lease.emergency, lease.reason, lease.exclusive, lease.credentialKey]);
    return rows[0] as LeaseRow;
  }

  async find(id: string): Promise<LeaseRow | undefined> {
    const rows: LeaseRow[] = await this.db.query(`SELECT * FROM policy.lease WHERE id = $1`, [id]);
    return rows[0];
  }

  /**
   * Newest first, optionally of one state and one user (any case), after the position a cursor names. The
   * cursor is the last row's `opened_at` as Postgres writes it (microseconds kept) and its id.
   */
  async page(filter: { state?: LeaseState; user?: string; limit: number; after?: { openedAt: string; id: string } }): Promise<{ rows: LeaseRow[]; last?: { openedAt: string; id: string } }> {
    const rows: Array<LeaseRow & { opened_at_text: string }> = await this.db.query(
      `SELECT *, opened_at::text AS opened_at_text FROM policy.lease
        WHERE ($1::text IS NULL OR state = $1)
          AND ($2::text IS NULL OR lower(user_name) = lower($2))
          AND ($3::timestamptz IS NULL OR (opened_at, id) < ($3::timestamptz, $4::uuid))
        ORDER BY opened_at DESC, id DESC
        LIMIT $5`,
      [filter.state ?? null, filter.user ?? null, filter.after?.openedAt ?? null, filter.after?.id ?? null, filter.limit],
    );
    const last = rows[rows.length - 1];
    return { rows, ...(last ? { last: { openedAt: last.opened_at_text, id: last.id } } : {}) };
  }

  /** The vault locator of a lease's credential, for check-in. */
  async refOf(id: string): Promise<VaultRef | undefined> {
    const rows: Array<{ ref: VaultRef }> = await this.db.query(
      `SELECT o.ref FROM policy.lease l JOIN policy.credential_offer o ON o.id = l.offer_id WHERE l.id = $1`,
      [id],
    );
    return rows[0]?.ref;
  }

  /**
   * active -> released by revocation, rotated whatever the connection says (whoever saw the secret may not keep
   * it); answers the row only when this call made the transition.
   */
  async markRevoked(id: string, reason: string): Promise<LeaseRow | undefined> {
    const rows: [LeaseRow[], number] = await this.db.query(
      `UPDATE policy.lease
          SET state = 'released', released_at = now(), released_by = 'revocation', rotate = true, rotation = 'scheduled',
              revoked_at = now(), revoked_reason = $2
        WHERE id = $1 AND state = 'active'
        RETURNING *`,
      [id, reason.slice(0, 1000)],
    );
    return rows[0][0];
  }

  /** active -> released; answers the row only when this call made the transition. */
  async markReleased(id: string, by: 'appliance' | 'expiry'): Promise<LeaseRow | undefined> {
    const rows: [LeaseRow[], number] = await this.db.query(
      `UPDATE policy.lease
          SET state = 'released', released_at = now(), released_by = $2,
              rotation = CASE WHEN rotate THEN 'scheduled' ELSE 'not-required' END
        WHERE id = $1 AND state = 'active'
        RETURNING *`,
      [id, by],
    );
    return rows[0][0];
  }

  async markCheckedIn(id: string, rotated: boolean): Promise<LeaseRow | undefined> {
    const rows: [LeaseRow[], number] = await this.db.query(
      `UPDATE policy.lease
          SET state = $2, rotation = $3, rotated_at = CASE WHEN $4::boolean THEN now() ELSE NULL END,
              error_code = NULL, error_message = NULL
        WHERE id = $1 AND state = 'released'
        RETURNING *`,
      [id, rotated ? 'rotated' : 'checked-in', rotated ? 'done' : 'not-required', rotated],
    );
    return rows[0][0];
  }

  async markFailed(id: string, from: LeaseState[], code: string, message: string): Promise<LeaseRow | undefined> {
    const rows: [LeaseRow[], number] = await this.db.query(
      `UPDATE policy.lease
          SET state = 'failed', rotation = CASE WHEN rotate THEN 'failed' ELSE rotation END,
              error_code = $3, error_message = $4, checkin_due = false
        WHERE id = $1 AND state = ANY($2)
        RETURNING *`,
      [id, from, code, message.slice(0, 500)],
    );
    return rows[0][0];
  }

  /**
   * active -> failed for a check-out that failed, in the same statement that keeps it due for check-in: the
   * vault may hold a request for it (the broker cannot tell a lost answer from a refusal).
   */
  async markCheckoutFailed(id: string, code: string, message: string): Promise<LeaseRow | undefined> {
    const rows: [LeaseRow[], number] = await this.db.query(
      `UPDATE policy.lease
          SET state = 'failed', rotation = CASE WHEN rotate THEN 'scheduled' ELSE rotation END,
              error_code = $2, error_message = $3, checkin_due = true
        WHERE id = $1 AND state = 'active'
        RETURNING *`,
      [id, code, message.slice(0, 500)],
    );
    return rows[0][0];
  }

  /** A failed check-out's check-in is done: whatever the vault held for it is back (and rotated when asked). */
  async markFailedCheckedIn(id: string, rotated: boolean): Promise<LeaseRow | undefined> {
    const rows: [LeaseRow[], number] = await this.db.query(
      `UPDATE policy.lease
          SET checkin_due = false,
              rotation = CASE WHEN NOT rotate THEN rotation WHEN $2::boolean THEN 'done' ELSE 'not-required' END,
              rotated_at = CASE WHEN $2::boolean THEN now() ELSE rotated_at END
        WHERE id = $1 AND state = 'failed' AND checkin_due
        RETURNING *`,
      [id, rotated],
    );
    return rows[0][0];
  }

  /** A released lease whose check-in failed and is tried again: the rotation shows `retrying` with the last error. */
  async noteRetrying(id: string, code: string, message: string): Promise<void> {
    await this.db.query(
      `UPDATE policy.lease SET error_code = $2, error_message = $3,
              rotation = CASE WHEN rotate THEN 'retrying' ELSE rotation END
        WHERE id = $1 AND state = 'released'`,
      [id, code, message.slice(0, 500)],
    );
  }

  /**
   * The leases whose check-out policy-approval still holds: active ones, released ones not yet checked in and
   * failed check-outs still due for one. At most `limit` ids, oldest first.
   */
  async heldCheckouts(limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM policy.lease WHERE state IN ('active', 'released') OR checkin_due ORDER BY opened_at LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Leases that still need a check-in: active ones (at their due time), released ones and failed check-outs
   * (now). Leases opened in the last `graceSeconds` are left to the injection that is still scheduling them.
   */
  async open(graceSeconds: number): Promise<Array<{ id: string; state: LeaseState; release_at: Date }>> {
    return this.db.query(
      `SELECT id, state, release_at FROM policy.lease
        WHERE state = 'released' OR checkin_due OR (state = 'active' AND opened_at < now() - make_interval(secs => $1))
        ORDER BY release_at`,
      [graceSeconds],
    );
  }
}
