import { OpenEcmError, type VaultRef } from '@openecm/contracts';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Stable text for a vault locator, whatever the order of its keys. */
function refKey(ref: VaultRef): string {
  return JSON.stringify(Object.keys(ref).sort().map((k) => [k, ref[k]]));
}

/**
 * A jump item's id: an HMAC of the user, the vault and the system's locator under the broker's own key. The
 * same for that user and system on every search and every instance, different for every other user, and
 * revealing nothing of where the system lives; no database row is written to issue it.
 */
export function jumpItemId(key: Buffer, userKey: string, vault: string, ref: VaultRef): string {
  return createHmac('sha256', key).update(`item\u0000${userKey}\u0000${vault}\u0000${refKey(ref)}`).digest('base64url').slice(0, 27);
}

/** Where a page ends, by the order items are sorted in: name (lower-cased), vault, id. */
export type SortKey = [name: string, vault: string, id: string];

export function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < 3; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Ties a cursor to the user and search it came from, so it cannot page another user's or another search's answer. */
function binding(key: Buffer, userKey: string, search: string): string {
  return createHmac('sha256', key).update(`cursor\u0000${userKey}\u0000${search.toLowerCase()}`).digest('base64url').slice(0, 16);
}

/**
 * The cursor names the last item of a page by its sort key, not by a position: items that appear or go
 * between two pages (a vault's answer refreshed) never make the next page repeat or skip one.
 */
export function encodeCursor(key: Buffer, userKey: string, search: string, last: SortKey): string {
  return Buffer.from(JSON.stringify([binding(key, userKey, search), ...last]), 'utf8').toString('base64url');
}

export function decodeCursor(key: Buffer, userKey: string, search: string, cursor: string): SortKey {
  const invalid = () => new OpenEcmError('VALIDATION_FAILED', 'invalid cursor', [{ field: 'cursor', message: 'not a cursor of this search: pass the nextCursor of its previous page' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((p) => typeof p === 'string')) throw invalid();
  const [bound, name, vault, id] = parsed as string[];
  const expected = Buffer.from(binding(key, userKey, search));
  const given = Buffer.from(bound as string);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
  return [name as string, vault as string, id as string];
}
