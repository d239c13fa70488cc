import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DAY_MONTH_YEAR, rollupTriggers, triggerFunction, type Grains } from './1796000000002-reporting-rollups';

/** The first day of the third of a month a day falls in: the 1st, the 11th or the 21st. */
const dekad = (day: string) => `(date_trunc('month', ${day})::date + least(2, (extract(day FROM ${day})::int - 1) / 10) * 10)`;
/** A UTC day with its dekad, month and year. */
const WITH_DEKADS: Grains = (day) => `(VALUES ('d', ${day}), ('x', ${dekad(day)}), ('m', date_trunc('month', ${day})::date), ('y', date_trunc('year', ${day})::date))`;

/**
 * A fourth grain of the summary's rollups (ADR 20): the dekad ('x', a month's 1st to 10th, 11th to 20th, 21st to its
 * end). The days at either end of a range that are not a whole month then read as at most two dekads and nine days
 * a side instead of thirty days, which is what a long range with partial months costs. The triggers count each new
 * value at four grains; the dekads of the values already counted are summed from their days.
 */
export class ReportingDekads1796000000004 implements MigrationInterface {
  name = 'ReportingDekads1796000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE "reporting"."session", "reporting"."session_event" IN SHARE ROW EXCLUSIVE MODE`);
    for (const t of rollupTriggers(WITH_DEKADS)) await q.query(triggerFunction(t));
    await q.query(`
      INSERT INTO "reporting"."report_value" ("kind", "grain", "bucket", "value", "n")
      SELECT "kind", 'x', ${dekad('"bucket"')}, "value", sum("n") FROM "reporting"."report_value"
       WHERE "grain" = 'd' GROUP BY 1, 2, 3, 4 HAVING sum("n") <> 0 ORDER BY 1, 2, 3, 4`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`LOCK TABLE "reporting"."session", "reporting"."session_event" IN SHARE ROW EXCLUSIVE MODE`);
    for (const t of rollupTriggers(DAY_MONTH_YEAR)) await q.query(triggerFunction(t));
    await q.query(`DELETE FROM "reporting"."report_value" WHERE "grain" = 'x'`);
  }
}
