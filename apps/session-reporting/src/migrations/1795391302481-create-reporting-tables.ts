import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The vendor's BGSessions tables and every index the vendor recommends for its dashboards, so existing
 * queries carry over. Written by hand and frozen: a later change is a new migration.
 */
export class CreateReportingTables1795391302481 implements MigrationInterface {
  name = 'CreateReportingTables1795391302481';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "reporting"."session" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "lsid" text NOT NULL,
        "type" varchar(64),
        "start_time" timestamptz NOT NULL,
        "end_time" timestamptz,
        "duration" integer,
        "file_transfers" integer NOT NULL DEFAULT 0,
        "host_name" text,
        "external_key" text,
        "public_site_id" integer,
        "public_site_name" text,
        "jump_group_id" integer,
        "jump_group_name" text,
        CONSTRAINT "pk_session" PRIMARY KEY ("id")
      )`);
    // The unique index on lsid doubles as the vendor's recommended session(lsid) index.
    await queryRunner.query(`CREATE UNIQUE INDEX "ix_session_lsid" ON "reporting"."session" ("lsid")`);
    await queryRunner.query(`CREATE INDEX "ix_session_start_time" ON "reporting"."session" ("start_time")`);
    await queryRunner.query(`CREATE INDEX "ix_session_host_name" ON "reporting"."session" ("host_name")`);
    await queryRunner.query(`CREATE INDEX "ix_session_jump_group_name" ON "reporting"."session" ("jump_group_name")`);

    await queryRunner.query(`
      CREATE TABLE "reporting"."session_event" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "session_id" bigint NOT NULL,
        "type" varchar(64) NOT NULL,
        "performed_by_type" varchar(32) NOT NULL,
        "performed_by" text,
        "destination" text,
        "timestamp" timestamptz NOT NULL,
        "event_key" text NOT NULL,
        CONSTRAINT "pk_session_event" PRIMARY KEY ("id"),
        CONSTRAINT "fk_session_event_session" FOREIGN KEY ("session_id")
          REFERENCES "reporting"."session" ("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX "ix_session_event_event_key" ON "reporting"."session_event" ("event_key")`);
    await queryRunner.query(`CREATE INDEX "ix_session_event_session_id" ON "reporting"."session_event" ("session_id")`);
    await queryRunner.query(
      `CREATE INDEX "ix_session_event_type_performed_by_type" ON "reporting"."session_event" ("type", "performed_by_type")`,
    );
    await queryRunner.query(`CREATE INDEX "ix_session_event_type_destination" ON "reporting"."session_event" ("type", "destination")`);
    await queryRunner.query(`CREATE INDEX "ix_session_event_type_performed_by" ON "reporting"."session_event" ("type", "performed_by")`);

    await queryRunner.query(`
      CREATE TABLE "reporting"."session_event_data" (
        "id" bigint GENERATED ALWAYS AS IDENTITY NOT NULL,
        "session_event_id" bigint NOT NULL,
        "name" varchar(64) NOT NULL,
        "value" text,
        CONSTRAINT "pk_session_event_data" PRIMARY KEY ("id"),
        CONSTRAINT "fk_session_event_data_session_event" FOREIGN KEY ("session_event_id")
          REFERENCES "reporting"."session_event" ("id") ON DELETE CASCADE ON UPDATE NO ACTION
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_session_event_data_session_event_id" ON "reporting"."session_event_data" ("session_event_id")`,
    );
    await queryRunner.query(`CREATE INDEX "ix_session_event_data_name" ON "reporting"."session_event_data" ("name")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "reporting"."session_event_data"`);
    await queryRunner.query(`DROP TABLE "reporting"."session_event"`);
    await queryRunner.query(`DROP TABLE "reporting"."session"`);
  }
}
