import { Injectable } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import type { VaultRef } from '@openecm/contracts';
import { Keyring } from '@openecm/crypto';
import type { Checkout } from '@openecm/vault-sdk';
import { prepared } from '@openecm/persistence';
import { DataSource } from 'typeorm';

export type { Checkout };

/** A check-out as the vault-side sweep reads it: who checked out, when, and the handle if it is recorded and readable. */
export interface SweptCheckout {
  leaseId: string;
  user: string;
  ref: VaultRef;
  /** Never logged, traced or answered. */
  vaultRequest: string | undefined;
  state: Checkout['state'];
  createdAt: Date;
}

interface Row {
  lease_id: string;
  connection: string;
  user_name: string;
  ref: VaultRef;
  request_sealed: string | null;
  state: Checkout['state'];
  duration_minutes: number | null;
}

/** Both written by every injection: the intent before the vault is called, the vault's handle after. */
const INTEND = prepared(
  'vault.intend_checkout',
  `INSERT INTO vault.checkout (lease_id, connection, user_name, ref, request_sealed, state, duration_minutes)
   VALUES ($1, $2, $3, $4, NULL, 'pending', $5)
   ON CONFLICT (lease_id) DO NOTHING`,
);
const RECORD = prepared(
  'vault.record_checkout',
  `INSERT INTO vault.checkout (lease_id, connection, user_name, ref, request_sealed, state)
   VALUES ($1, $2, $3, $4, $5, 'out')
   ON CONFLICT (lease_id) DO UPDATE SET request_sealed = EXCLUDED.request_sealed,
     state = CASE WHEN vault.checkout.state = 'in' THEN 'in' ELSE 'out' END`,
);

/** What is checked out at which vault for which lease; the vault's handle is sealed, bound to the lease. */
@Injectable()
export class CheckoutRepository {
  private readonly keyring = Keyring.parse(loadConfig(vaultAdaptersConfig).VAULT_SETTINGS_KEYS);

  constructor(private readonly db: DataSource) {}

  /** Written before the vault is called: what is about to be checked out, for which lease. */
  async intend(c: { leaseId: string; connection: string; user: string; ref: VaultRef; durationMinutes: number }): Promise<void> {
    await INTEND.run(this.db, [c.leaseId, c.connection, c.user, JSON.stringify(c.ref), c.durationMinutes]);
  }

  /** The vault's handle, as soon as the vault gave it. */
  async record(c: { leaseId: string; connection: string; user: string; ref: VaultRef; vaultRequest: string }): Promise<void> {
    await RECORD.run(this.db, [c.leaseId, c.connection, c.user, JSON.stringify(c.ref), this.keyring.seal(c.vaultRequest, `checkout:${c.leaseId}`)]);
  }

  async find(leaseId: string): Promise<Checkout | undefined> {
    const rows: Row[] = await this.db.query(`SELECT * FROM vault.checkout WHERE lease_id = $1`, [leaseId]);
    const row = rows[0];
    if (!row) return undefined;
    const vaultRequest = row.request_sealed === null ? undefined : this.keyring.open(row.request_sealed, `checkout:${leaseId}`);
    if (row.request_sealed !== null && vaultRequest === undefined) return undefined;
    return {
      leaseId,
      connection: row.connection,
      user: row.user_name,
      ref: row.ref,
      vaultRequest,
      state: row.state,
      durationMinutes: row.duration_minutes,
    };
  }

  /**
   * The check-outs the sweep weighs for one connection: every one still out (or pending), and those checked in
   * within `lookbackDays` (their users may hold a request OpenECM lost track of).
   */
  async forSweep(connection: string, lookbackDays: number): Promise<SweptCheckout[]> {
    const rows: Array<Row & { created_at: Date }> = await this.db.query(
      `SELECT lease_id, user_name, ref, request_sealed, state, created_at FROM vault.checkout
        WHERE connection = $1 AND (state <> 'in' OR created_at > now() - make_interval(days => $2))`,
      [connection, lookbackDays],
    );
    return rows.map((row) => ({
      leaseId: row.lease_id,
      user: row.user_name,
      ref: row.ref,
      vaultRequest: row.request_sealed === null ? undefined : this.keyring.open(row.request_sealed, `checkout:${row.lease_id}`),
      state: row.state,
      createdAt: row.created_at,
    }));
  }

  /** The sweep checked in what these leases' records name. */
  async markHandleCheckedIn(leaseIds: readonly string[]): Promise<void> {
    if (leaseIds.length === 0) return;
    await this.db.query(`UPDATE vault.checkout SET state = 'in', checked_in_at = now() WHERE lease_id = ANY($1::uuid[]) AND state <> 'in'`, [leaseIds]);
  }

  async markCheckedIn(leaseId: string): Promise<void> {
    await this.db.query(`UPDATE vault.checkout SET state = 'in', checked_in_at = now() WHERE lease_id = $1`, [leaseId]);
  }
}
