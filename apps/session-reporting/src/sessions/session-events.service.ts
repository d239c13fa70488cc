import { Injectable } from '@nestjs/common';
import { SESSION_EVENT_TYPES } from '@openecm/contracts';
import { GroupCommit, prepared } from '@openecm/persistence';
import { DataSource, type EntityManager } from 'typeorm';
import type { SessionAttributes, SessionEventRecord } from './session-event.record';

export type RecordOutcome = 'recorded' | 'duplicate';

/** Events in one transaction at most: each takes a few dozen parameters across the four statements. */
const EVENTS_PER_BATCH = 256;

const FAILURE_TYPES: ReadonlySet<string> = new Set([SESSION_EVENT_TYPES.credentialRequestFailed, SESSION_EVENT_TYPES.credentialReleaseFailed]);

/** What a batch of events does to one session row. */
interface SessionUpsert {
  lsid: string;
  startTime: Date;
  attrs: SessionAttributes;
}

const SESSION_TEXT_COLUMNS = [
  ['type', 'type'],
  ['hostName', 'host_name'],
  ['externalKey', 'external_key'],
  ['publicSiteName', 'public_site_name'],
  ['jumpGroupName', 'jump_group_name'],
  ['user', 'user_name'],
  ['endpoint', 'endpoint'],
  ['credential', 'credential_name'],
  ['vault', 'vault'],
  ['leaseId', 'lease_id'],
  ['approvalId', 'approval_id'],
  ['traceId', 'trace_id'],
] as const satisfies ReadonlyArray<readonly [keyof SessionAttributes, string]>;
const SESSION_INT_COLUMNS = [
  ['publicSiteId', 'public_site_id'],
  ['jumpGroupId', 'jump_group_id'],
  ['fileTransfers', 'file_transfers'],
] as const satisfies ReadonlyArray<readonly [keyof SessionAttributes, string]>;

/** What the first value keeps (who the session is for, the trace that began it); the others take the latest. */
const FIRST_WINS_ATTRS: ReadonlySet<keyof SessionAttributes> = new Set(['user', 'endpoint', 'traceId']);
const FIRST_WINS: ReadonlySet<string> = new Set(SESSION_TEXT_COLUMNS.filter(([key]) => FIRST_WINS_ATTRS.has(key)).map(([, column]) => column));

/** The statements of a batch (every lease event and every ingested event goes through one), prepared per connection. */
const INSERT_EVENTS = prepared(
  'reporting.insert_events',
  `INSERT INTO "reporting"."session_event"
     ("session_id", "type", "performed_by_type", "performed_by", "destination", "timestamp", "event_key",
      "source", "trace_id", "lease_id", "credential_name", "vault")
   SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::varchar[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                        $8::varchar[], $9::text[], $10::text[], $11::text[], $12::text[])
   ON CONFLICT ("event_key") DO NOTHING
   RETURNING "id", "event_key"`,
);
const INSERT_EVENT_DATA = prepared(
  'reporting.insert_event_data',
  `INSERT INTO "reporting"."session_event_data" ("session_event_id", "name", "value")
   SELECT * FROM unnest($1::bigint[], $2::varchar[], $3::text[])`,
);
const COUNT_EVENTS = prepared(
  'reporting.count_events',
  `UPDATE "reporting"."session" s
      SET "injections" = s."injections" + d.i, "failures" = s."failures" + d.f
     FROM unnest($1::bigint[], $2::int[], $3::int[]) AS d(id, i, f)
    WHERE s."id" = d.id`,
);

/**
 * One statement for every session of a batch. A session starts at its earliest event and ends at its latest end,
 * whichever arrived first.
 */
const UPSERT_SESSIONS = prepared(
  'reporting.upsert_sessions',
  (() => {
    const set = [
      `"start_time" = LEAST(s."start_time", EXCLUDED."start_time")`,
      `"end_time" = GREATEST(s."end_time", EXCLUDED."end_time")`,
      `"duration" = CASE WHEN GREATEST(s."end_time", EXCLUDED."end_time") IS NULL THEN s."duration"
                    ELSE GREATEST(0, EXTRACT(EPOCH FROM GREATEST(s."end_time", EXCLUDED."end_time") - LEAST(s."start_time", EXCLUDED."start_time")))::int END`,
      `"emergency" = s."emergency" OR EXCLUDED."emergency"`,
      ...[...SESSION_TEXT_COLUMNS, ...SESSION_INT_COLUMNS].map(([, c]) =>
        FIRST_WINS.has(c) ? `"${c}" = COALESCE(s."${c}", EXCLUDED."${c}")` : `"${c}" = COALESCE(EXCLUDED."${c}", s."${c}")`,
      ),
    ];
    const textCols = SESSION_TEXT_COLUMNS.map(([, c]) => `"${c}"`);
    const intCols = SESSION_INT_COLUMNS.map(([, c]) => `"${c}"`);
    const n = 4;
    return `INSERT INTO "reporting"."session" AS s ("lsid", "start_time", "end_time", "duration", "emergency", ${textCols.join(', ')}, ${intCols.join(', ')})
         SELECT u.lsid, u.start_time, u.end_time, GREATEST(0, EXTRACT(EPOCH FROM u.end_time - u.start_time))::int, COALESCE(u.emergency, false),
                ${textCols.map((_, i) => `u.t${i}`).join(', ')},
                ${intCols.map((c, i) => (c === '"file_transfers"' ? `COALESCE(u.i${i}, 0)` : `u.i${i}`)).join(', ')}
           FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::boolean[],
                       ${textCols.map((_, i) => `$${n + 1 + i}::text[]`).join(', ')},
                       ${intCols.map((_, i) => `$${n + 1 + textCols.length + i}::int[]`).join(', ')})
             AS u(lsid, start_time, end_time, emergency, ${textCols.map((_, i) => `t${i}`).join(', ')}, ${intCols.map((_, i) => `i${i}`).join(', ')})
         ON CONFLICT ("lsid") DO UPDATE SET ${set.join(', ')}
         RETURNING "id", "lsid"`;
  })(),
);

/**
 * Writes session events into the BGSessions tables, a batch in one transaction of four set-based statements
 * (sessions upserted, events inserted ON CONFLICT DO NOTHING on their key, their data, the session counters),
 * whatever the batch's size: recording the same fact twice stores it once.
 */
@Injectable()
export class SessionEventsService {
  /** Events that come while a batch is being written go together in the next one (one transaction). */
  private readonly grouped = new GroupCommit<SessionEventRecord, RecordOutcome>((records) => this.recordEach(records), EVENTS_PER_BATCH);

  constructor(private readonly dataSource: DataSource) {}

  /** Records one event, in a group with the others that come meanwhile; resolves once its group is committed. */
  record(record: SessionEventRecord): Promise<RecordOutcome> {
    return this.grouped.submit(record);
  }

  /** Resolves once every event handed to `record` so far is written or failed. */
  idle(): Promise<void> {
    return this.grouped.idle();
  }

  async recordMany(records: readonly SessionEventRecord[]): Promise<{ stored: number; duplicates: number }> {
    const stored = (await this.recordEach(records)).filter((outcome) => outcome === 'recorded').length;
    return { stored, duplicates: records.length - stored };
  }

  /** Writes a batch in one transaction; answers for each record, in order, whether it was stored or known. */
  private async recordEach(records: readonly SessionEventRecord[]): Promise<RecordOutcome[]> {
    if (records.length === 0) return [];
    // the same key twice in one batch would be one fact twice: the first is kept
    const unique = [...new Map(records.map((r) => [r.eventKey, r])).values()];
    const stored = await this.dataSource.transaction((manager) => this.write(manager, unique));
    const firsts = new Set(unique);
    return records.map((r) => (firsts.has(r) && stored.has(r.eventKey) ? 'recorded' : 'duplicate'));
  }

  /** Answers the keys of the events stored now (not those stored before). */
  private async write(manager: EntityManager, records: SessionEventRecord[]): Promise<Set<string>> {
    const sessionIds = await this.upsertSessions(manager, merge(records));
    const events = await INSERT_EVENTS.run<{ id: string; event_key: string }>(manager, [
      records.map((r) => sessionIds.get(r.sessionLsid)),
      records.map((r) => r.type),
      records.map((r) => r.performedByType),
      records.map((r) => r.performedBy),
      records.map((r) => r.destination),
      records.map((r) => r.timestamp.toISOString()),
      records.map((r) => r.eventKey),
      records.map((r) => r.source),
      records.map((r) => r.traceId),
      records.map((r) => r.leaseId),
      records.map((r) => r.credentialName),
      records.map((r) => r.vault),
    ]);
    if (events.length === 0) return new Set();
    const byKey = new Map(records.map((r) => [r.eventKey, r]));
    const dataEventIds: string[] = [];
    const names: string[] = [];
    const values: Array<string | null> = [];
    const counters = new Map<string, { injections: number; failures: number }>();
    for (const { id, event_key } of events) {
      const record = byKey.get(event_key);
      if (!record) continue;
      for (const d of record.data) {
        dataEventIds.push(id);
        names.push(d.name);
        values.push(d.value);
      }
      const injections = record.type === SESSION_EVENT_TYPES.credentialsUsed ? 1 : 0;
      const failures = FAILURE_TYPES.has(record.type) ? 1 : 0;
      if (injections + failures === 0) continue;
      const sessionId = sessionIds.get(record.sessionLsid) as string;
      const c = counters.get(sessionId) ?? { injections: 0, failures: 0 };
      counters.set(sessionId, { injections: c.injections + injections, failures: c.failures + failures });
    }
    if (dataEventIds.length > 0) {
      await INSERT_EVENT_DATA.run(manager, [dataEventIds, names, values]);
    }
    if (counters.size > 0) {
      // counted only for events inserted now, so a duplicate never counts twice
      const ids = [...counters.keys()].sort();
      await COUNT_EVENTS.run(manager, [ids, ids.map((id) => counters.get(id)?.injections ?? 0), ids.map((id) => counters.get(id)?.failures ?? 0)]);
    }
    return new Set(events.map((e) => e.event_key));
  }

  /** The batch's sessions in lsid order, so that concurrent batches lock the rows they share in the same order (no deadlock). */
  private async upsertSessions(manager: EntityManager, sessions: SessionUpsert[]): Promise<Map<string, string>> {
    sessions.sort((a, b) => (a.lsid < b.lsid ? -1 : a.lsid > b.lsid ? 1 : 0));
    const column = <K extends keyof SessionAttributes>(key: K) => sessions.map((s) => s.attrs[key] ?? null);
    const rows = await UPSERT_SESSIONS.run<{ id: string; lsid: string }>(manager, [
      sessions.map((s) => s.lsid),
      sessions.map((s) => s.startTime.toISOString()),
      sessions.map((s) => s.attrs.endTime?.toISOString() ?? null),
      sessions.map((s) => s.attrs.emergency ?? null),
      ...SESSION_TEXT_COLUMNS.map(([k]) => column(k)),
      ...SESSION_INT_COLUMNS.map(([k]) => column(k)),
    ]);
    return new Map(rows.map((r) => [r.lsid, String(r.id)]));
  }
}

/** The batch's events folded per session: the earliest time, the first user and trace, the latest other values. */
function merge(records: readonly SessionEventRecord[]): SessionUpsert[] {
  const byLsid = new Map<string, SessionUpsert>();
  const ordered = [...records].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
  for (const r of ordered) {
    const s = byLsid.get(r.sessionLsid) ?? { lsid: r.sessionLsid, startTime: r.timestamp, attrs: {} };
    if (r.session.startTime && r.session.startTime < s.startTime) s.startTime = r.session.startTime;
    for (const [key, value] of Object.entries(r.session) as Array<[keyof SessionAttributes, unknown]>) {
      if (value === undefined || key === 'startTime') continue;
      if (key === 'endTime') {
        const end = value as Date;
        if (!s.attrs.endTime || end > s.attrs.endTime) s.attrs.endTime = end;
      } else if (key === 'emergency') {
        s.attrs.emergency = s.attrs.emergency === true || value === true;
      } else if (!FIRST_WINS_ATTRS.has(key) || s.attrs[key] === undefined) {
        (s.attrs as Record<string, unknown>)[key] = value;
      }
    }
    byLsid.set(r.sessionLsid, s);
  }
  return [...byLsid.values()];
}
