import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Cheaper writes of the appliance's events, which carry no lease or trace: those indexes become partial (a row
 * without the value costs them nothing), and a session's events are read through the vendor's
 * session_event(session_id), so the second index on it goes.
 */
export class ReportingPartialIndexes1796000000001 implements MigrationInterface {
  name = 'ReportingPartialIndexes1796000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "reporting"."ix_session_event_session_id_id"`);
    for (const [table, column] of [['session_event', 'lease_id'], ['session_event', 'trace_id'], ['session', 'lease_id'], ['session', 'trace_id']] as const) {
      await q.query(`DROP INDEX "reporting"."ix_${table}_${column}"`);
      await q.query(`CREATE INDEX "ix_${table}_${column}" ON "reporting"."${table}" ("${column}") WHERE "${column}" IS NOT NULL`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [table, column] of [['session_event', 'lease_id'], ['session_event', 'trace_id'], ['session', 'lease_id'], ['session', 'trace_id']] as const) {
      await q.query(`DROP INDEX "reporting"."ix_${table}_${column}"`);
      await q.query(`CREATE INDEX "ix_${table}_${column}" ON "reporting"."${table}" ("${column}")`);
    }
    await q.query(`CREATE INDEX "ix_session_event_session_id_id" ON "reporting"."session_event" ("session_id", "id")`);
  }
}
