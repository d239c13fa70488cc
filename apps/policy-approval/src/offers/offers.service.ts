import { Injectable } from '@nestjs/common';
import { OpenEcmError, type OfferedCredential, type VaultCredential, type VaultRef } from '@openecm/contracts';
import { prepared } from '@openecm/persistence';
import { DataSource } from 'typeorm';
import { endpointKey, userKey } from '../access/identity';

export interface Offer {
  id: string;
  vault: string;
  ref: VaultRef;
  /** The vault account behind the offer, whoever it was listed for: what an exclusive credential is held by. */
  credentialKey: string;
  name: string;
  username: string;
  domain: string | null;
  releaseDurationMinutes: number;
  rotateAfterRelease: boolean;
}

/** Stable text for a vault locator, so listing the same account again gives the same credential id. */
function refKey(ref: VaultRef): string {
  return JSON.stringify(Object.keys(ref).sort().map((k) => [k, ref[k]]));
}

/** What identifies an offer: the user's and endpoint's keys (`listedFor`, the same for a whole list), the vault and the ref. */
function offerKey(listedFor: string, c: VaultCredential): string {
  return `${listedFor}\u0000${c.vault}\u0000${refKey(c.ref)}`;
}

/** What an offer row says besides its key: a change (a renamed account, another duration) is written. */
function fingerprint(c: VaultCredential): string {
  return JSON.stringify([c.name, c.username, c.domain, c.scope, c.releaseDurationMinutes, c.rotateAfterRelease]);
}

/** An offer as a list answers it, before the policy that grants it is named. */
export type Offered = Omit<OfferedCredential, 'approval' | 'policy'>;

function offered(id: string, c: VaultCredential): Offered {
  return { id, name: c.name, username: c.username, domain: c.domain, scope: c.scope, vault: c.vault };
}

/**
 * The ids the broker hands out in a list. An id is bound to the user and endpoint it was listed for:
 * injection checks that binding here, in the service that owns it, not only at the edge.
 */
/**
 * How long an offer this instance wrote is answered from memory without writing it again. Far below the
 * pruner's age (days), which only removes offers not listed for that long, so a remembered id always has a row.
 */
const OFFER_REMEMBERED_MS = 60 * 60_000;
/** Offers remembered at most; the oldest is dropped first. */
const OFFER_ENTRIES = 100_000;

/** Read on every injection. */
const FIND_OFFER = prepared(
  'policy.find_offer',
  `SELECT id, user_key, endpoint_key, vault, ref, name, username, domain, release_duration_minutes, rotate_after_release, ref_key
     FROM policy.credential_offer WHERE id = $1`,
);

@Injectable()
export class OffersService {
  /** The offers this instance wrote lately, by what identifies them and with what they said. */
  private readonly written = new Map<string, { id: string; fingerprint: string; at: number }>();

  constructor(private readonly db: DataSource) {}

  /**
   * The ids of a list. A list that offers what this instance wrote within the hour, unchanged, is answered from
   * memory: no write on the read path when nothing changed. Anything new or changed writes the list.
   */
  async record(user: string, endpoint: string, credentials: VaultCredential[]): Promise<Offered[]> {
    if (credentials.length === 0) return [];
    const now = Date.now();
    const listedFor = `${userKey(user)}\u0000${endpointKey(endpoint)}`;
    const keys = credentials.map((c) => offerKey(listedFor, c));
    const known = keys.map((key, i) => {
      const held = this.written.get(key);
      return held && held.fingerprint === fingerprint(credentials[i] as VaultCredential) && now - held.at < OFFER_REMEMBERED_MS ? held.id : undefined;
    });
    if (known.every((id) => id !== undefined)) return credentials.map((c, i) => offered(known[i] as string, c));
    const ids = await this.write(user, endpoint, credentials);
    credentials.forEach((c, i) => this.remember(keys[i] as string, { id: ids[i] as string, fingerprint: fingerprint(c), at: now }));
    return credentials.map((c, i) => offered(ids[i] as string, c));
  }

  private remember(key: string, entry: { id: string; fingerprint: string; at: number }): void {
    this.written.delete(key);
    this.written.set(key, entry);
    if (this.written.size > OFFER_ENTRIES) this.written.delete(this.written.keys().next().value as string);
  }

  private async write(user: string, endpoint: string, credentials: VaultCredential[]): Promise<string[]> {
    const values: unknown[] = [];
    const rows = credentials.map((c, i) => {
      const base = i * 11;
      values.push(userKey(user), endpointKey(endpoint), c.vault, JSON.stringify(c.ref), refKey(c.ref), c.name, c.username, c.domain, c.scope, c.releaseDurationMinutes, c.rotateAfterRelease);
      return `(${Array.from({ length: 11 }, (_, k) => `$${base + k + 1}`).join(', ')})`;
    });
    const saved: Array<{ id: string; ref_key: string; vault: string }> = await this.db.query(
      `INSERT INTO policy.credential_offer
         (user_key, endpoint_key, vault, ref, ref_key, name, username, domain, scope, release_duration_minutes, rotate_after_release)
       VALUES ${rows.join(', ')}
       ON CONFLICT (user_key, endpoint_key, vault, ref_key) DO UPDATE SET
         name = EXCLUDED.name, username = EXCLUDED.username, domain = EXCLUDED.domain, scope = EXCLUDED.scope,
         release_duration_minutes = EXCLUDED.release_duration_minutes,
         rotate_after_release = EXCLUDED.rotate_after_release, listed_at = now()
       RETURNING id, ref_key, vault`,
      values,
    );
    const ids = new Map(saved.map((r) => [`${r.vault}|${r.ref_key}`, r.id]));
    return credentials.map((c) => ids.get(`${c.vault}|${refKey(c.ref)}`) as string);
  }

  /**
   * Forgets credential ids not listed again for `maxAgeDays` and never injected: the appliance lists before
   * it injects, so an old id is only ever a replay. Ids behind a lease or an approval request stay, for their audit trail.
   */
  async prune(maxAgeDays: number): Promise<number> {
    // what is pruned here was not written for days; forgetting every remembered offer keeps that true by construction
    this.written.clear();
    const [, count] = (await this.db.query(
      `DELETE FROM policy.credential_offer o
        WHERE o.listed_at < now() - make_interval(days => $1)
          AND NOT EXISTS (SELECT 1 FROM policy.lease l WHERE l.offer_id = o.id)
          AND NOT EXISTS (SELECT 1 FROM policy.approval a WHERE a.offer_id = o.id)`,
      [maxAgeDays],
    )) as [unknown, number];
    return count;
  }

  /** The offer behind a credential id, if this user was offered it on this endpoint. */
  async resolve(credentialId: string, user: string, endpoint: string): Promise<Offer> {
    const rows = await FIND_OFFER.run<{
      id: string;
      user_key: string;
      endpoint_key: string;
      vault: string;
      ref: VaultRef;
      name: string;
      username: string;
      domain: string | null;
      release_duration_minutes: number;
      rotate_after_release: boolean;
      ref_key: string;
    }>(this.db, [credentialId]);
    const row = rows[0];
    if (!row) throw new OpenEcmError('CREDENTIAL_NOT_FOUND', 'unknown credential id');
    if (row.user_key !== userKey(user) || row.endpoint_key !== endpointKey(endpoint)) {
      throw new OpenEcmError('CREDENTIAL_NOT_OFFERED', 'this credential was not listed for this user on this endpoint');
    }
    return {
      id: row.id,
      vault: row.vault,
      ref: row.ref,
      credentialKey: `${row.vault}:${row.ref_key}`,
      name: row.name,
      username: row.username,
      domain: row.domain,
      releaseDurationMinutes: row.release_duration_minutes,
      rotateAfterRelease: row.rotate_after_release,
    };
  }
}
