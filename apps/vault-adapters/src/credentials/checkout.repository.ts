import { Injectable } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import type { VaultRef } from '@openecm/contracts';
import { Keyring } from '@openecm/crypto';
import { DataSource } from 'typeorm';

export interface Checkout {
  leaseId: string;
  connection: string;
  user: string;
  ref: VaultRef;
  /** The vault's own handle for the check-out (Password Safe: the request id). */
  vaultRequest: string;
  state: 'out' | 'in';
}

/** What is checked out at which vault for which lease; the vault's handle is sealed, bound to the lease. */
@Injectable()
export class CheckoutRepository {
  private readonly keyring = Keyring.parse(loadConfig(vaultAdaptersConfig).VAULT_SETTINGS_KEYS);

  constructor(private readonly db: DataSource) {}

  async record(c: Omit<Checkout, 'state'>): Promise<void> {
    await this.db.query(
      `INSERT INTO vault.checkout (lease_id, connection, user_name, ref, request_sealed, state)
       VALUES ($1, $2, $3, $4, $5, 'out')
       ON CONFLICT (lease_id) DO UPDATE SET request_sealed = EXCLUDED.request_sealed`,
      [c.leaseId, c.connection, c.user, JSON.stringify(c.ref), this.keyring.seal(c.vaultRequest, `checkout:${c.leaseId}`)],
    );
  }

  async find(leaseId: string): Promise<Checkout | undefined> {
    const rows: Array<{ lease_id: string; connection: string; user_name: string; ref: VaultRef; request_sealed: string; state: 'out' | 'in' }> =
      await this.db.query(`SELECT * FROM vault.checkout WHERE lease_id = $1`, [leaseId]);
    const row = rows[0];
    if (!row) return undefined;
    const vaultRequest = this.keyring.open(row.request_sealed, `checkout:${leaseId}`);
    if (vaultRequest === undefined) return undefined;
    return { leaseId, connection: row.connection, user: row.user_name, ref: row.ref, vaultRequest, state: row.state };
  }

  async markCheckedIn(leaseId: string): Promise<void> {
    await this.db.query(`UPDATE vault.checkout SET state = 'in', checked_in_at = now() WHERE lease_id = $1`, [leaseId]);
  }
}
