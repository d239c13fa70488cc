import { Injectable } from '@nestjs/common';
import { SESSION_EVENT_TYPES } from '@openecm/contracts';
import { GroupCommit, prepared } from '@openecm/persistence';
import { DataSource } from 'typeorm';
import type { SessionAttributes, SessionEventRecord } from './session-event.record';

export type RecordOutcome = 'recorded' | 'duplicate';

/** Events in one call at most. */
const EVENTS_PER_BATCH = 256;

const FAILURE_TYPES: ReadonlySet<string> = new Set([SESSION_EVENT_TYPES.credentialRequestFailed, SESSION_EVENT_TYPES.credentialReleaseFailed]);

/** What a batch of events does to one session row. */
interface SessionUpsert {
  lsid: string;
  startTime: Date;
  attrs: SessionAttributes;
}

/** The session attributes a batch sets, in the order of `reporting.record_events`' parameters (text, then int). */
const SESSION_TEXT_ATTRS = [
  'type',
  'hostName',
  'externalKey',
  'publicSiteName',
  'jumpGroupName',
  'user',
  'endpoint',
  'credential',
  'vault',
  'leaseId',
  'approvalId',
  'traceId',
] as const satisfies ReadonlyArray<keyof SessionAttributes>;
const SESSION_INT_ATTRS = ['publicSiteId', 'jumpGroupId', 'fileTransfers'] as const satisfies ReadonlyArray<keyof SessionAttributes>;
/** A session's start, end and emergency flag, its attributes; an event's twelve columns and two counters; its data's three. */
const PARAMETERS = 4 + SESSION_TEXT_ATTRS.length + SESSION_INT_ATTRS.length + 14 + 3;

/** What the first value keeps (who the session is for, the trace that began it); the others take the latest. */
const FIRST_WINS_ATTRS: ReadonlySet<keyof SessionAttributes> = new Set(['user', 'endpoint', 'traceId']);

/**
 * A batch in one call (migration 1796000000005): the sessions upserted, the events inserted ON CONFLICT DO NOTHING
 * on their key, the data of those stored now and the session counters they raise, one round trip and one implicit
 * transaction. It answers the keys of the events stored now. Parameters: the sessions' columns, the events'
 * columns with what each adds to the counters, and the events' data by event key.
 */
const RECORD_EVENTS = prepared(
  'reporting.record_events',
  `SELECT k AS "event_key" FROM "reporting"."record_events"(${Array.from({ length: PARAMETERS }, (_, i) => `$${i + 1}`).join(', ')}) AS k`,
);

/**
 * Writes session events into the BGSessions tables, a batch in one call of `reporting.record_events` (one
 * transaction of four set-based statements: sessions upserted, events inserted ON CONFLICT DO NOTHING on their key,
 * their data, the session counters), whatever the batch's size: recording the same fact twice stores it once.
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
    const rows = await RECORD_EVENTS.run<{ event_key: string }>(this.dataSource, recordEventsParameters(unique));
    const stored = new Set(rows.map((row) => row.event_key));
    const firsts = new Set(unique);
    return records.map((r) => (firsts.has(r) && stored.has(r.eventKey) ? 'recorded' : 'duplicate'));
  }
}

/**
 * The parameters of `reporting.record_events` for a batch of distinct events. The sessions go in lsid order, so
 * that concurrent batches lock the rows they share in the same order (no deadlock).
 */
function recordEventsParameters(records: readonly SessionEventRecord[]): unknown[] {
  const sessions = merge(records).sort((a, b) => (a.lsid < b.lsid ? -1 : a.lsid > b.lsid ? 1 : 0));
  const column = <K extends keyof SessionAttributes>(key: K) => sessions.map((s) => s.attrs[key] ?? null);
  const data = records.flatMap((r) => r.data.map((d) => [r.eventKey, d.name, d.value] as const));
  return [
    sessions.map((s) => s.lsid),
    sessions.map((s) => s.startTime.toISOString()),
    sessions.map((s) => s.attrs.endTime?.toISOString() ?? null),
    sessions.map((s) => s.attrs.emergency ?? null),
    ...SESSION_TEXT_ATTRS.map(column),
    ...SESSION_INT_ATTRS.map(column),
    records.map((r) => r.sessionLsid),
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
    records.map((r) => (r.type === SESSION_EVENT_TYPES.credentialsUsed ? 1 : 0)),
    records.map((r) => (FAILURE_TYPES.has(r.type) ? 1 : 0)),
    data.map(([key]) => key),
    data.map(([, name]) => name),
    data.map(([, , value]) => value),
  ];
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
