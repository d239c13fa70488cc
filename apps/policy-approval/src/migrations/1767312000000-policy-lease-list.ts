import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The lease list pages newest first by (opened_at, id). */
export class PolicyLeaseList1767312000000 implements MigrationInterface {
  name = 'PolicyLeaseList1767312000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX lease_opened ON policy.lease (opened_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX policy.lease_opened`);
  }
}
