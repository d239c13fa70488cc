import { ApplianceSessionEvent, fieldIssues, type EventSource, type FieldIssue } from '@openecm/contracts';
import { createHash } from 'node:crypto';
import type { SessionAttributes, SessionEventRecord } from '../sessions/session-event.record';

/** The appliance's own event types that bound a session. */
const SESSION_END = 'Session End';

/**
 * The idempotency key of an appliance event: its content (session, type, time to the second, who, where and data,
 * canonically ordered), so the same event posted twice, or posted and then read again from the reporting API, is
 * stored once. Not the appliance's event id: the reporting API does not carry it, so an event posted with one and
 * polled without would count twice; and not the milliseconds: the reporting API gives times to the second.
 */
export function applianceEventKey(e: Pick<ApplianceSessionEvent, 'lsid' | 'type' | 'timestamp' | 'performedByType' | 'performedBy' | 'destination' | 'data'>): string {
  const data = Object.entries(e.data).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const second = Math.floor(new Date(e.timestamp).getTime() / 1000);
  const canonical = JSON.stringify([e.lsid, e.type, second, e.performedByType, e.performedBy ?? null, e.destination ?? null, data]);
  return `appliance:${e.lsid}:${createHash('sha256').update(canonical).digest('base64url')}`;
}

/** What the session row takes from an appliance event, plus what the caller knows of the session as a whole. */
export function applianceRecord(e: ApplianceSessionEvent, source: EventSource, session: SessionAttributes = {}): SessionEventRecord {
  const timestamp = new Date(e.timestamp);
  const attrs: SessionAttributes = {
    ...(e.sessionType ? { type: e.sessionType } : {}),
    ...(e.hostName ? { hostName: e.hostName } : {}),
    ...(e.externalKey ? { externalKey: e.externalKey } : {}),
    ...(e.publicSiteId !== undefined ? { publicSiteId: e.publicSiteId } : {}),
    ...(e.publicSiteName ? { publicSiteName: e.publicSiteName } : {}),
    ...(e.jumpGroupId !== undefined ? { jumpGroupId: e.jumpGroupId } : {}),
    ...(e.jumpGroupName ? { jumpGroupName: e.jumpGroupName } : {}),
    ...(e.type === SESSION_END ? { endTime: timestamp } : {}),
    ...(e.performedByType === 'representative' && e.performedBy ? { user: e.performedBy } : {}),
    ...session,
  };
  return {
    sessionLsid: e.lsid,
    type: e.type,
    performedByType: e.performedByType,
    performedBy: e.performedBy ?? null,
    destination: e.destination ?? null,
    timestamp,
    eventKey: applianceEventKey(e),
    source,
    traceId: null,
    leaseId: null,
    credentialName: null,
    vault: null,
    data: Object.entries(e.data).map(([name, value]) => ({ name, value })),
    session: attrs,
  };
}

export interface Judged {
  records: SessionEventRecord[];
  rejected: Array<{ index: number; errors: FieldIssue[] }>;
}

/** Each event judged on its own; a rejected one is named by its index in the batch (`offset` + its place here). */
export function judgeBatch(events: readonly unknown[], offset: number): Judged {
  const records: SessionEventRecord[] = [];
  const rejected: Judged['rejected'] = [];
  events.forEach((event, i) => {
    const index = offset + i;
    const parsed = ApplianceSessionEvent.safeParse(event);
    if (!parsed.success) {
      const errors = fieldIssues(parsed.error).map((f) => ({
        field: f.field === '(body)' ? `events[${index}]` : f.field.split(', ').map((part) => `events[${index}].${part}`).join(', '),
        message: f.message,
      }));
      rejected.push({ index, errors });
      return;
    }
    records.push(applianceRecord(parsed.data, 'appliance'));
  });
  return { records, rejected };
}
