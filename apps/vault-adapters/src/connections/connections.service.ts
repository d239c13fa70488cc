import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { loadConfig, vaultAdaptersConfig } from '@openecm/config';
import {
  OpenEcmError,
  VaultConnectionInput,
  VaultType,
  maskSettings,
  type VaultConnectionView,
} from '@openecm/contracts';
import { Keyring } from '@openecm/crypto';
import { Broadcaster } from '@openecm/messaging';
import { CacheInvalidations, type CacheScope } from '@openecm/service-kit';
import type { VaultConnection } from '@openecm/vault-sdk';
import { DataSource } from 'typeorm';

export type { ConnectionOf, VaultConnection } from '@openecm/vault-sdk';
export type { VaultKind } from '@openecm/contracts';

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

/**
 * Who is told that a connection changed: `here` is true on every instance the change reached (reset what this
 * process holds for it), false once, on the instance that made it (reset what is shared too, such as the
 * vault sessions token-cache keeps).
 */
export type ConnectionListener = (name: string, here: boolean) => void;

interface Snapshot {
  connections: VaultConnection[];
  unreadable: string[];
}

/**
 * Vault connections and their settings; secrets sealed at rest, masked whenever shown. A list reads them from
 * an in-process snapshot (opened and parsed once, not per list), which a saved connection drops on every
 * instance through `ops.cache.invalidate.v1` before the save is answered.
 */
@Injectable()
export class ConnectionsService implements OnModuleInit {
  private readonly logger = new Logger(ConnectionsService.name);
  private readonly keyring = Keyring.parse(loadConfig(vaultAdaptersConfig).VAULT_SETTINGS_KEYS);
  /** Every instance refreshes its connections at least this often, should an invalidation have been missed. */
  private readonly snapshotMaxAgeMs = loadConfig(vaultAdaptersConfig).VAULT_CONNECTIONS_CACHE_SECONDS * 1000;
  private readonly listeners: ConnectionListener[] = [];
  private snapshot?: { at: number; value: Promise<Snapshot> };

  constructor(
    private readonly db: DataSource,
    private readonly broadcaster: Broadcaster,
    private readonly caches: CacheInvalidations,
  ) {}

  onModuleInit(): void {
    this.caches.register('vault-connections', (scope) => this.drop(scope));
  }

  onChange(listener: ConnectionListener): void {
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
    this.snapshot = undefined;
    for (const listener of this.listeners) listener(name, false);
    await this.invalidateEverywhere(name);
    return { connection: this.view(row, input), created: row.created };
  }

  /** Every instance (this one included) drops its snapshot and what it holds for the vault, before the save is answered. */
  private async invalidateEverywhere(vault: string): Promise<void> {
    try {
      await this.broadcaster.gather('ops.cache.invalidate.v1', { cache: 'vault-connections', vault }, { quietMs: 100, maxWaitMs: 2_000 });
    } catch (error) {
      // the save stands; an instance that missed it refreshes within VAULT_CONNECTIONS_CACHE_SECONDS
      this.logger.warn({ msg: 'connection change not announced to the other instances', vault, err: (error as Error).message });
    }
  }

  private drop(scope: CacheScope): number {
    const had = this.snapshot ? 1 : 0;
    this.snapshot = undefined;
    if (scope.vault) for (const listener of this.listeners) listener(scope.vault, true);
    return had;
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
  all(): Promise<Snapshot> {
    const now = Date.now();
    if (!this.snapshot || now - this.snapshot.at >= this.snapshotMaxAgeMs) {
      const value = this.load();
      const snapshot = { at: now, value };
      this.snapshot = snapshot;
      // a failed read is not kept: the next list reads again
      value.catch(() => {
        if (this.snapshot === snapshot) this.snapshot = undefined;
      });
    }
    return this.snapshot.value;
  }

  private async load(): Promise<Snapshot> {
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
    const cached = (await this.all()).connections.find((c) => c.name === name);
    if (cached) return cached;
    // unreadable, or saved so recently that this snapshot predates it: the row decides
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
      type: VaultType.safeParse(row.type).data ?? 'password-safe',
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

/** How long a call to this connection's vault may take: its own `timeoutSeconds` where its type has one. */
export function connectionTimeoutMs(connection: VaultConnection, fallbackMs: number): number {
  const seconds = (connection.settings as { timeoutSeconds?: unknown }).timeoutSeconds;
  return typeof seconds === 'number' ? seconds * 1000 : fallbackMs;
}
