import { Injectable, Logger } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import type { ReplyOf } from '@openecm/contracts';
import { Keyring } from '@openecm/crypto';
import { DataSource } from 'typeorm';

/** A column of sealed values and how each value's associated data is named. */
interface SealedColumn {
  table: 'vault.connection' | 'vault.checkout';
  key: 'name' | 'lease_id';
  column: 'settings_sealed' | 'request_sealed';
  context: (key: string) => string;
}

const COLUMNS: Record<'connections' | 'checkouts', SealedColumn> = {
  connections: { table: 'vault.connection', key: 'name', column: 'settings_sealed', context: (name) => `vault-connection:${name}` },
  checkouts: { table: 'vault.checkout', key: 'lease_id', column: 'request_sealed', context: (leaseId) => `checkout:${leaseId}` },
};

/**
 * Seals everything vault-adapters keeps at rest again under the active key of VAULT_SETTINGS_KEYS, so an older
 * key can be taken out of the keyring: connection settings and the vaults' check-out handles. What no key in
 * the keyring opens is counted, never touched. Safe to run on several instances at once: each row is
 * replaced only if it still holds what was read.
 */
@Injectable()
export class ResealService {
  private readonly logger = new Logger(ResealService.name);
  private readonly keyring = Keyring.parse(loadConfig(vaultAdaptersConfig).VAULT_SETTINGS_KEYS);

  constructor(private readonly db: DataSource) {}

  async reseal(): Promise<ReplyOf<'vault.keys.reseal.v1'>> {
    const connections = await this.resealColumn(COLUMNS.connections);
    const checkouts = await this.resealColumn(COLUMNS.checkouts);
    this.logger.log({ activeKey: this.keyring.activeKeyId, connections, checkouts }, 'sealed again under the active key');
    return { activeKey: this.keyring.activeKeyId, connections, checkouts };
  }

  private async resealColumn(c: SealedColumn): Promise<{ resealed: number; current: number; unreadable: number }> {
    const rows: Array<{ key: string; sealed: string }> = await this.db.query(
      `SELECT ${c.key}::text AS key, ${c.column} AS sealed FROM ${c.table} WHERE ${c.column} IS NOT NULL`,
    );
    const counts = { resealed: 0, current: 0, unreadable: 0 };
    for (const row of rows) {
      if (!this.keyring.needsReseal(row.sealed)) {
        counts.current++;
        continue;
      }
      const plain = this.keyring.open(row.sealed, c.context(row.key));
      if (plain === undefined) {
        counts.unreadable++;
        continue;
      }
      const [, changed] = (await this.db.query(`UPDATE ${c.table} SET ${c.column} = $1 WHERE ${c.key}::text = $2 AND ${c.column} = $3`, [
        this.keyring.seal(plain, c.context(row.key)),
        row.key,
        row.sealed,
      ])) as [unknown, number];
      if (changed > 0) counts.resealed++;
      else counts.current++;
    }
    return counts;
  }
}
