import type { MigrationInterface, QueryRunner } from 'typeorm';

export class GatewayApiAccounts1767225600000 implements MigrationInterface {
  name = 'GatewayApiAccounts1767225600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gateway.api_account (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        client_id varchar(128) NOT NULL,
        secret_hash text NOT NULL,
        permissions text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT api_account_client_id_key UNIQUE (client_id),
        CONSTRAINT api_account_permissions_check
          CHECK (cardinality(permissions) > 0 AND permissions <@ ARRAY['credentials', 'reporting', 'admin']::text[])
      )`);
    await q.query(`
      CREATE TABLE gateway.access_token (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        token_hash char(64) NOT NULL,
        account_id uuid NOT NULL REFERENCES gateway.api_account (id) ON DELETE CASCADE,
        issued_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        CONSTRAINT access_token_token_hash_key UNIQUE (token_hash)
      )`);
    // the cap and the clean-up at issue walk one account's tokens in issue order
    await q.query('CREATE INDEX access_token_account_idx ON gateway.access_token (account_id, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE gateway.access_token');
    await q.query('DROP TABLE gateway.api_account');
  }
}
