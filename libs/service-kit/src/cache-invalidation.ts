import { Injectable } from '@nestjs/common';
import type { CacheName } from '@openecm/contracts';

/** What a change touched: every entry, one vault's, one user's, or one user's at one vault. */
export interface CacheScope {
  vault?: string | undefined;
  user?: string | undefined;
}

/** Drops the entries in scope and says how many it dropped. */
export type CacheDropper = (scope: CacheScope) => number;

/**
 * The in-process caches of this instance, by name. The ops responder answers `ops.cache.invalidate.v1` for a
 * cache registered here (and stays silent otherwise), so the instance that changed what a cache holds learns
 * which instances dropped it before it answers the change.
 */
@Injectable()
export class CacheInvalidations {
  private readonly droppers = new Map<CacheName, CacheDropper[]>();

  register(cache: CacheName, dropper: CacheDropper): void {
    this.droppers.set(cache, [...(this.droppers.get(cache) ?? []), dropper]);
  }

  holds(cache: CacheName): boolean {
    return this.droppers.has(cache);
  }

  drop(cache: CacheName, scope: CacheScope): number {
    return (this.droppers.get(cache) ?? []).reduce((sum, dropper) => sum + dropper(scope), 0);
  }
}
