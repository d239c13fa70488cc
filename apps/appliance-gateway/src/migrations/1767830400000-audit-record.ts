import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The audit trail, in a schema of its own so it can be granted (and revoked) apart from the gateway's tables. */
export class AuditRecord1767830400000 implements MigrationInterface {
  name = 'AuditRecord1767830400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE SCHEMA IF NOT EXISTS audit');
    await q.query(`
      CREATE TABLE audit.record (
        seq bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        kind text NOT NULL,
        actor text,
        user_name text,
        endpoint text,
        vault text,
        credential text,
        lease_id text,
        outcome text NOT NULL,
        trace_id text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        position bigint,
        key_id text,
        prev_hmac text,
        hmac text,
        CONSTRAINT record_position_key UNIQUE (position),
        CONSTRAINT record_chained_check CHECK ((position IS NULL) = (hmac IS NULL))
      )`);
    // the chainer takes what is not linked yet, in seq order
    await q.query('CREATE INDEX record_unchained_idx ON audit.record (seq) WHERE position IS NULL');
    await q.query('CREATE INDEX record_at_idx ON audit.record (at, seq)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit.record');
    await q.query('DROP SCHEMA audit');
  }
}
