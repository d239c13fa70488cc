import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A lease belongs to the API account that opened it (its client id): only that account, or one holding
 * `admin`, reads and releases it. Leases opened before have no owner and are an admin's alone.
 */
export class PolicyLeaseOwner1767398600000 implements MigrationInterface {
  name = 'PolicyLeaseOwner1767398600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE policy.lease ADD COLUMN owner text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE policy.lease DROP COLUMN owner`);
  }
}
