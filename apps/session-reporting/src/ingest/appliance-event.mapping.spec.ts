import { applianceEventKey, judgeBatch } from './appliance-event.mapping';

const event = { lsid: 'l1', type: 'Command', timestamp: '2026-05-01T10:00:00Z', performedByType: 'representative', performedBy: 'alice', data: { a: '1', b: '2' } };

describe("the appliance's session events", () => {
  it('keys an event by its content, whatever the order of its data, the form of its time or the appliance id it was posted with', () => {
    const key = applianceEventKey(event);
    expect(applianceEventKey({ ...event, data: { b: '2', a: '1' }, timestamp: '2026-05-01T12:00:00+02:00' })).toBe(key);
    // the reporting API reads the same event back to the second and without the id
    expect(applianceEventKey({ ...event, timestamp: '2026-05-01T10:00:00.734Z', eventId: 'e-7' } as typeof event)).toBe(key);
    expect(applianceEventKey({ ...event, timestamp: '2026-05-01T10:00:01Z' })).not.toBe(key);
    expect(applianceEventKey({ ...event, data: { a: '1', b: '3' } })).not.toBe(key);
    expect(applianceEventKey({ ...event, lsid: 'l2' })).not.toBe(key);
  });

  it('judges each event of a batch on its own and names a bad field by its index in the whole batch', () => {
    const { records, rejected } = judgeBatch([event, { ...event, timestamp: 'soon' }, { ...event, password: 'x', lsid: '' }, 'not an event'], 1000);
    expect(records).toHaveLength(1);
    expect(rejected).toEqual([
      { index: 1001, errors: [{ field: 'events[1001].timestamp', message: expect.any(String) }] },
      { index: 1002, errors: expect.arrayContaining([{ field: 'events[1002].password', message: 'unknown field' }, { field: 'events[1002].lsid', message: expect.any(String) }]) },
      { index: 1003, errors: [{ field: 'events[1003]', message: expect.any(String) }] },
    ]);
  });

  it('ends a session at its Session End event and takes the representative as its user', () => {
    const { records } = judgeBatch([{ ...event, type: 'Session End', jumpGroupName: 'Servers' }], 0);
    expect(records[0]?.session).toEqual({ endTime: new Date('2026-05-01T10:00:00Z'), user: 'alice', jumpGroupName: 'Servers' });
  });
});
