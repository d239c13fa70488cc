import { Injectable } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import {
  OpenEcmError,
  VaultConnectionInput,
  maskSettings,
  type VaultConnectionView,
} from '@openecm/contracts';
import { Keyring } from '@openecm/crypto';
import { DataSource } from 'typeorm';

export type VaultConnection = VaultConnectionInput & { name: string };
export type VaultKind = VaultConnection['type'];
export type ConnectionOf<T extends VaultKind> = Extract<VaultConnection, { type: T }>;

interface Row {
  name: string;
  type: string;
  settings_sealed: string;
  created_at: Date;
  updated_at: Date;
}

/** Vault connections and their settings; secrets sealed at rest, masked whenever shown. */
@Injectable()
export class ConnectionsService {
  private readonly keyring = Keyring.parse(loadConfig(vaultAdaptersConfig).VAULT_SETTINGS_KEYS);
  private readonly listeners: Array<(name: string) => void> = [];

  constructor(private readonly db: DataSource) {}

  onChange(listener: (name: string) => void): void {
    this.listeners.push(listener);
  }

  async upsert(name: string, input: VaultConnectionInput): Promise<{ connection: VaultConnectionView; created: boolean }> {
    const sealed = this.keyring.seal(JSON.stringify(input), `vault-connection:${name}`);
    const rows: Array<Row & { created: boolean }> = await this.db.query(
      `INSERT INTO vault.connection (name, type, settings_sealed) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET type = EXCLUDED.type, settings_sealed = EXCLUDED.settings_sealed, updated_at = now()
       RETURNING *, (xmax = 0) AS created`,
      [name, input.type, sealed],
    );
    const row = rows[0] as Row & { created: boolean };
    for (const listener of this.listeners) listener(name);
    return { connection: this.view(row, input), created: row.created };
  }

  async list(): Promise<VaultConnectionView[]> {
    const rows: Row[] = await this.db.query(`SELECT * FROM vault.connection ORDER BY name`);
    return rows.map((row) => this.view(row, this.open(row)));
  }

  async all(): Promise<VaultConnection[]> {
    const rows: Row[] = await this.db.query(`SELECT * FROM vault.connection ORDER BY name`);
    return rows.map((row) => ({ name: row.name, ...this.open(row) }));
  }

  async get(name: string): Promise<VaultConnection> {
    const rows: Row[] = await this.db.query(`SELECT * FROM vault.connection WHERE name = $1`, [name]);
    const row = rows[0];
    if (!row) throw new OpenEcmError('VAULT_NOT_FOUND', `no vault connection named "${name}"`);
    return { name, ...this.open(row) };
  }

  private open(row: Row): VaultConnectionInput {
    const plain = this.keyring.open(row.settings_sealed, `vault-connection:${row.name}`);
    if (plain === undefined) {
      throw new OpenEcmError('INTERNAL', `the settings of vault "${row.name}" cannot be decrypted with the configured keys`);
    }
    return VaultConnectionInput.parse(JSON.parse(plain));
  }

  private view(row: Row, input: VaultConnectionInput): VaultConnectionView {
    return {
      name: row.name,
      type: input.type,
      settings: maskSettings(input),
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  }
}
