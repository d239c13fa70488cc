import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A lease event is recorded once however often its stream delivers it: its stream sequence is the record's event id. */
export class AuditEventId1767830400001 implements MigrationInterface {
  name = 'AuditEventId1767830400001';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit.record ADD COLUMN event_id text');
    await q.query('ALTER TABLE audit.record ADD CONSTRAINT record_event_id_key UNIQUE (event_id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE audit.record DROP COLUMN event_id');
  }
}
