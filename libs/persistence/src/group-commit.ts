/**
 * Commits items in groups: an item that comes while no write runs is written at once, and those that come
 * while one runs go together in the next, up to `maxGroup` at a time. Each item's promise settles only once its
 * own write did: it waits for at most one write before its own, and under load one commit carries many items.
 * Groups are written one at a time and in the order their items came, so a later item is never committed before
 * an earlier one. A group the database refuses is written again one item at a time, so an item it refuses fails
 * only itself.
 */
export class GroupCommit<T, R = void> {
  private readonly waiting: Array<{ item: T; resolve: (result: R) => void; reject: (error: unknown) => void }> = [];
  private writing: Promise<void> | undefined;

  /** `write` answers one result per item, in the items' order. */
  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxGroup = 500,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.writing ??= this.writeWaiting();
    });
  }

  /** Resolves when every item submitted so far is settled. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing.catch(() => undefined);
  }

  /** Writes until nothing waits; it clears `writing` in the same step that finds the queue empty. */
  private async writeWaiting(): Promise<void> {
    await Promise.resolve();
    for (;;) {
      if (this.waiting.length === 0) {
        this.writing = undefined;
        return;
      }
      const group = this.waiting.splice(0, this.maxGroup);
      try {
        const results = await this.write(group.map((g) => g.item));
        group.forEach((g, i) => g.resolve(results[i] as R));
      } catch (error) {
        if (group.length === 1) {
          group[0]?.reject(error);
          continue;
        }
        for (const g of group) {
          await this.write([g.item]).then(
            ([result]) => g.resolve(result as R),
            (e: unknown) => g.reject(e),
          );
        }
      }
    }
  }
}
