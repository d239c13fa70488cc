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

export function unreadableError(name: string): OpenEcmError {
  return new OpenEcmError(
    'VAULT_SETTINGS_UNREADABLE',
    `the settings of vault "${name}" cannot be opened with the configured VAULT_SETTINGS_KEYS: restore the key they were sealed with, or enter them again (PUT /api/v1/admin/vaults/${name})`,
  );
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

  /** Every connection, secrets masked; one whose settings cannot be opened is shown as `unreadable`. */
  async list(): Promise<VaultConnectionView[]> {
    const rows: Row[] = await this.db.query(`SELECT * FROM vault.connection ORDER BY name`);
    return rows.map((row) => {
      const input = this.tryOpen(row);
      return input ? this.view(row, input) : this.unreadableView(row);
    });
  }

  /** The connections a list asks, and the names of those whose settings cannot be opened (never asked). */
  async all(): Promise<{ connections: VaultConnection[]; unreadable: string[] }> {
    const rows: Row[] = await this.db.query(`SELECT * FROM vault.connection ORDER BY name`);
    const connections: VaultConnection[] = [];
    const unreadable: string[] = [];
    for (const row of rows) {
      const input = this.tryOpen(row);
      if (input) connections.push({ name: row.name, ...input });
      else unreadable.push(row.name);
    }
    return { connections, unreadable };
  }

  async get(name: string): Promise<VaultConnection> {
    const rows: Row[] = await this.db.query(`SELECT * FROM vault.connection WHERE name = $1`, [name]);
    const row = rows[0];
    if (!row) throw new OpenEcmError('VAULT_NOT_FOUND', `no vault connection named "${name}"`);
    return { name, ...this.open(row) };
  }

  private open(row: Row): VaultConnectionInput {
    const input = this.tryOpen(row);
    if (!input) throw unreadableError(row.name);
    return input;
  }

  /** Undefined when the settings were sealed with a key the keyring no longer holds (or were changed). */
  private tryOpen(row: Row): VaultConnectionInput | undefined {
    const plain = this.keyring.open(row.settings_sealed, `vault-connection:${row.name}`);
    if (plain === undefined) return undefined;
    const parsed = VaultConnectionInput.safeParse(JSON.parse(plain));
    return parsed.success ? parsed.data : undefined;
  }

  private unreadableView(row: Row): VaultConnectionView {
    return {
      name: row.name,
      type: row.type === 'secret-server' ? 'secret-server' : 'password-safe',
      status: 'unreadable',
      settings: {},
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  }

  private view(row: Row, input: VaultConnectionInput): VaultConnectionView {
    return {
      name: row.name,
      type: input.type,
      status: 'ok',
      settings: maskSettings(input),
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    };
  }
}
