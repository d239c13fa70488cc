import { Injectable } from '@nestjs/common';
import { gatewayConfig, loadConfig } from '@openecm/config';
import { randomToken } from '@openecm/crypto';
import { DataSource } from 'typeorm';
import { BoundedTtlCache } from './bounded-ttl-cache';
import { hashAccessToken } from './client-credentials';
import { OAuthError } from './oauth-error';
import { isApiPermission, type ApiPrincipal } from './permission';

/** As the appliance vendor does: an account holds at most this many live tokens; the oldest go first. */
export const MAX_LIVE_TOKENS_PER_ACCOUNT = 30;
/**
 * How long one instance trusts a token it looked up without asking Postgres again. A token dropped or an
 * account deleted through another instance stays usable here for at most this long.
 */
const LOOKUP_CACHE_MS = 5_000;
const LOOKUP_CACHE_ENTRIES = 10_000;

interface TokenRow {
  account_id: string;
  client_id: string;
  permissions: string[];
  expires_at: Date;
}

@Injectable()
export class TokenService {
  private readonly ttlSeconds = loadConfig(gatewayConfig).ACCESS_TOKEN_TTL_SECONDS;
  private readonly lookups = new BoundedTtlCache<ApiPrincipal>(LOOKUP_CACHE_ENTRIES, LOOKUP_CACHE_MS);

  constructor(private readonly dataSource: DataSource) {}

  /**
   * Issues an opaque token and keeps only its digest. The account row is locked for the issue, so
   * concurrent issues for one account apply the cap one after another; expired tokens of the account go too.
   */
  async issue(accountId: string): Promise<{ accessToken: string; expiresIn: number }> {
    const accessToken = randomToken(32);
    const dropped = await this.dataSource.transaction(async (m) => {
      const locked = await m.query<Array<{ id: string }>>('SELECT id FROM gateway.api_account WHERE id = $1 FOR UPDATE', [accountId]);
      if (locked.length === 0) throw OAuthError.invalidClient();
      await m.query(
        `INSERT INTO gateway.access_token (token_hash, account_id, expires_at)
         VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))`,
        [hashAccessToken(accessToken), accountId, this.ttlSeconds],
      );
      // a data-modifying CTE, so the driver answers the deleted rows rather than a row count
      return m.query<Array<{ token_hash: string }>>(
        `WITH dropped AS (
           DELETE FROM gateway.access_token
           WHERE account_id = $1
             AND (expires_at <= clock_timestamp()
                  OR id NOT IN (SELECT id FROM gateway.access_token
                                WHERE account_id = $1 AND expires_at > clock_timestamp()
                                ORDER BY id DESC LIMIT $2))
           RETURNING token_hash)
         SELECT token_hash FROM dropped`,
        [accountId, MAX_LIVE_TOKENS_PER_ACCOUNT],
      );
    });
    for (const row of dropped) this.lookups.delete(row.token_hash);
    return { accessToken, expiresIn: this.ttlSeconds };
  }

  /** The account a live token belongs to, or undefined for an unknown or expired one. */
  async resolve(accessToken: string): Promise<ApiPrincipal | undefined> {
    const digest = hashAccessToken(accessToken);
    const cached = this.lookups.get(digest);
    if (cached) return cached;
    const rows = await this.dataSource.query<TokenRow[]>(
      `SELECT a.id AS account_id, a.client_id, a.permissions, t.expires_at
       FROM gateway.access_token t JOIN gateway.api_account a ON a.id = t.account_id
       WHERE t.token_hash = $1 AND t.expires_at > clock_timestamp()`,
      [digest],
    );
    const row = rows[0];
    if (!row) return undefined;
    const principal: ApiPrincipal = {
      accountId: row.account_id,
      clientId: row.client_id,
      permissions: row.permissions.filter(isApiPermission),
    };
    this.lookups.set(digest, principal, row.expires_at.getTime());
    return principal;
  }

  /** Forgets this instance's cached lookups of an account that was deleted. */
  forgetAccount(accountId: string): void {
    this.lookups.deleteWhere((p) => p.accountId === accountId);
  }
}
