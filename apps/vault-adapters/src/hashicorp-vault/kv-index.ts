/** The secrets below a KV source's folder with their custom_metadata (never their data: no password is kept here). */
export interface KvListing {
  secrets: Array<{ path: string; meta: Record<string, string> }>;
  /** The walk stopped at its bound with secrets left. */
  more: boolean;
}

interface Slot {
  value?: { listing: KvListing; loadedAt: number };
  loading?: Promise<KvListing>;
}

/**
 * What a KV source holds, kept for a short while per (connection, address, namespace, mount, folder): a walk of a
 * KV mount costs a LIST per folder and a metadata read per secret, and its answer is the same for every user and
 * endpoint (the broker filters it for each). Lists and searches that ask at once share one walk; a failed walk is
 * not kept. A connection's entries go when its settings change (`forget`, on every instance: ADR 7), and a
 * secret added at Vault shows within `ttlMs`.
 */
export class KvIndex {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(scope: readonly string[], load: () => Promise<KvListing>): Promise<KvListing> {
    const key = scope.join('\u0000');
    let slot = this.slots.get(key);
    if (!slot) {
      slot = {};
      this.slots.set(key, slot);
    }
    if (slot.value && this.now() - slot.value.loadedAt < this.ttlMs) return slot.value.listing;
    if (slot.loading) return slot.loading;
    const entry = slot;
    entry.loading = load()
      .then((listing) => {
        entry.value = { listing, loadedAt: this.now() };
        return listing;
      })
      .finally(() => {
        entry.loading = undefined;
      });
    return entry.loading;
  }

  /** Drops every entry of the connection named `vault`. */
  forget(vault: string): void {
    const prefix = `${vault}\u0000`;
    for (const key of [...this.slots.keys()]) if (key.startsWith(prefix)) this.slots.delete(key);
  }
}
