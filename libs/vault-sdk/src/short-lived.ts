interface Slot<T> {
  value?: { value: T; loadedAt: number };
  loading?: Promise<T>;
}

/**
 * What a vault answers the same for a short while, kept per scope (its first part the connection's name): the
 * callers that ask at once share one load, a failed load is not kept, and `forget` drops a connection's entries
 * when its settings change (on every instance: ADR 7). A change at the vault shows within `ttlMs`; 0 keeps
 * nothing, every call loads.
 */
export class ShortLived<T> {
  private readonly slots = new Map<string, Slot<T>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(scope: readonly string[], load: () => Promise<T>): Promise<T> {
    if (this.ttlMs <= 0) return load();
    const key = scope.join('\u0000');
    let slot = this.slots.get(key);
    if (!slot) {
      slot = {};
      this.slots.set(key, slot);
    }
    if (slot.value && this.now() - slot.value.loadedAt < this.ttlMs) return slot.value.value;
    if (slot.loading) return slot.loading;
    const entry = slot;
    entry.loading = load()
      .then((value) => {
        entry.value = { value, loadedAt: this.now() };
        return value;
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
