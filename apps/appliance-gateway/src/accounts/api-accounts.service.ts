import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { gatewayConfig, loadConfig } from '@openecm/config';
import { ApiPermission, OpenEcmError, type ApiAccount } from '@openecm/contracts';
import { hashSecret, randomToken, verifySecret } from '@openecm/crypto';
import { DataSource, type Repository } from 'typeorm';
import type { ClientCredentials } from '../oauth/client-credentials';
import { isApiPermission } from '../oauth/permission';
import { ApiAccountEntity } from './api-account.entity';

const ALL_PERMISSIONS: readonly ApiPermission[] = ApiPermission.options;

export type ApiAccountView = ApiAccount;

interface AccountRow {
  id: string;
  client_id: string;
  permissions: string[];
  created_at: Date;
}

function toView(row: { clientId: string; permissions: readonly string[]; createdAt: Date }): ApiAccountView {
  return { clientId: row.clientId, permissions: row.permissions.filter(isApiPermission), createdAt: row.createdAt.toISOString() };
}

/** API accounts: created by an admin (the secret is shown once) or, on an empty table, from the bootstrap settings. */
@Injectable()
export class ApiAccountsService implements OnModuleInit {
  private readonly logger = new Logger('api-accounts');
  private readonly accounts: Repository<ApiAccountEntity>;
  // Unknown client ids are checked against this too, so the answer time does not tell which ids exist.
  private decoy?: Promise<string>;

  constructor(private readonly dataSource: DataSource) {
    this.accounts = dataSource.getRepository(ApiAccountEntity);
  }

  async onModuleInit(): Promise<void> {
    const config = loadConfig(gatewayConfig);
    const id = config.OPENECM_BOOTSTRAP_CLIENT_ID;
    const secret = config.OPENECM_BOOTSTRAP_CLIENT_SECRET;
    if (id === undefined && secret === undefined) return;
    if (id === undefined || secret === undefined) {
      this.logger.warn('OPENECM_BOOTSTRAP_CLIENT_ID and OPENECM_BOOTSTRAP_CLIENT_SECRET must be set together; no bootstrap account');
      return;
    }
    if (await this.bootstrap(id, secret)) this.logger.log(`created the bootstrap API account "${id}" with every permission`);
  }

  /**
   * Creates the account only when the table is empty. Instances starting together take a transaction-scoped
   * advisory lock, so the emptiness check and the insert are one step across them; `on conflict` covers an
   * account created under the same id by any other path.
   */
  async bootstrap(clientId: string, secret: string): Promise<boolean> {
    if (await this.accounts.exists()) return false;
    const secretHash = await hashSecret(secret);
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('gateway.api_account.bootstrap'))`);
      const inserted = await m.query<Array<{ id: string }>>(
        `INSERT INTO gateway.api_account (client_id, secret_hash, permissions)
         SELECT $1, $2, $3::text[] WHERE NOT EXISTS (SELECT 1 FROM gateway.api_account)
         ON CONFLICT (client_id) DO NOTHING
         RETURNING id`,
        [clientId, secretHash, [...ALL_PERMISSIONS]],
      );
      return inserted.length === 1;
    });
  }

  /** The account whose secret matches one of the readings of the client's credentials. */
  async authenticate(candidates: readonly ClientCredentials[]): Promise<ApiAccountEntity | undefined> {
    for (const { clientId, clientSecret } of candidates) {
      const account = await this.accounts.findOneBy({ clientId });
      const stored = account?.secretHash ?? (await this.decoyHash());
      const matches = await verifySecret(clientSecret.reveal(), stored);
      if (account && matches) return account;
    }
    return undefined;
  }

  async create(clientId: string, permissions: readonly ApiPermission[]): Promise<{ account: ApiAccountView; clientSecret: string }> {
    const clientSecret = randomToken(32);
    const secretHash = await hashSecret(clientSecret);
    const rows = await this.dataSource.query<AccountRow[]>(
      `INSERT INTO gateway.api_account (client_id, secret_hash, permissions) VALUES ($1, $2, $3::text[])
       ON CONFLICT (client_id) DO NOTHING
       RETURNING id, client_id, permissions, created_at`,
      [clientId, secretHash, [...permissions]],
    );
    const row = rows[0];
    if (!row) {
      throw new OpenEcmError('VALIDATION_FAILED', `an API account "${clientId}" already exists`, [
        { field: 'clientId', message: 'already in use' },
      ]);
    }
    return { account: toView({ clientId: row.client_id, permissions: row.permissions, createdAt: row.created_at }), clientSecret };
  }

  async list(): Promise<ApiAccountView[]> {
    const rows = await this.accounts.find({ order: { createdAt: 'ASC', clientId: 'ASC' } });
    return rows.map(toView);
  }

  /**
   * Deletes an account and, through the foreign key, its tokens; returns its id. The last account holding
   * `admin` stays, or nobody could manage accounts again; the admin rows are locked so two concurrent
   * deletions cannot both pass that check.
   */
  async delete(clientId: string): Promise<string> {
    return this.dataSource.transaction(async (m) => {
      const admins = await m.query<Array<{ client_id: string }>>(
        `SELECT client_id FROM gateway.api_account WHERE 'admin' = ANY (permissions) ORDER BY id FOR UPDATE`,
      );
      const target = await m.query<Array<{ id: string; permissions: string[] }>>(
        'SELECT id, permissions FROM gateway.api_account WHERE client_id = $1 FOR UPDATE',
        [clientId],
      );
      const account = target[0];
      if (!account) throw new OpenEcmError('NOT_FOUND', `no API account "${clientId}"`);
      if (account.permissions.includes('admin') && admins.length === 1) {
        throw new OpenEcmError('VALIDATION_FAILED', 'the last API account with the admin permission cannot be deleted', [
          { field: 'clientId', message: 'last admin account' },
        ]);
      }
      await m.query('DELETE FROM gateway.api_account WHERE id = $1', [account.id]);
      return account.id;
    });
  }

  private decoyHash(): Promise<string> {
    this.decoy ??= hashSecret(randomToken(32));
    return this.decoy;
  }
}
