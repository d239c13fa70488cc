import type { JumpMethod, VaultSystem } from '@openecm/contracts';
import type { ManagedAccount, ManagedSystem, PasswordSafeClient, PasswordSafeSession } from '../password-safe/password-safe.client';
import { firstByName, jumpMethodOfSessionType, mapLimit, matchesSearch, searchKey } from './systems';

interface InventorySystem {
  name: string;
  hostname: string;
  /** Lower-cased name, host name, DNS name and IP address: what a search is matched against. */
  keys: string[];
  ip: string | null;
  jumpMethod: JumpMethod | undefined;
  comments: string;
  networkId: string | null;
}

interface Inventory {
  loadedAt: number;
  systems: Map<number, InventorySystem>;
  jumpMethods: Map<number, JumpMethod | undefined>;
}

/** A user's requestable systems: ids (compact, as a user may have thousands), and what accounts said of those the inventory lacked. */
interface Entitlement {
  at: number;
  ids: Int32Array;
  unlisted: Map<number, { name: string; platformId: number | null }>;
}

export interface PasswordSafeSystemsOptions {
  /** How long the managed systems, platforms and workgroups of a connection are used before they are fetched again. */
  inventoryTtlMs: number;
  /** How long a user's requestable systems are reused; 0 asks Password Safe every time. */
  entitlementTtlMs: number;
  /** Users whose requestable systems are kept at once; the oldest go first. */
  maxEntitlements?: number;
  now?: () => number;
}

const PAGE_SIZE = 1000;
const PAGE_CONCURRENCY = 4;

/**
 * Password Safe systems a user may reach. Password Safe has no search of its own over host names and addresses,
 * so a search is answered from two things: the connection's inventory (every managed system with its platform
 * and workgroup, kept in process and refreshed in the background once older than its time to live), and the
 * user's requestable systems (the systems of the API-enabled accounts Password Safe lists for the run-as user,
 * local and domain-linked, kept a short while). A system shows when the user may request an account on it and its
 * platform is reached over RDP or SSH; the inventory alone never shows anything.
 */
export class PasswordSafeSystems {
  private readonly inventories = new Map<string, { value?: Inventory; loading?: Promise<Inventory> }>();
  private readonly entitlements = new Map<string, Entitlement>();
  private readonly entitlementsLoading = new Map<string, Promise<Entitlement>>();
  private readonly now: () => number;

  constructor(private readonly options: PasswordSafeSystemsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** `source` names where the vault is (its URL): an inventory is never taken for another vault of the same name. */
  async search(
    vault: string,
    source: string,
    identity: string,
    client: PasswordSafeClient,
    session: PasswordSafeSession,
    search: string,
    limit: number,
  ): Promise<{ systems: VaultSystem[]; truncated: boolean }> {
    const scope = `${vault}\u0000${source}`;
    const inventory = await this.inventory(scope, client, session);
    const entitlement = await this.entitlement(`${scope}\u0000${identity}`, client, session, inventory);
    const needle = searchKey(search);
    const found: VaultSystem[] = [];
    for (const id of entitlement.ids) {
      const system = inventory.systems.get(id);
      if (system) {
        if (!system.jumpMethod || !matchesSearch(system.keys, needle)) continue;
        const { name, hostname, ip, jumpMethod, comments, networkId } = system;
        found.push({ vault, ref: { systemId: id }, name, hostname, ip, jumpMethod, comments, networkId });
        continue;
      }
      // requestable but newer than the inventory: shown by the name its accounts carry until the next refresh
      const unlisted = entitlement.unlisted.get(id);
      const jumpMethod = unlisted?.platformId == null ? undefined : inventory.jumpMethods.get(unlisted.platformId);
      if (!unlisted || !jumpMethod || !matchesSearch([unlisted.name], needle)) continue;
      found.push({ vault, ref: { systemId: id }, name: unlisted.name, hostname: unlisted.name, ip: null, jumpMethod, comments: '', networkId: null });
    }
    return firstByName(found, limit);
  }

  /** Drops what is kept for a connection (its settings changed, or it was removed). */
  forget(vault: string): void {
    const prefix = `${vault}\u0000`;
    for (const key of [...this.inventories.keys()]) if (key.startsWith(prefix)) this.inventories.delete(key);
    for (const key of [...this.entitlements.keys()]) if (key.startsWith(prefix)) this.entitlements.delete(key);
  }

  private async inventory(scope: string, client: PasswordSafeClient, session: PasswordSafeSession): Promise<Inventory> {
    let slot = this.inventories.get(scope);
    if (!slot) {
      slot = {};
      this.inventories.set(scope, slot);
    }
    const current = slot.value;
    const stale = !current || this.now() - current.loadedAt >= this.options.inventoryTtlMs;
    if (stale && !slot.loading) {
      const entry = slot;
      entry.loading = loadInventory(client, session, this.now)
        .then((inventory) => {
          entry.value = inventory;
          return inventory;
        })
        .finally(() => {
          entry.loading = undefined;
        });
    }
    if (current) {
      // a stale inventory keeps answering while the fresh one loads; a failed refresh is tried again next time
      slot.loading?.catch(() => undefined);
      return current;
    }
    return slot.loading as Promise<Inventory>;
  }

  private async entitlement(key: string, client: PasswordSafeClient, session: PasswordSafeSession, inventory: Inventory): Promise<Entitlement> {
    const cached = this.entitlements.get(key);
    if (cached && this.now() - cached.at < this.options.entitlementTtlMs) return cached;
    const pending = this.entitlementsLoading.get(key);
    if (pending) return pending;
    const loading = loadEntitlement(client, session, inventory, this.now)
      .then((entitlement) => {
        if (this.options.entitlementTtlMs > 0) this.keep(key, entitlement);
        return entitlement;
      })
      .finally(() => this.entitlementsLoading.delete(key));
    this.entitlementsLoading.set(key, loading);
    return loading;
  }

  private keep(key: string, entitlement: Entitlement): void {
    this.entitlements.delete(key);
    this.entitlements.set(key, entitlement);
    const max = this.options.maxEntitlements ?? 10_000;
    while (this.entitlements.size > max) {
      const oldest = this.entitlements.keys().next().value;
      if (oldest === undefined) break;
      this.entitlements.delete(oldest);
    }
  }
}

async function loadInventory(client: PasswordSafeClient, session: PasswordSafeSession, now: () => number): Promise<Inventory> {
  const [first, platforms, workgroups] = await Promise.all([
    client.managedSystemsPage(session, { limit: PAGE_SIZE, offset: 0 }),
    client.listPlatforms(session),
    client.listWorkgroups(session).catch(() => []),
  ]);
  const pages = Math.ceil(first.TotalCount / PAGE_SIZE);
  const rest = await mapLimit(
    Array.from({ length: Math.max(0, pages - 1) }, (_, i) => (i + 1) * PAGE_SIZE),
    PAGE_CONCURRENCY,
    (offset) => client.managedSystemsPage(session, { limit: PAGE_SIZE, offset }).then((p) => p.Data),
  );
  const jumpMethods = new Map(platforms.map((p) => [p.PlatformID, jumpMethodOfSessionType(p.DefaultSessionType)]));
  const workgroupNames = new Map(workgroups.map((w) => [w.ID, w.Name]));
  const systems = new Map<number, InventorySystem>();
  for (const system of [first.Data, ...rest].flat()) systems.set(system.ManagedSystemID, describe(system, jumpMethods, workgroupNames));
  return { loadedAt: now(), systems, jumpMethods };
}

function describe(system: ManagedSystem, jumpMethods: Map<number, JumpMethod | undefined>, workgroups: Map<number, string>): InventorySystem {
  const hostname = system.DnsName?.trim() || system.HostName?.trim() || system.SystemName;
  const ip = system.IPAddress?.trim() || null;
  const workgroup = system.WorkgroupID ?? null;
  return {
    name: system.SystemName,
    hostname,
    keys: [system.SystemName, system.HostName, system.DnsName, ip].flatMap((v) => (v ? [v.toLowerCase()] : [])),
    ip,
    jumpMethod: system.PlatformID == null ? undefined : jumpMethods.get(system.PlatformID),
    comments: system.Description?.trim() ?? '',
    networkId: workgroup === null ? null : (workgroups.get(workgroup) ?? String(workgroup)),
  };
}

async function loadEntitlement(client: PasswordSafeClient, session: PasswordSafeSession, inventory: Inventory, now: () => number): Promise<Entitlement> {
  const [local, linked] = await Promise.all([
    client.listManagedAccounts(session, { type: 'system' }),
    client.listManagedAccounts(session, { type: 'domainlinked' }),
  ]);
  const ids = new Set<number>();
  const unlisted = new Map<number, { name: string; platformId: number | null }>();
  const note = (account: ManagedAccount): void => {
    ids.add(account.SystemId);
    if (!inventory.systems.has(account.SystemId) && account.SystemName) {
      unlisted.set(account.SystemId, { name: account.SystemName, platformId: account.PlatformID ?? null });
    }
  };
  local.forEach(note);
  linked.forEach(note);
  return { at: now(), ids: Int32Array.from(ids), unlisted };
}
