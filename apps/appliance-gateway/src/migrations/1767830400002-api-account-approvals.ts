import type { MigrationInterface, QueryRunner } from 'typeorm';

/** API accounts may hold `approvals`: an approval integration deciding approval requests. */
export class ApiAccountApprovals1767830400002 implements MigrationInterface {
  name = 'ApiAccountApprovals1767830400002';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE gateway.api_account DROP CONSTRAINT api_account_permissions_check');
    await q.query(
      `ALTER TABLE gateway.api_account ADD CONSTRAINT api_account_permissions_check
         CHECK (cardinality(permissions) > 0 AND permissions <@ ARRAY['credentials', 'reporting', 'admin', 'approvals']::text[])`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE gateway.api_account SET permissions = array_remove(permissions, 'approvals')`);
    await q.query('ALTER TABLE gateway.api_account DROP CONSTRAINT api_account_permissions_check');
    await q.query(
      `ALTER TABLE gateway.api_account ADD CONSTRAINT api_account_permissions_check
         CHECK (cardinality(permissions) > 0 AND permissions <@ ARRAY['credentials', 'reporting', 'admin']::text[])`,
    );
  }
}
