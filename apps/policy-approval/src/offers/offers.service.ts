import { Injectable } from '@nestjs/common';
import { OpenEcmError, type OfferedCredential, type VaultCredential, type VaultRef } from '@openecm/contracts';
import { DataSource } from 'typeorm';
import { endpointKey, userKey } from '../access/identity';

export interface Offer {
  id: string;
  vault: string;
  ref: VaultRef;
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

/**
 * The ids the broker hands out in a list. An id is bound to the user and endpoint it was listed for:
 * injection checks that binding here, in the service that owns it, not only at the edge.
 */
@Injectable()
export class OffersService {
  constructor(private readonly db: DataSource) {}

  async record(user: string, endpoint: string, credentials: VaultCredential[]): Promise<OfferedCredential[]> {
    if (credentials.length === 0) return [];
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
    return credentials.map((c) => ({
      id: ids.get(`${c.vault}|${refKey(c.ref)}`) as string,
      name: c.name,
      username: c.username,
      domain: c.domain,
      scope: c.scope,
      vault: c.vault,
    }));
  }

  /**
   * Forgets credential ids not listed again for `maxAgeDays` and never injected: the appliance lists before
   * it injects, so an old id is only ever a replay. Ids behind a lease stay, for the lease's audit trail.
   */
  async prune(maxAgeDays: number): Promise<number> {
    const [, count] = (await this.db.query(
      `DELETE FROM policy.credential_offer o
        WHERE o.listed_at < now() - make_interval(days => $1)
          AND NOT EXISTS (SELECT 1 FROM policy.lease l WHERE l.offer_id = o.id)`,
      [maxAgeDays],
    )) as [unknown, number];
    return count;
  }

  /** The offer behind a credential id, if this user was offered it on this endpoint. */
  async resolve(credentialId: string, user: string, endpoint: string): Promise<Offer> {
    const rows: Array<{
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
    }> = await this.db.query(`SELECT * FROM policy.credential_offer WHERE id = $1`, [credentialId]);
    const row = rows[0];
    if (!row) throw new OpenEcmError('CREDENTIAL_NOT_FOUND', 'unknown credential id');
    if (row.user_key !== userKey(user) || row.endpoint_key !== endpointKey(endpoint)) {
      throw new OpenEcmError('CREDENTIAL_NOT_OFFERED', 'this credential was not listed for this user on this endpoint');
    }
    return {
      id: row.id,
      vault: row.vault,
      ref: row.ref,
      name: row.name,
      username: row.username,
      domain: row.domain,
      releaseDurationMinutes: row.release_duration_minutes,
      rotateAfterRelease: row.rotate_after_release,
    };
  }
}
