import { isWithinWindow } from './schedule';
import { endpointKey, userKey } from './identity';

describe('access policy window', () => {
  const weekdaysNineToFive = { daysOfWeek: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1020, timeZone: 'UTC' };

  it('admits a request inside the window and refuses one outside it', () => {
    expect(isWithinWindow(weekdaysNineToFive, new Date('2026-11-23T10:00:00Z'))).toBe(true); // Monday
    expect(isWithinWindow(weekdaysNineToFive, new Date('2026-11-23T17:00:00Z'))).toBe(false);
    expect(isWithinWindow(weekdaysNineToFive, new Date('2026-11-22T10:00:00Z'))).toBe(false); // Sunday
  });

  it('evaluates the window in the policy time zone', () => {
    const berlin = { ...weekdaysNineToFive, timeZone: 'Europe/Berlin' };
    expect(isWithinWindow(berlin, new Date('2026-11-23T08:30:00Z'))).toBe(true); // 09:30 in Berlin
    expect(isWithinWindow(berlin, new Date('2026-11-23T16:30:00Z'))).toBe(false); // 17:30 in Berlin
  });

  it('handles windows across midnight and the all-day window', () => {
    const night = { daysOfWeek: [0, 1, 2, 3, 4, 5, 6], startMinute: 22 * 60, endMinute: 6 * 60, timeZone: 'UTC' };
    expect(isWithinWindow(night, new Date('2026-11-23T23:00:00Z'))).toBe(true);
    expect(isWithinWindow(night, new Date('2026-11-23T05:59:00Z'))).toBe(true);
    expect(isWithinWindow(night, new Date('2026-11-23T12:00:00Z'))).toBe(false);
    const allDay = { daysOfWeek: [0, 1, 2, 3, 4, 5, 6], startMinute: 0, endMinute: 1440, timeZone: 'UTC' };
    expect(isWithinWindow(allDay, new Date('2026-11-23T23:59:00Z'))).toBe(true);
  });

  it('compares users and endpoints case-insensitively', () => {
    expect(userKey(' CORP\\Alice ')).toBe('corp\\alice');
    expect(endpointKey('SRV-APP01.corp.example.')).toBe('srv-app01.corp.example');
  });
});
