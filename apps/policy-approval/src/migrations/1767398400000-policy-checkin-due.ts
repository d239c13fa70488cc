import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A check-out that failed may still have reached the vault (a timeout, a crash, a lost answer): such a lease
 * is `failed` but keeps `checkin_due` until the release path has checked it in.
 */
export class PolicyCheckinDue1767398400000 implements MigrationInterface {
  name = 'PolicyCheckinDue1767398400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE policy.lease ADD COLUMN checkin_due boolean NOT NULL DEFAULT false`);
    await q.query(`CREATE INDEX lease_checkin_due ON policy.lease (id) WHERE checkin_due`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX policy.lease_checkin_due`);
    await q.query(`ALTER TABLE policy.lease DROP COLUMN checkin_due`);
  }
}
