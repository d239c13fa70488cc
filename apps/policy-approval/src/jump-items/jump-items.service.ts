import { Injectable } from '@nestjs/common';
import { loadConfig, natsConfig } from '@openecm/config';
import {
  MAX_SYSTEMS_PER_VAULT,
  NO_JUMPOINT_COMMENT,
  OpenEcmError,
  RECENT_JUMP_ITEMS,
  type JumpItem,
  type JumpItemSettings,
  type ParsedRequestOf,
  type ReplyOf,
  type VaultSystem,
} from '@openecm/contracts';
import { Bus } from '@openecm/messaging';
import { DataSource } from 'typeorm';
import { AccessService } from '../access/access.service';
import { userKey } from '../access/identity';
import { JumpItemSettingsRepository, type StoredJumpItemSettings } from './jump-item-settings.repository';
import { compareKeys, decodeCursor, encodeCursor, jumpItemId, type SortKey } from './jump-item-ids';
import { JumpItemsCache } from './jump-items.cache';

/** The console finds nothing for fewer characters. */
const MIN_SEARCH = 2;

interface RecentRow {
  item_id: string;
  vault: string;
  ref: VaultSystem['ref'];
  name: string;
  hostname: string;
  ip: string | null;
  jump_method: VaultSystem['jumpMethod'];
  comments: string;
  network_id: string | null;
  used_at: Date;
}

/**
 * External jump items: who may search is decided as for a credential list (a requester group whose policy is in
 * its window); which systems show is decided by each vault for the user (only systems with a credential this user
 * could be offered). Items are merged across vaults, sorted by name and paged by a cursor of the last item's sort key.
 */
@Injectable()
export class JumpItemsService {
  /** Within the gateway's own wait for this service, so that a slow vault is `pending`, not a timed-out search. */
  private readonly vaultWaitMs = Math.max(1000, loadConfig(natsConfig).NATS_REQUEST_TIMEOUT_MS - 500);

  constructor(
    private readonly db: DataSource,
    private readonly bus: Bus,
    private readonly access: AccessService,
    private readonly settings: JumpItemSettingsRepository,
    private readonly cache: JumpItemsCache,
  ) {}

  async search(query: ParsedRequestOf<'policy.jump-items.search.v1'>): Promise<ReplyOf<'policy.jump-items.search.v1'>> {
    const settings = await this.enabledSettings();
    const search = query.search.trim();
    const empty = { group: settings.groupName, items: [], nextCursor: null, pending: [] };
    if (search.length < MIN_SEARCH) return empty;
    const user = userKey(query.user);
    const after = query.cursor === undefined ? undefined : decodeCursor(settings.idKey, user, search, query.cursor);
    await this.access.mayRequest(query.user, undefined);

    const held = await this.cache.answers(user, search);
    const reply = await this.bus.request(
      'vault.systems.search.v1',
      { user: query.user, search, limit: MAX_SYSTEMS_PER_VAULT, skip: [...held.keys()] },
      { timeoutMs: this.vaultWaitMs },
    );
    await this.cache.keep(user, search, reply.vaults);
    const connected = new Set(reply.connected);
    const answers = [...[...held.values()].filter((a) => connected.has(a.vault)), ...reply.vaults];

    const sorted = answers
      .flatMap((a) => a.systems)
      .map((system) => {
        const id = jumpItemId(settings.idKey, user, system.vault, system.ref);
        return { system, id, key: [system.name.toLowerCase(), system.vault, id] as SortKey };
      })
      .sort((a, b) => compareKeys(a.key, b.key));
    const from = after === undefined ? 0 : sorted.findIndex((s) => compareKeys(s.key, after) > 0);
    const rest = from < 0 ? [] : sorted.slice(from);
    const page = rest.slice(0, query.limit);
    const last = page[page.length - 1];
    await this.cache.shown(user, page.map((p) => p.system));
    return {
      group: settings.groupName,
      items: page.map((p) => toItem(p.id, p.system, settings)),
      nextCursor: rest.length > page.length && last ? encodeCursor(settings.idKey, user, search, last.key) : null,
      pending: reply.pending,
    };
  }

  async recent(query: ParsedRequestOf<'policy.jump-items.recent.v1'>): Promise<ReplyOf<'policy.jump-items.recent.v1'>> {
    const settings = await this.enabledSettings();
    const user = userKey(query.user);
    const rows: RecentRow[] = await this.db.query(
      `SELECT * FROM policy.jump_item_recent WHERE user_key = $1 ORDER BY used_at DESC, item_id LIMIT $2`,
      [user, RECENT_JUMP_ITEMS],
    );
    const systems = rows.map(systemOf);
    // started again from the recent list, an item is recorded again
    await this.cache.shown(user, systems);
    return {
      group: settings.groupName,
      items: rows.map((row, i) => ({ ...toItem(row.item_id, systems[i] as VaultSystem, settings), lastUsedAt: row.used_at.toISOString() })),
    };
  }

  /**
   * An injection on an endpoint this user was shown as a jump item makes it a recent item (the newest use wins;
   * the user keeps the last 20). Any other injection records nothing.
   */
  async recordUse(user: string, endpoint: string, at: Date): Promise<boolean> {
    const key = userKey(user);
    const system = await this.cache.shownAt(key, endpoint);
    if (!system) return false;
    const { idKey } = await this.settings.get();
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO policy.jump_item_recent (user_key, item_id, vault, ref, name, hostname, ip, jump_method, comments, network_id, used_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (user_key, item_id) DO UPDATE SET
           name = EXCLUDED.name, hostname = EXCLUDED.hostname, ip = EXCLUDED.ip, jump_method = EXCLUDED.jump_method,
           comments = EXCLUDED.comments, network_id = EXCLUDED.network_id,
           used_at = GREATEST(policy.jump_item_recent.used_at, EXCLUDED.used_at)`,
        [key, jumpItemId(idKey, key, system.vault, system.ref), system.vault, JSON.stringify(system.ref), system.name, system.hostname, system.ip, system.jumpMethod, system.comments, system.networkId, at],
      );
      await tx.query(
        `DELETE FROM policy.jump_item_recent WHERE user_key = $1 AND item_id NOT IN (
           SELECT item_id FROM policy.jump_item_recent WHERE user_key = $1 ORDER BY used_at DESC, item_id LIMIT $2)`,
        [key, RECENT_JUMP_ITEMS],
      );
    });
    return true;
  }

  async getSettings(): Promise<ReplyOf<'policy.jump-settings.get.v1'>> {
    return view(await this.settings.get());
  }

  async putSettings(settings: JumpItemSettings): Promise<ReplyOf<'policy.jump-settings.put.v1'>> {
    return view(await this.settings.put(settings));
  }

  private async enabledSettings(): Promise<StoredJumpItemSettings> {
    const settings = await this.settings.get();
    if (!settings.enabled) throw new OpenEcmError('JUMP_ITEMS_DISABLED', 'search for external jump items is switched off');
    return settings;
  }
}

/** Without a Jumpoint the appliance cannot start a session from the item, and says why in its comment. */
function toItem(id: string, system: VaultSystem, settings: StoredJumpItemSettings): JumpItem {
  const startable = settings.jumpointId !== null;
  return {
    id,
    name: system.name,
    hostname: system.hostname,
    ip: system.ip,
    jumpMethod: system.jumpMethod,
    comments: startable ? system.comments : NO_JUMPOINT_COMMENT,
    vault: system.vault,
    networkId: system.networkId,
    startable,
  };
}

function systemOf(row: RecentRow): VaultSystem {
  return { vault: row.vault, ref: row.ref, name: row.name, hostname: row.hostname, ip: row.ip, jumpMethod: row.jump_method, comments: row.comments, networkId: row.network_id };
}

function view(settings: StoredJumpItemSettings): ReplyOf<'policy.jump-settings.get.v1'> {
  return { enabled: settings.enabled, jumpointId: settings.jumpointId, groupName: settings.groupName, updatedAt: settings.updatedAt };
}
