/**
 * A small in-memory cache whose entries live at most `ttlMs` (or until their own deadline, if sooner) and
 * whose size never passes `maxEntries`: when full, the oldest entry goes, so a flood of distinct keys
 * costs memory only up to the bound.
 */
export class BoundedTtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, notAfterMs?: number): void {
    const until = Math.min(this.now() + this.ttlMs, notAfterMs ?? Number.POSITIVE_INFINITY);
    if (until <= this.now()) return;
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, until });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  deleteWhere(predicate: (value: V) => boolean): void {
    for (const [key, entry] of this.entries) if (predicate(entry.value)) this.entries.delete(key);
  }
}
