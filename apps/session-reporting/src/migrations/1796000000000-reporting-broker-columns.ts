import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What only the broker knows, beside the vendor's columns (user, endpoint, credential, vault, lease, approval,
 * emergency flag, trace id, the session's injection and failure counts kept as events are inserted), where each
 * event came from, the poller's resume point and the appliance connection; and the indexes the grids' sorts
 * (each with the id as tie-breaker, so a keyset page is one index range) and the summary cards read.
 */
export class ReportingBrokerColumns1796000000000 implements MigrationInterface {
  name = 'ReportingBrokerColumns1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE "reporting"."session"
        ADD COLUMN "user_name" text,
        ADD COLUMN "endpoint" text,
        ADD COLUMN "credential_name" text,
        ADD COLUMN "vault" text,
        ADD COLUMN "lease_id" text,
        ADD COLUMN "approval_id" text,
        ADD COLUMN "emergency" boolean NOT NULL DEFAULT false,
        ADD COLUMN "trace_id" text,
        ADD COLUMN "injections" integer NOT NULL DEFAULT 0,
        ADD COLUMN "failures" integer NOT NULL DEFAULT 0`);
    await q.query(`
      ALTER TABLE "reporting"."session_event"
        ADD COLUMN "source" varchar(16) NOT NULL DEFAULT 'broker',
        ADD COLUMN "trace_id" text,
        ADD COLUMN "lease_id" text,
        ADD COLUMN "credential_name" text,
        ADD COLUMN "vault" text`);
    // the events recorded before this migration were all the broker's: count them on their sessions
    await q.query(`
      UPDATE "reporting"."session" s SET
        "injections" = c.i, "failures" = c.f
      FROM (SELECT "session_id",
                   count(*) FILTER (WHERE "type" = 'Credentials Used') AS i,
                   count(*) FILTER (WHERE "type" IN ('Credential Request Failed', 'Credential Release Failed')) AS f
              FROM "reporting"."session_event" GROUP BY "session_id") c
      WHERE s."id" = c."session_id"`);

    // sessions: the range of the cards (ending in who and where, so distinct counts read the index only) and the sorts
    await q.query(`CREATE INDEX "ix_session_start_time_id" ON "reporting"."session" ("start_time", "id", "user_name", "endpoint")`);
    await q.query(`CREATE INDEX "ix_session_user_name_id" ON "reporting"."session" ("user_name", "id")`);
    await q.query(`CREATE INDEX "ix_session_endpoint_id" ON "reporting"."session" ("endpoint", "id")`);
    await q.query(`CREATE INDEX "ix_session_credential_name_id" ON "reporting"."session" ("credential_name", "id")`);
    await q.query(`CREATE INDEX "ix_session_host_name_id" ON "reporting"."session" ("host_name", "id")`);
    await q.query(`CREATE INDEX "ix_session_jump_group_name_id" ON "reporting"."session" ("jump_group_name", "id")`);
    await q.query(`CREATE INDEX "ix_session_emergency_start_time" ON "reporting"."session" ("emergency", "start_time")`);
    await q.query(`CREATE INDEX "ix_session_lease_id" ON "reporting"."session" ("lease_id")`);
    await q.query(`CREATE INDEX "ix_session_trace_id" ON "reporting"."session" ("trace_id")`);

    // events: the grid's time order, one session's events in order, and the cards' and top 10s' range by type
    await q.query(`CREATE INDEX "ix_session_event_timestamp_id" ON "reporting"."session_event" ("timestamp", "id")`);
    await q.query(`CREATE INDEX "ix_session_event_session_id_id" ON "reporting"."session_event" ("session_id", "id")`);
    await q.query(
      `CREATE INDEX "ix_session_event_type_timestamp" ON "reporting"."session_event"
         ("type", "timestamp", "destination", "performed_by", "credential_name")`,
    );
    await q.query(`CREATE INDEX "ix_session_event_lease_id" ON "reporting"."session_event" ("lease_id")`);
    await q.query(`CREATE INDEX "ix_session_event_trace_id" ON "reporting"."session_event" ("trace_id")`);

    // the appliance connection (one today, named) with its client secret sealed (AES-256-GCM, key id in the envelope)
    await q.query(`
      CREATE TABLE "reporting"."appliance_connection" (
        "name" text NOT NULL,
        "url" text NOT NULL,
        "client_id" text NOT NULL,
        "client_secret" text NOT NULL,
        "poll_interval_seconds" integer NOT NULL,
        "ca_bundle" text,
        "allow_insecure_http" boolean NOT NULL DEFAULT false,
        "updated_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_appliance_connection" PRIMARY KEY ("name")
      )`);
    // where the report poller of a connection resumes: the appliance time of the last session end it stored
    await q.query(`
      CREATE TABLE "reporting"."report_poll" (
        "connection" text NOT NULL,
        "resume_from" bigint NOT NULL DEFAULT 0,
        "last_polled_at" timestamptz,
        "last_error" text,
        "sessions_stored" bigint NOT NULL DEFAULT 0,
        CONSTRAINT "pk_report_poll" PRIMARY KEY ("connection"),
        CONSTRAINT "fk_report_poll_connection" FOREIGN KEY ("connection")
          REFERENCES "reporting"."appliance_connection" ("name") ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "reporting"."report_poll"`);
    await q.query(`DROP TABLE "reporting"."appliance_connection"`);
    for (const ix of ['timestamp_id', 'session_id_id', 'type_timestamp', 'lease_id', 'trace_id']) {
      await q.query(`DROP INDEX "reporting"."ix_session_event_${ix}"`);
    }
    for (const ix of ['start_time_id', 'user_name_id', 'endpoint_id', 'credential_name_id', 'host_name_id', 'jump_group_name_id', 'emergency_start_time', 'lease_id', 'trace_id']) {
      await q.query(`DROP INDEX "reporting"."ix_session_${ix}"`);
    }
    await q.query(`ALTER TABLE "reporting"."session_event" DROP COLUMN "source", DROP COLUMN "trace_id", DROP COLUMN "lease_id", DROP COLUMN "credential_name", DROP COLUMN "vault"`);
    await q.query(`
      ALTER TABLE "reporting"."session" DROP COLUMN "user_name", DROP COLUMN "endpoint", DROP COLUMN "credential_name", DROP COLUMN "vault",
        DROP COLUMN "lease_id", DROP COLUMN "approval_id", DROP COLUMN "emergency", DROP COLUMN "trace_id", DROP COLUMN "injections", DROP COLUMN "failures"`);
  }
}
