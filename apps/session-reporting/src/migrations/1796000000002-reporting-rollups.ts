import type { MigrationInterface, QueryRunner } from 'typeorm';

const USED = 'Credentials Used';
const REQUEST_FAILED = 'Credential Request Failed';
const RELEASE_FAILED = 'Credential Release Failed';

export const utcDay = (column: string) => `(${column} AT TIME ZONE 'UTC')::date`;
/** The buckets a UTC day's value is counted in, as a VALUES list of (grain, first day). */
export type Grains = (day: string) => string;
/** A UTC day with the month and the year it falls in: the three grains a value is counted at here. */
export const DAY_MONTH_YEAR: Grains = (day) => `(VALUES ('d', ${day}), ('m', date_trunc('month', ${day})::date), ('y', date_trunc('year', ${day})::date))`;

/**
 * What a set of session rows, each with a sign (+1 counted, -1 no longer counted), does to the rollups: the day's
 * sessions and emergencies, and the sessions of each user and endpoint per day, month and year. Keys are written
 * in their order, so concurrent writers lock shared rows in the same order.
 */
const applySessions = (delta: string, grains: Grains) => `
  WITH d AS (${delta}),
  days AS (
    INSERT INTO "reporting"."report_session_day" AS r ("day", "sessions", "emergencies")
    SELECT ${utcDay('d."start_time"')}, sum(d."sign"), COALESCE(sum(d."sign") FILTER (WHERE d."emergency"), 0)
      FROM d GROUP BY 1
    HAVING sum(d."sign") <> 0 OR COALESCE(sum(d."sign") FILTER (WHERE d."emergency"), 0) <> 0
     ORDER BY 1
    ON CONFLICT ("day") DO UPDATE SET "sessions" = r."sessions" + EXCLUDED."sessions", "emergencies" = r."emergencies" + EXCLUDED."emergencies"
  )
  INSERT INTO "reporting"."report_value" AS r ("kind", "grain", "bucket", "value", "n")
  SELECT v.kind, g.grain, g.bucket, v.value, sum(d."sign")
    FROM d
    CROSS JOIN LATERAL (VALUES ('user', d."user_name"), ('endpoint', d."endpoint")) AS v(kind, value)
    CROSS JOIN LATERAL ${grains(utcDay('d."start_time"'))} AS g(grain, bucket)
   WHERE v.value IS NOT NULL
   GROUP BY 1, 2, 3, 4 HAVING sum(d."sign") <> 0
   ORDER BY 1, 2, 3, 4
  ON CONFLICT ("kind", "grain", "bucket", "value") DO UPDATE SET "n" = r."n" + EXCLUDED."n"`;

/** The same for events: the day's injections, failed requests and failed rotations, and the injections per endpoint, user and credential. */
const applyEvents = (delta: string, grains: Grains) => `
  WITH d AS (${delta}),
  days AS (
    INSERT INTO "reporting"."report_event_day" AS r ("day", "injections", "failed_requests", "rotations_failed")
    SELECT ${utcDay('d."timestamp"')},
           COALESCE(sum(d."sign") FILTER (WHERE d."type" = '${USED}'), 0),
           COALESCE(sum(d."sign") FILTER (WHERE d."type" = '${REQUEST_FAILED}'), 0),
           COALESCE(sum(d."sign") FILTER (WHERE d."type" = '${RELEASE_FAILED}'), 0)
      FROM d GROUP BY 1 ORDER BY 1
    ON CONFLICT ("day") DO UPDATE SET "injections" = r."injections" + EXCLUDED."injections",
      "failed_requests" = r."failed_requests" + EXCLUDED."failed_requests", "rotations_failed" = r."rotations_failed" + EXCLUDED."rotations_failed"
  )
  INSERT INTO "reporting"."report_value" AS r ("kind", "grain", "bucket", "value", "n")
  SELECT v.kind, g.grain, g.bucket, v.value, sum(d."sign")
    FROM d
    CROSS JOIN LATERAL (VALUES ('used.endpoint', d."destination"), ('used.user', d."performed_by"), ('used.credential', d."credential_name")) AS v(kind, value)
    CROSS JOIN LATERAL ${grains(utcDay('d."timestamp"'))} AS g(grain, bucket)
   WHERE d."type" = '${USED}' AND v.value IS NOT NULL
   GROUP BY 1, 2, 3, 4 HAVING sum(d."sign") <> 0
   ORDER BY 1, 2, 3, 4
  ON CONFLICT ("kind", "grain", "bucket", "value") DO UPDATE SET "n" = r."n" + EXCLUDED."n"`;

const SESSION_COLUMNS = `"start_time", "user_name", "endpoint", "emergency"`;
const EVENT_COLUMNS = `"type", "timestamp", "destination", "performed_by", "credential_name"`;
const COUNTED_TYPES = `"type" IN ('${USED}', '${REQUEST_FAILED}', '${RELEASE_FAILED}')`;
/** A session counts elsewhere when its UTC day, user, endpoint or emergency flag changed. */
const SESSION_MOVED = `${utcDay('o."start_time"')} <> ${utcDay('n."start_time"')} OR o."user_name" IS DISTINCT FROM n."user_name"
  OR o."endpoint" IS DISTINCT FROM n."endpoint" OR o."emergency" <> n."emergency"`;

export interface RollupTrigger {
  name: string;
  table: string;
  on: string;
  referencing: string;
  body: string;
}

/** The statement triggers that keep the rollups, counting each value at `grains`. */
export const rollupTriggers = (grains: Grains): RollupTrigger[] => [
  { name: 'report_session_inserted', table: 'session', on: 'INSERT', referencing: 'NEW TABLE AS new_rows', body: applySessions(`SELECT ${SESSION_COLUMNS}, 1 AS "sign" FROM new_rows`, grains) },
  {
    name: 'report_session_updated',
    table: 'session',
    on: 'UPDATE',
    referencing: 'OLD TABLE AS old_rows NEW TABLE AS new_rows',
    body: applySessions(`
      SELECT o."start_time", o."user_name", o."endpoint", o."emergency", -1 AS "sign" FROM old_rows o JOIN new_rows n ON n."id" = o."id" WHERE ${SESSION_MOVED}
      UNION ALL
      SELECT n."start_time", n."user_name", n."endpoint", n."emergency", 1 FROM old_rows o JOIN new_rows n ON n."id" = o."id" WHERE ${SESSION_MOVED}`, grains),
  },
  { name: 'report_session_deleted', table: 'session', on: 'DELETE', referencing: 'OLD TABLE AS old_rows', body: applySessions(`SELECT ${SESSION_COLUMNS}, -1 AS "sign" FROM old_rows`, grains) },
  {
    name: 'report_event_inserted',
    table: 'session_event',
    on: 'INSERT',
    referencing: 'NEW TABLE AS new_rows',
    body: applyEvents(`SELECT ${EVENT_COLUMNS}, 1 AS "sign" FROM new_rows WHERE ${COUNTED_TYPES}`, grains),
  },
  {
    name: 'report_event_deleted',
    table: 'session_event',
    on: 'DELETE',
    referencing: 'OLD TABLE AS old_rows',
    body: applyEvents(`SELECT ${EVENT_COLUMNS}, -1 AS "sign" FROM old_rows WHERE ${COUNTED_TYPES}`, grains),
  },
];
const TRIGGERS = rollupTriggers(DAY_MONTH_YEAR);

/** The body of a rollup trigger's function. */
export const triggerFunction = (t: RollupTrigger) => `CREATE OR REPLACE FUNCTION "reporting"."${t.name}"() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN ${t.body}; RETURN NULL; END $fn$`;

/**
 * The summary's rollups (ADR 20): per UTC day the sessions, emergencies, injections, failed requests and failed
 * rotations; per day, month and year the sessions of each user and endpoint and the injections of each endpoint,
 * user and credential, so a long range's distinct counts and top 10s read a few rows per value. Statement triggers
 * keep them in the transaction that inserts, changes or deletes sessions and events, from the rows it actually
 * wrote (an event not inserted because its key was stored already counts nothing), whichever source and instance
 * wrote them. Existing rows are counted here, after the tables are locked against writes until this commits.
 */
export class ReportingRollups1796000000002 implements MigrationInterface {
  name = 'ReportingRollups1796000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE "reporting"."report_session_day" (
        "day" date NOT NULL,
        "sessions" bigint NOT NULL DEFAULT 0,
        "emergencies" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "pk_report_session_day" PRIMARY KEY ("day") INCLUDE ("sessions", "emergencies")
      )`);
    await q.query(`
      CREATE TABLE "reporting"."report_event_day" (
        "day" date NOT NULL,
        "injections" bigint NOT NULL DEFAULT 0,
        "failed_requests" bigint NOT NULL DEFAULT 0,
        "rotations_failed" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "pk_report_event_day" PRIMARY KEY ("day") INCLUDE ("injections", "failed_requests", "rotations_failed")
      )`);
    // grain: 'd' a UTC day, 'm' its month, 'y' its year, bucket their first day ('x', its dekad, from 1796000000004)
    await q.query(`
      CREATE TABLE "reporting"."report_value" (
        "kind" varchar(16) NOT NULL,
        "grain" char(1) NOT NULL,
        "bucket" date NOT NULL,
        "value" text NOT NULL,
        "n" bigint NOT NULL,
        CONSTRAINT "pk_report_value" PRIMARY KEY ("kind", "grain", "bucket", "value") INCLUDE ("n")
      )`);
    await q.query(`LOCK TABLE "reporting"."session", "reporting"."session_event" IN SHARE ROW EXCLUSIVE MODE`);
    for (const t of TRIGGERS) {
      await q.query(triggerFunction(t));
      await q.query(
        `CREATE TRIGGER "${t.name}" AFTER ${t.on} ON "reporting"."${t.table}" REFERENCING ${t.referencing} FOR EACH STATEMENT EXECUTE FUNCTION "reporting"."${t.name}"()`,
      );
    }
    await q.query(applySessions(`SELECT ${SESSION_COLUMNS}, 1 AS "sign" FROM "reporting"."session"`, DAY_MONTH_YEAR));
    await q.query(applyEvents(`SELECT ${EVENT_COLUMNS}, 1 AS "sign" FROM "reporting"."session_event" WHERE ${COUNTED_TYPES}`, DAY_MONTH_YEAR));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of TRIGGERS) {
      await q.query(`DROP TRIGGER "${t.name}" ON "reporting"."${t.table}"`);
      await q.query(`DROP FUNCTION "reporting"."${t.name}"()`);
    }
    await q.query(`DROP TABLE "reporting"."report_value"`);
    await q.query(`DROP TABLE "reporting"."report_event_day"`);
    await q.query(`DROP TABLE "reporting"."report_session_day"`);
  }
}
