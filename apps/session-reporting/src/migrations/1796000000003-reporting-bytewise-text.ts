import type { MigrationInterface, QueryRunner } from 'typeorm';

const TABLES = ['session', 'session_event'];

/** Every text column of the grids' tables, with its type as declared (`character varying(256)`). */
async function textColumns(q: QueryRunner): Promise<Array<{ table: string; column: string; type: string }>> {
  return q.query(
    `SELECT c.relname AS "table", a.attname AS "column", format_type(a.atttypid, a.atttypmod) AS "type"
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'reporting' AND c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
        AND a.atttypid IN ('text'::regtype, 'varchar'::regtype)
      ORDER BY 1, 2`,
    [TABLES],
  );
}

/**
 * The grids' text columns compare bytewise (collation "C"): a prefix filter (`endpoint.prefix=srv-42`, a LIKE
 * 'srv-42%') is then a range of the column's btree index whatever the database's locale, where under a linguistic
 * collation it read the whole table. Sorting on a text column follows code points, the same on every database.
 * The table is not rewritten; the indexes on these columns are rebuilt.
 */
export class ReportingBytewiseText1796000000003 implements MigrationInterface {
  name = 'ReportingBytewiseText1796000000003';

  async up(q: QueryRunner): Promise<void> {
    await this.collate(q, 'COLLATE "C"');
  }

  async down(q: QueryRunner): Promise<void> {
    await this.collate(q, 'COLLATE "default"');
  }

  private async collate(q: QueryRunner, collation: string): Promise<void> {
    const byTable = new Map<string, string[]>();
    for (const { table, column, type } of await textColumns(q)) {
      byTable.set(table, [...(byTable.get(table) ?? []), `ALTER COLUMN "${column}" TYPE ${type} ${collation}`]);
    }
    for (const [table, alterations] of byTable) await q.query(`ALTER TABLE "reporting"."${table}" ${alterations.join(', ')}`);
  }
}
