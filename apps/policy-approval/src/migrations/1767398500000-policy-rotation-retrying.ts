import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A released lease whose check-in is being retried shows `rotation: retrying` with its last error. */
export class PolicyRotationRetrying1767398500000 implements MigrationInterface {
  name = 'PolicyRotationRetrying1767398500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE policy.lease DROP CONSTRAINT lease_rotation_check`);
    await q.query(
      `ALTER TABLE policy.lease ADD CONSTRAINT lease_rotation_check CHECK (rotation IN ('pending','scheduled','retrying','done','not-required','failed'))`,
    );
    await q.query(`CREATE INDEX lease_rotation_retrying ON policy.lease (id) WHERE rotation = 'retrying'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX policy.lease_rotation_retrying`);
    await q.query(`UPDATE policy.lease SET rotation = 'scheduled' WHERE rotation = 'retrying'`);
    await q.query(`ALTER TABLE policy.lease DROP CONSTRAINT lease_rotation_check`);
    await q.query(`ALTER TABLE policy.lease ADD CONSTRAINT lease_rotation_check CHECK (rotation IN ('pending','scheduled','done','not-required','failed'))`);
  }
}
