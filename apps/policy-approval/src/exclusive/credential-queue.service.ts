import { Injectable, Logger } from '@nestjs/common';
import { loadConfig, policyConfig } from '@openecm/config';
import { OpenEcmError, type QueueView } from '@openecm/contracts';
import { currentTraceId } from '@openecm/telemetry';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { userKey } from '../access/identity';
import { ApprovalTimers } from '../approvals/approval-timers';
import { LeaseEvents } from '../events/lease-events';

interface WaitRow {
  id: string;
  credential_key: string;
  user_key: string;
  user_name: string;
  endpoint: string;
  vault: string;
  credential_name: string;
  status: 'waiting' | 'turn' | 'served' | 'expired';
  created_at: Date;
  expires_at: Date;
  turn_until: Date | null;
}

/** Who asks for an exclusive credential, and which. */
export interface Asker {
  credentialKey: string;
  user: string;
  endpoint: string;
  vault: string;
  credentialName: string;
}

/**
 * The wait queue of an exclusive credential. While someone holds it (a lease, until its check-in), others are
 * queued in order; when it is free the first waiter is told (policy.queue.turn.v1) and holds it for
 * EXCLUSIVE_TURN_SECONDS; a waiter gives up after EXCLUSIVE_WAIT_MINUTES. Decisions about one credential are
 * serialised by a transaction-scoped advisory lock on it, across instances; the lease table's unique index is
 * the last word on who holds it. Nobody is checked out for before their turn.
 */
@Injectable()
export class CredentialQueue {
  private readonly logger = new Logger(CredentialQueue.name);
  private readonly config = loadConfig(policyConfig);

  constructor(
    private readonly db: DataSource,
    private readonly events: LeaseEvents,
    private readonly timers: ApprovalTimers,
  ) {}

  /**
   * Lets the asker go ahead (their turn, or nobody holds or waits for the credential), or queues them and
   * answers CREDENTIAL_IN_USE with their place.
   */
  async admit(asker: Asker): Promise<void> {
    const { admitted, turns, place } = await this.db.transaction(async (tx) => {
      await this.lock(tx, asker.credentialKey);
      await this.expireStale(tx, asker.credentialKey);
      const held = await this.isHeld(tx, asker.credentialKey);
      let open = await this.openEntries(tx, asker.credentialKey);
      const key = userKey(asker.user);
      const mine = open.find((e) => e.user_key === key);
      const first = open[0];
      const turns: WaitRow[] = [];
      if (!held) {
        if (!first) return { admitted: true, turns };
        if (first === mine) {
          await tx.query(`UPDATE policy.credential_wait SET status = 'served' WHERE id = $1`, [first.id]);
          return { admitted: true, turns };
        }
        if (first.status === 'waiting') turns.push(await this.giveTurn(tx, first));
      }
      let entry = mine;
      if (!entry) {
        const rows: WaitRow[] = await tx.query(
          `INSERT INTO policy.credential_wait (id, credential_key, user_key, user_name, endpoint, vault, credential_name, status, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'waiting', now() + make_interval(mins => $8)) RETURNING *`,
          [randomUUID(), asker.credentialKey, key, asker.user, asker.endpoint, asker.vault, asker.credentialName, this.config.EXCLUSIVE_WAIT_MINUTES],
        );
        entry = rows[0] as WaitRow;
        open = [...open, entry];
      }
      return { admitted: false, turns, place: { queueId: entry.id, queuePosition: open.indexOf(entry) + 1 } };
    });
    await this.announce(turns);
    if (!admitted && place) {
      throw new OpenEcmError(
        'CREDENTIAL_IN_USE',
        `the credential is exclusive and in use; you are number ${place.queuePosition} in its queue`,
        undefined,
        place,
      );
    }
  }

  /** The credential may be free: the first waiter's turn comes, unless someone holds it or has the turn. */
  async advance(credentialKey: string): Promise<void> {
    const turns = await this.db.transaction(async (tx) => {
      await this.lock(tx, credentialKey);
      await this.expireStale(tx, credentialKey);
      if (await this.isHeld(tx, credentialKey)) return [];
      const open = await this.openEntries(tx, credentialKey);
      const first = open[0];
      if (!first || first.status === 'turn') return [];
      return [await this.giveTurn(tx, first)];
    });
    await this.announce(turns);
  }

  /** A turn not taken in time passes to the next waiter (the delayed job at the turn's end). */
  async turnEnded(queueId: string): Promise<void> {
    const rows: Array<{ credential_key: string }> = await this.db.query(`SELECT credential_key FROM policy.credential_wait WHERE id = $1`, [queueId]);
    if (rows[0]) await this.advance(rows[0].credential_key);
  }

  /** Every credential someone waits for: the reconciler advances each (a lost job, a crash between release and advance). */
  async waitedFor(): Promise<string[]> {
    const rows: Array<{ credential_key: string }> = await this.db.query(
      `SELECT DISTINCT credential_key FROM policy.credential_wait WHERE status IN ('waiting', 'turn')`,
    );
    return rows.map((r) => r.credential_key);
  }

  async view(queueId: string): Promise<QueueView> {
    const rows: WaitRow[] = await this.db.query(`SELECT * FROM policy.credential_wait WHERE id = $1`, [queueId]);
    const entry = rows[0];
    if (!entry) throw new OpenEcmError('QUEUE_ENTRY_NOT_FOUND', 'no such place in a credential queue');
    const now = Date.now();
    const end = entry.status === 'turn' ? (entry.turn_until as Date) : entry.expires_at;
    const over = (entry.status === 'waiting' || entry.status === 'turn') && end.getTime() <= now;
    let position = 0;
    if (entry.status === 'waiting' && !over) {
      const open = await this.openEntries(this.db.manager, entry.credential_key);
      position = open.filter((e) => (e.status === 'turn' ? (e.turn_until as Date) : e.expires_at).getTime() > now).findIndex((e) => e.id === entry.id) + 1;
    }
    return {
      queueId: entry.id,
      status: over ? 'expired' : entry.status === 'turn' ? 'your-turn' : entry.status,
      queuePosition: position,
      user: entry.user_name,
      endpoint: entry.endpoint,
      vault: entry.vault,
      credentialName: entry.credential_name,
      createdAt: entry.created_at.toISOString(),
      expiresAt: end.toISOString(),
    };
  }

  private async lock(tx: EntityManager, credentialKey: string): Promise<void> {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 20261201))`, [credentialKey]);
  }

  private async expireStale(tx: EntityManager, credentialKey: string): Promise<void> {
    await tx.query(
      `UPDATE policy.credential_wait SET status = 'expired'
        WHERE credential_key = $1 AND status IN ('waiting', 'turn')
          AND CASE status WHEN 'turn' THEN turn_until ELSE expires_at END <= now()`,
      [credentialKey],
    );
  }

  private async isHeld(tx: EntityManager, credentialKey: string): Promise<boolean> {
    const rows: unknown[] = await tx.query(
      `SELECT 1 FROM policy.lease WHERE credential_key = $1 AND exclusive AND (state IN ('active', 'released') OR checkin_due) LIMIT 1`,
      [credentialKey],
    );
    return rows.length > 0;
  }

  /** The waiter whose turn it is first, then the others in the order they came. */
  private openEntries(q: EntityManager, credentialKey: string): Promise<WaitRow[]> {
    return q.query(
      `SELECT * FROM policy.credential_wait WHERE credential_key = $1 AND status IN ('waiting', 'turn')
        ORDER BY (status = 'turn') DESC, created_at, id`,
      [credentialKey],
    );
  }

  private async giveTurn(tx: EntityManager, entry: WaitRow): Promise<WaitRow> {
    const rows: [WaitRow[], number] = await tx.query(
      `UPDATE policy.credential_wait SET status = 'turn', turn_until = now() + make_interval(secs => $2) WHERE id = $1 RETURNING *`,
      [entry.id, this.config.EXCLUSIVE_TURN_SECONDS],
    );
    return rows[0][0] as WaitRow;
  }

  private async announce(turns: WaitRow[]): Promise<void> {
    for (const turn of turns) {
      const traceId = currentTraceId();
      const until = turn.turn_until as Date;
      try {
        await this.events.publish('policy.queue.turn.v1', {
          eventId: randomUUID(),
          queueId: turn.id,
          user: turn.user_name,
          endpoint: turn.endpoint,
          vault: turn.vault,
          credentialName: turn.credential_name,
          turnUntil: until.toISOString(),
          at: new Date().toISOString(),
          ...(traceId ? { traceId } : {}),
        });
        await this.timers.turnEndsAt(turn.id, until);
      } catch (error) {
        // the turn stands in PostgreSQL; the waiter sees it by polling, and the reconciler moves on after it
        this.logger.warn({ msg: 'turn of a credential queue not announced', queueId: turn.id, err: (error as Error).name });
      }
    }
  }
}
