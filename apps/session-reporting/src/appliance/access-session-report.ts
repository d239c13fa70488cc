import type { SessionAttributes, SessionEventRecord } from '../sessions/session-event.record';
import { applianceRecord } from '../ingest/appliance-event.mapping';
import { child, children, parseXml, type XmlElement } from '@openecm/xml';

/** One session of the appliance's AccessSession report, and where it stands for the poller's resume point. */
export interface ReportedSession {
  lsid: string;
  /** Unix seconds, the appliance's clock. */
  startTime: number;
  endTime: number | null;
  events: SessionEventRecord[];
}

const attr = (e: XmlElement | undefined, local: string) => e?.attributes.find((a) => a.local === local)?.value;
const text = (e: XmlElement | undefined) => {
  const t = e?.text.trim();
  return t ? t : undefined;
};

/** A time element: its `timestamp` attribute (unix seconds) when it has one, else its text (ISO 8601). */
function unixOf(e: XmlElement | undefined): number | undefined {
  const stamp = attr(e, 'timestamp');
  if (stamp && /^\d+$/.test(stamp)) return Number(stamp);
  const t = text(e);
  if (!t) return undefined;
  if (/^\d+$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

const idOf = (e: XmlElement | undefined) => {
  const id = attr(e, 'id');
  return id && /^\d{1,9}$/.test(id) ? Number(id) : undefined;
};

/**
 * Reads an AccessSession report (`session_list/session[@lsid]`, namespaces ignored) into session events. Each
 * event gets the key an appliance batch without an event id gives it, so an event posted and also polled is stored
 * once. `siteHost` is the appliance site's host name (the session's `host_name`). Elements this does not know are
 * left alone; a session without an lsid or a start time, and an event without a time or a type, are skipped.
 */
export function readAccessSessionReport(xml: string, siteHost: string): ReportedSession[] {
  const root = parseXml(xml, { maxElements: 2_000_000, maxAttributes: 4_000_000, maxDepth: 32 });
  if (root.local === 'error') throw new Error(`the appliance answered an error: ${(text(root) ?? '').slice(0, 200)}`);
  const sessions: ReportedSession[] = [];
  for (const s of children(root, 'session')) {
    const lsid = attr(s, 'lsid');
    const start = unixOf(child(s, 'start_time'));
    if (!lsid || start === undefined) continue;
    const end = unixOf(child(s, 'end_time')) ?? null;
    const jumpGroup = child(s, 'jump_group');
    const site = child(s, 'public_site');
    const customer = child(child(s, 'customer_list'), 'customer');
    const rep = child(child(s, 'rep_list'), 'representative');
    const session: SessionAttributes = {
      startTime: new Date(start * 1000),
      hostName: siteHost,
      ...(end !== null ? { endTime: new Date(end * 1000) } : {}),
      ...(text(child(s, 'session_type')) ? { type: text(child(s, 'session_type')) } : {}),
      ...(text(jumpGroup) ? { jumpGroupName: text(jumpGroup) } : {}),
      ...(idOf(jumpGroup) !== undefined ? { jumpGroupId: idOf(jumpGroup) } : {}),
      ...(text(site) ? { publicSiteName: text(site) } : {}),
      ...(idOf(site) !== undefined ? { publicSiteId: idOf(site) } : {}),
      ...(text(child(s, 'external_key')) ? { externalKey: text(child(s, 'external_key')) } : {}),
      ...(text(child(customer, 'hostname')) ? { endpoint: text(child(customer, 'hostname')) } : {}),
      ...(text(child(rep, 'username')) ? { user: text(child(rep, 'username')) } : {}),
    };
    const events: SessionEventRecord[] = [];
    for (const e of children(child(s, 'session_details'), 'event')) {
      const at = unixOf(e);
      const type = attr(e, 'event_type');
      if (at === undefined || !type) continue;
      const by = child(e, 'performed_by');
      const data: Record<string, string | null> = {};
      for (const v of children(child(e, 'data'), 'value')) {
        const name = attr(v, 'name');
        if (name && name.length <= 64) data[name] = attr(v, 'value') ?? null;
      }
      events.push(
        applianceRecord(
          {
            lsid,
            type: type.slice(0, 64),
            timestamp: new Date(at * 1000).toISOString(),
            performedByType: (attr(by, 'type') ?? 'system').slice(0, 32),
            performedBy: text(by) ?? null,
            destination: text(child(e, 'destination')) ?? null,
            data,
          },
          'poller',
          session,
        ),
      );
    }
    sessions.push({ lsid, startTime: start, endTime: end, events });
  }
  return sessions;
}

/**
 * Where the next poll starts: the start of the earliest session still running (its later events are still to
 * come), else the start of the latest session seen; the session at the boundary is read again, which its events'
 * keys make harmless. Never before `from`, and `from` itself when the report was empty.
 */
export function nextResumePoint(from: number, sessions: readonly ReportedSession[]): number {
  const open = sessions.filter((s) => s.endTime === null).map((s) => s.startTime);
  if (open.length > 0) return Math.max(from, Math.min(...open));
  if (sessions.length === 0) return from;
  return Math.max(from, ...sessions.map((s) => s.startTime));
}
