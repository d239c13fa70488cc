import type { ApplianceSessionEvent, IngestResult } from '@openecm/contracts';

export interface FixtureSession {
  lsid: string;
  user: string;
  start: Date;
}

/**
 * Appliance sessions as the appliance posts them (`POST /api/v1/sessions/events`): a start and an end event per
 * session, the representatives taking turns, spread over the `days` before `now`; the same arguments give the
 * same events (and ids), so posting them twice stores them once.
 */
export function applianceSessions(options: { prefix: string; count: number; users: readonly string[]; now?: Date; days?: number }): {
  sessions: FixtureSession[];
  events: ApplianceSessionEvent[];
} {
  const now = (options.now ?? new Date()).getTime();
  const span = (options.days ?? 5) * 86_400_000;
  const sessions: FixtureSession[] = [];
  const events: ApplianceSessionEvent[] = [];
  for (let i = 0; i < options.count; i++) {
    const user = options.users[i % options.users.length] as string;
    const start = new Date(now - span + Math.floor(((i + 0.5) * span) / options.count));
    const lsid = `${options.prefix}-${String(i + 1).padStart(3, '0')}`;
    sessions.push({ lsid, user, start });
    const common = {
      lsid,
      performedByType: 'representative',
      performedBy: user,
      sessionType: 'support',
      hostName: 'pra.example.test',
      publicSiteId: 1,
      publicSiteName: 'Default',
      jumpGroupId: 10 + (i % 3),
      jumpGroupName: ['Servers', 'Databases', 'Network'][i % 3] as string,
    };
    events.push(
      { ...common, eventId: `${lsid}-start`, type: 'Session Start', timestamp: start.toISOString(), destination: `srv-${(i % 4) + 1}`, data: { protocol: i % 2 ? 'ssh' : 'rdp' } },
      {
        ...common,
        eventId: `${lsid}-end`,
        type: 'Session End',
        timestamp: new Date(start.getTime() + (20 + i) * 60_000).toISOString(),
        destination: `srv-${(i % 4) + 1}`,
        data: {},
      },
    );
  }
  return { sessions, events };
}

/** Posts events in batches through the appliance's API (an account with `reporting`). */
export async function postSessionEvents(gatewayUrl: string, accessToken: string, events: readonly ApplianceSessionEvent[]): Promise<IngestResult> {
  const total: IngestResult = { stored: 0, duplicates: 0, rejected: [] };
  for (let at = 0; at < events.length; at += 1000) {
    const res = await fetch(`${gatewayUrl}/api/v1/sessions/events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ events: events.slice(at, at + 1000) }),
    });
    if (res.status !== 200) throw new Error(`POST /api/v1/sessions/events answered ${res.status}: ${await res.text()}`);
    const result = (await res.json()) as IngestResult;
    total.stored += result.stored;
    total.duplicates += result.duplicates;
    total.rejected.push(...result.rejected.map((r) => ({ ...r, index: r.index + at })));
  }
  return total;
}
