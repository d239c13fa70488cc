import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The session's text columns a batch sets, in the order of the function's parameters. */
const TEXT_COLUMNS = [
  'type',
  'host_name',
  'external_key',
  'public_site_name',
  'jump_group_name',
  'user_name',
  'endpoint',
  'credential_name',
  'vault',
  'lease_id',
  'approval_id',
  'trace_id',
] as const;
const INT_COLUMNS = ['public_site_id', 'jump_group_id', 'file_transfers'] as const;
/** What the first value keeps (who the session is for, the trace that began it); the others take the latest. */
const FIRST_WINS: ReadonlySet<string> = new Set(['user_name', 'endpoint', 'trace_id']);

const sessionColumns = [...TEXT_COLUMNS, ...INT_COLUMNS];

/**
 * `reporting.record_events`: a batch of session events written by one call, so one round trip and one implicit
 * transaction instead of BEGIN, four statements and COMMIT. The statements are those the service sent before,
 * in the same order and with the same effects: the batch's sessions upserted (in the order given, lsid order,
 * so concurrent batches lock shared rows alike), its events inserted in the order given and ON CONFLICT DO NOTHING
 * on their key, the data of the events inserted now, and the session counters raised by those events only (a
 * duplicate never counts twice). It answers the keys of the events stored now.
 */
const CREATE = `
CREATE FUNCTION "reporting"."record_events"(
  s_lsid text[], s_start timestamptz[], s_end timestamptz[], s_emergency boolean[],
  ${TEXT_COLUMNS.map((c) => `"s_${c}" text[]`).join(', ')},
  ${INT_COLUMNS.map((c) => `"s_${c}" int[]`).join(', ')},
  e_lsid text[], e_type text[], e_performed_by_type text[], e_performed_by text[], e_destination text[],
  e_timestamp timestamptz[], e_event_key text[], e_source text[], e_trace_id text[], e_lease_id text[],
  e_credential_name text[], e_vault text[], e_injections int[], e_failures int[],
  d_event_key text[], d_name text[], d_value text[]
) RETURNS SETOF text
LANGUAGE plpgsql AS $fn$
DECLARE
  session_lsids text[];
  session_ids bigint[];
  event_keys text[];
  event_ids bigint[];
  event_sessions bigint[];
BEGIN
  WITH upserted AS (
    INSERT INTO "reporting"."session" AS s ("lsid", "start_time", "end_time", "duration", "emergency", ${sessionColumns.map((c) => `"${c}"`).join(', ')})
    SELECT u.lsid, u.start_time, u.end_time, GREATEST(0, EXTRACT(EPOCH FROM u.end_time - u.start_time))::int, COALESCE(u.emergency, false),
           ${sessionColumns.map((c) => (c === 'file_transfers' ? `COALESCE(u."${c}", 0)` : `u."${c}"`)).join(', ')}
      FROM unnest(s_lsid, s_start, s_end, s_emergency, ${sessionColumns.map((c) => `"s_${c}"`).join(', ')}) WITH ORDINALITY
        AS u(lsid, start_time, end_time, emergency, ${sessionColumns.map((c) => `"${c}"`).join(', ')}, ord)
     ORDER BY u.ord
    ON CONFLICT ("lsid") DO UPDATE SET
      "start_time" = LEAST(s."start_time", EXCLUDED."start_time"),
      "end_time" = GREATEST(s."end_time", EXCLUDED."end_time"),
      "duration" = CASE WHEN GREATEST(s."end_time", EXCLUDED."end_time") IS NULL THEN s."duration"
                   ELSE GREATEST(0, EXTRACT(EPOCH FROM GREATEST(s."end_time", EXCLUDED."end_time") - LEAST(s."start_time", EXCLUDED."start_time")))::int END,
      "emergency" = s."emergency" OR EXCLUDED."emergency",
      ${sessionColumns.map((c) => (FIRST_WINS.has(c) ? `"${c}" = COALESCE(s."${c}", EXCLUDED."${c}")` : `"${c}" = COALESCE(EXCLUDED."${c}", s."${c}")`)).join(',\n      ')}
    RETURNING s."id", s."lsid")
  SELECT array_agg("id"), array_agg("lsid") INTO session_ids, session_lsids FROM upserted;

  WITH inserted AS (
    INSERT INTO "reporting"."session_event"
      ("session_id", "type", "performed_by_type", "performed_by", "destination", "timestamp", "event_key",
       "source", "trace_id", "lease_id", "credential_name", "vault")
    SELECT i.id, e.type, e.performed_by_type, e.performed_by, e.destination, e.at, e.event_key,
           e.source, e.trace_id, e.lease_id, e.credential_name, e.vault
      FROM unnest(e_lsid, e_type, e_performed_by_type, e_performed_by, e_destination, e_timestamp, e_event_key,
                  e_source, e_trace_id, e_lease_id, e_credential_name, e_vault) WITH ORDINALITY
        AS e(lsid, type, performed_by_type, performed_by, destination, at, event_key, source, trace_id, lease_id, credential_name, vault, ord)
      JOIN unnest(session_lsids, session_ids) AS i(lsid, id) ON i.lsid = e.lsid
     ORDER BY e.ord
    ON CONFLICT ("event_key") DO NOTHING
    RETURNING "id", "session_id", "event_key")
  SELECT array_agg("event_key"), array_agg("id"), array_agg("session_id") INTO event_keys, event_ids, event_sessions FROM inserted;
  IF event_keys IS NULL THEN
    RETURN;
  END IF;

  INSERT INTO "reporting"."session_event_data" ("session_event_id", "name", "value")
  SELECT k.id, d.name, d.value
    FROM unnest(d_event_key, d_name, d_value) WITH ORDINALITY AS d(event_key, name, value, ord)
    JOIN unnest(event_keys, event_ids) AS k(event_key, id) ON k.event_key = d.event_key
   ORDER BY d.ord;

  -- the batch's sessions are locked already (by the upsert, in lsid order)
  UPDATE "reporting"."session" s
     SET "injections" = s."injections" + c.i, "failures" = s."failures" + c.f
    FROM (SELECT k.session_id, sum(e.i)::int AS i, sum(e.f)::int AS f
            FROM unnest(event_keys, event_sessions) AS k(event_key, session_id)
            JOIN unnest(e_event_key, e_injections, e_failures) AS e(event_key, i, f) ON e.event_key = k.event_key
           GROUP BY k.session_id
          HAVING sum(e.i) + sum(e.f) > 0) c
   WHERE s."id" = c.session_id;

  RETURN QUERY SELECT unnest(event_keys);
END
$fn$`;

export class ReportingRecordEvents1796000000005 implements MigrationInterface {
  name = 'ReportingRecordEvents1796000000005';

  async up(q: QueryRunner): Promise<void> {
    await q.query(CREATE);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION "reporting"."record_events"`);
  }
}
