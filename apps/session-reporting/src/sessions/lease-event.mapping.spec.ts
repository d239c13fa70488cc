import { OpenEcmError, type EventOf } from '@openecm/contracts';
import { SESSION_EVENT_TYPES, toSessionEvent as mapOrNull } from './lease-event.mapping';

const toSessionEvent = (...args: Parameters<typeof mapOrNull>) => {
  const record = mapOrNull(...args);
  if (!record) throw new Error('no session event');
  return record;
};

const lease: Omit<EventOf<'policy.lease.opened.v1'>, 'releaseAt'> = {
  leaseId: '6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
  user: 'CORP\\alice',
  endpoint: 'srv-01.corp.local',
  sessionId: 'lsid-1',
  vault: 'ps',
  credentialName: 'srv-01\\Administrator',
  username: 'Administrator',
  at: '2026-01-02T03:04:05.678Z',
};
const base: EventOf<'policy.lease.opened.v1'> = { ...lease, releaseAt: '2026-01-02T05:04:05.678Z' };

const dataOf = (payload: Parameters<typeof toSessionEvent>[1], subject: Parameters<typeof toSessionEvent>[0]) =>
  Object.fromEntries(toSessionEvent(subject, payload).data.map((d) => [d.name, d.value]));

describe('lease event to session event', () => {
  it('records an opened lease as the representative using the credential, with the lease in its data', () => {
    const record = toSessionEvent('policy.lease.opened.v1', base);
    expect(record).toMatchObject({
      sessionLsid: 'lsid-1',
      type: SESSION_EVENT_TYPES.credentialsUsed,
      performedByType: 'representative',
      performedBy: 'CORP\\alice',
      destination: 'srv-01.corp.local',
      timestamp: new Date(base.at),
      eventKey: `policy.lease.opened.v1:${base.leaseId}:${base.at}`,
      source: 'broker',
      leaseId: base.leaseId,
      credentialName: 'srv-01\\Administrator',
      vault: 'ps',
      session: { user: 'CORP\\alice', endpoint: 'srv-01.corp.local', credential: 'srv-01\\Administrator', vault: 'ps', leaseId: base.leaseId },
    });
    expect(dataOf(base, 'policy.lease.opened.v1')).toEqual({
      leaseId: base.leaseId,
      vault: 'ps',
      credentialName: 'srv-01\\Administrator',
      username: 'Administrator',
      releaseAt: base.releaseAt,
    });
  });

  it('credits a release to the representative when the appliance asked, to the system on expiry', () => {
    const byAppliance = toSessionEvent('policy.lease.released.v1', { ...lease, releasedBy: 'appliance' });
    const byExpiry = toSessionEvent('policy.lease.released.v1', { ...lease, releasedBy: 'expiry' });
    expect([byAppliance.type, byAppliance.performedByType]).toEqual([SESSION_EVENT_TYPES.credentialsReleased, 'representative']);
    expect([byExpiry.type, byExpiry.performedByType]).toEqual([SESSION_EVENT_TYPES.credentialsReleased, 'system']);
    expect(dataOf({ ...lease, releasedBy: 'expiry' }, 'policy.lease.released.v1')['releasedBy']).toBe('expiry');
  });

  it('tells a rotation from a check-in without one, and keeps a failure code and message', () => {
    expect(toSessionEvent('policy.lease.rotated.v1', { ...lease, rotated: true }).type).toBe(SESSION_EVENT_TYPES.credentialRotated);
    expect(toSessionEvent('policy.lease.rotated.v1', { ...lease, rotated: false }).type).toBe(SESSION_EVENT_TYPES.credentialCheckedIn);
    const failed = { ...lease, code: 'VAULT_UNAVAILABLE', message: 'vault did not answer' };
    expect(toSessionEvent('policy.lease.failed.v1', failed)).toMatchObject({
      type: SESSION_EVENT_TYPES.credentialReleaseFailed,
      performedByType: 'system',
    });
    expect(dataOf(failed, 'policy.lease.failed.v1')).toMatchObject({ code: 'VAULT_UNAVAILABLE', message: 'vault did not answer' });
    expect(toSessionEvent('policy.lease.failed.v1', { ...failed, phase: 'release' }).type).toBe(SESSION_EVENT_TYPES.credentialReleaseFailed);
    expect(toSessionEvent('policy.lease.failed.v1', { ...failed, phase: 'checkout' }).type).toBe('Credential Checkout Failed');
  });

  it('keys the fact, not its delivery: the same event gives the same key, another kind or time another', () => {
    const opened = toSessionEvent('policy.lease.opened.v1', base).eventKey;
    expect(toSessionEvent('policy.lease.opened.v1', { ...base }).eventKey).toBe(opened);
    expect(toSessionEvent('policy.lease.released.v1', { ...lease, releasedBy: 'appliance' }).eventKey).not.toBe(opened);
    expect(toSessionEvent('policy.lease.opened.v1', { ...base, at: '2026-01-02T03:04:06.000Z' }).eventKey).not.toBe(opened);
  });

  it('rejects an event with an unknown field (such as a secret) or an unreadable time as VALIDATION_FAILED', () => {
    const withSecret = () => toSessionEvent('policy.lease.opened.v1', { ...base, password: 'hunter2' });
    expect(withSecret).toThrow(OpenEcmError);
    expect(withSecret).toThrow(/password \(unknown field\)/);
    expect(withSecret).not.toThrow(/hunter2/);
    const badTime = () => toSessionEvent('policy.lease.opened.v1', { ...base, at: 'yesterday' });
    expect(badTime).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED', fields: [{ field: 'at', message: 'not a timestamp' }] }));
  });

  it('keeps the trace id of the flow, on the event and as the session\'s first', () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const record = toSessionEvent('policy.lease.opened.v1', { ...base, traceId });
    expect(record.traceId).toBe(traceId);
    expect(record.session.traceId).toBe(traceId);
  });

  it('records a list as the names offered only, keyed by its own id; a list for no session is not a session event', () => {
    const listed = {
      eventId: '7d3c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
      user: 'CORP\\alice',
      endpoint: 'srv-01',
      sessionId: 'lsid-1',
      credentials: [{ name: 'srv-01\\Administrator', vault: 'ps' }, { name: 'svc', vault: 'ss' }],
      at: base.at,
    };
    const record = toSessionEvent('policy.credentials.listed.v1', listed);
    expect(record).toMatchObject({ type: 'Credentials Listed', eventKey: `policy.credentials.listed.v1:${listed.eventId}`, sessionLsid: 'lsid-1' });
    expect(dataOf(listed, 'policy.credentials.listed.v1')).toEqual({ count: '2', 'credential.1': 'ps: srv-01\\Administrator', 'credential.2': 'ss: svc' });
    expect(mapOrNull('policy.credentials.listed.v1', { ...listed, sessionId: undefined })).toBeNull();
  });

  it('records a failed injection with its code as a failed credential request', () => {
    const failed = {
      eventId: '8d3c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b',
      user: 'bob',
      endpoint: 'srv-02',
      sessionId: 'lsid-2',
      credentialName: 'root',
      vault: 'ps',
      leaseId: null,
      code: 'ACCESS_DENIED',
      at: base.at,
    };
    expect(toSessionEvent('policy.injection.failed.v1', failed)).toMatchObject({ type: 'Credential Request Failed', credentialName: 'root', leaseId: null });
    expect(dataOf(failed, 'policy.injection.failed.v1')).toEqual({ code: 'ACCESS_DENIED', credentialName: 'root', vault: 'ps' });
  });
});
