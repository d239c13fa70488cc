import { ApplianceSite } from '../../../../tools/appliance-sim/src/site';
import { applianceEventKey } from '../ingest/appliance-event.mapping';
import { nextResumePoint, readAccessSessionReport, type ReportedSession } from './access-session-report';

describe("the appliance's AccessSession report", () => {
  const site = new ApplianceSite({ clientId: 'c', clientSecret: 's' });
  afterAll(() => site.close());
  const lsid = 'a'.repeat(32);
  site.startSession({ lsid, startTime: 1_780_000_000, jumpGroup: { id: 3, name: 'Servers' }, publicSite: { id: 1, name: 'Default' }, jumpoint: 'dc1', hostname: 'srv-01', username: 'alice' });
  site.addEvent(lsid, { timestamp: 1_780_000_010, type: 'Credentials Used', performedByType: 'representative', performedBy: 'alice', destination: 'srv-01', data: { credential: 'srv-01\\Administrator', 'a&b': '<x>' } });
  site.endSession(lsid, 1_780_000_100);

  it('reads each session with its attributes and events, each keyed as the same event posted by the appliance', () => {
    const [session] = readAccessSessionReport(site.report(0, 0), 'pra.example.com');
    expect(session).toMatchObject({ lsid, startTime: 1_780_000_000, endTime: 1_780_000_100 });
    const used = session?.events[1];
    expect(used).toMatchObject({
      type: 'Credentials Used',
      performedByType: 'representative',
      performedBy: 'alice',
      destination: 'srv-01',
      source: 'poller',
      data: [{ name: 'credential', value: 'srv-01\\Administrator' }, { name: 'a&b', value: '<x>' }],
      session: { hostName: 'pra.example.com', jumpGroupName: 'Servers', jumpGroupId: 3, publicSiteName: 'Default', endpoint: 'srv-01', user: 'alice', type: 'support' },
    });
    expect(used?.eventKey).toBe(
      applianceEventKey({ lsid, type: 'Credentials Used', timestamp: new Date(1_780_000_010_000).toISOString(), performedByType: 'representative', performedBy: 'alice', destination: 'srv-01', data: { 'a&b': '<x>', credential: 'srv-01\\Administrator' } }),
    );
    expect(session?.events.map((e) => e.type)).toEqual(['Session Start', 'Credentials Used', 'Session End']);
  });

  it('refuses an error answer and a hostile document without echoing it', () => {
    expect(() => readAccessSessionReport('<error>Unauthorized</error>', 'h')).toThrow(/answered an error/);
    expect(() => readAccessSessionReport('<!DOCTYPE x [<!ENTITY a "b">]><session_list/>', 'h')).toThrow();
  });

  it('resumes at the oldest open session, else the latest start, never going back', () => {
    const s = (startTime: number, endTime: number | null): ReportedSession => ({ lsid: String(startTime), startTime, endTime, events: [] });
    expect(nextResumePoint(100, [])).toBe(100);
    expect(nextResumePoint(100, [s(110, 120), s(130, 140)])).toBe(130);
    expect(nextResumePoint(100, [s(110, 120), s(115, null), s(130, null)])).toBe(115);
    expect(nextResumePoint(200, [s(110, null)])).toBe(200);
  });
});
