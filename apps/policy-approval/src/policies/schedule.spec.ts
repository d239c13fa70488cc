import { isOpen, nextOpening, PolicySchedule, ScheduleWindow, Weekday } from './schedule';

const at = (iso: string) => new Date(iso);
const schedule = (timeZone: string, windows: ScheduleWindow[], bounds: Partial<PolicySchedule> = {}): PolicySchedule => ({
  timeZone,
  windows,
  ...bounds,
});
const weekdays: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
const officeHours = (timeZone: string) => schedule(timeZone, [{ days: weekdays, from: '09:00', to: '17:00' }]);

/** Whether the schedule is open just before `iso` (by `ms`) and at `iso`. */
const around = (s: PolicySchedule, iso: string, ms = 1) =>
  [-ms, 0].map((d) => isOpen(s, new Date(Date.parse(iso) + d)));

describe('policy schedule', () => {
  describe('isOpen', () => {
    it('opens a window at `from` and closes it at `to`, in UTC', () => {
      const s = schedule('UTC', [{ days: ['mon'], from: '08:00', to: '18:00' }]);
      expect(around(s, '2026-11-30T08:00:00Z')).toEqual([false, true]); // Monday
      expect(around(s, '2026-11-30T18:00:00Z')).toEqual([true, false]);
      expect(isOpen(s, at('2026-11-30T12:00:00Z'))).toBe(true);
      expect(isOpen(s, at('2026-12-01T12:00:00Z'))).toBe(false); // Tuesday
      expect(isOpen(s, at('2026-11-29T12:00:00Z'))).toBe(false); // Sunday
    });

    it('reads the wall clock of the schedule time zone', () => {
      const monday = [{ days: ['mon'] as Weekday[], from: '08:00', to: '18:00' }];
      // Berlin is at +01:00 in winter
      expect(around(schedule('Europe/Berlin', monday), '2026-11-30T07:00:00Z')).toEqual([false, true]);
      expect(around(schedule('Europe/Berlin', monday), '2026-11-30T17:00:00Z')).toEqual([true, false]);
      // New York at -05:00
      expect(around(schedule('America/New_York', monday), '2026-11-30T13:00:00Z')).toEqual([false, true]);
      expect(around(schedule('America/New_York', monday), '2026-11-30T23:00:00Z')).toEqual([true, false]);
      // Kolkata at +05:30
      expect(around(schedule('Asia/Kolkata', monday), '2026-11-30T02:30:00Z')).toEqual([false, true]);
      expect(around(schedule('Asia/Kolkata', monday), '2026-11-30T12:30:00Z')).toEqual([true, false]);
      // Chatham at +13:45 in its summer: Monday 08:00 there is still Sunday in UTC
      expect(around(schedule('Pacific/Chatham', monday), '2026-11-29T18:15:00Z')).toEqual([false, true]);
      expect(around(schedule('Pacific/Chatham', monday), '2026-11-30T04:15:00Z')).toEqual([true, false]);
      expect(isOpen(schedule('Pacific/Chatham', monday), at('2026-11-30T08:00:00Z'))).toBe(false);
    });

    it('follows Chatham from +13:45 to +12:45 when its summer time ends', () => {
      // 2026-04-05 03:45 +13:45 becomes 02:45 +12:45, at 14:00Z the day before
      const sunday = schedule('Pacific/Chatham', [{ days: ['sun'], from: '08:00', to: '09:00' }]);
      expect(around(sunday, '2026-04-04T19:15:00Z')).toEqual([false, true]);
      expect(around(sunday, '2026-04-04T20:15:00Z')).toEqual([true, false]);
    });

    it('runs a window from Friday night into Saturday morning, named by the day it starts', () => {
      const s = schedule('UTC', [{ days: ['fri'], from: '22:00', to: '06:00' }]);
      expect(around(s, '2026-12-04T22:00:00Z')).toEqual([false, true]); // Friday
      expect(isOpen(s, at('2026-12-05T00:00:00Z'))).toBe(true); // Saturday
      expect(around(s, '2026-12-05T06:00:00Z')).toEqual([true, false]);
      expect(isOpen(s, at('2026-12-05T23:00:00Z'))).toBe(false); // Saturday night: no window starts on Saturday
      expect(isOpen(s, at('2026-12-04T03:00:00Z'))).toBe(false); // Friday morning belongs to Thursday
    });

    it('runs a Sunday night window into Monday, across the end of the week', () => {
      const s = schedule('Europe/Berlin', [{ days: ['sun'], from: '20:00', to: '04:00' }]);
      expect(around(s, '2026-12-06T19:00:00Z')).toEqual([false, true]); // Sunday 20:00 in Berlin
      expect(isOpen(s, at('2026-12-06T23:30:00Z'))).toBe(true); // Monday 00:30
      expect(around(s, '2026-12-07T03:00:00Z')).toEqual([true, false]); // Monday 04:00
      expect(isOpen(s, at('2026-12-06T01:00:00Z'))).toBe(false); // Sunday 02:00 belongs to Saturday
    });

    it('ends a window at "24:00" at the end of its day', () => {
      const s = schedule('UTC', [{ days: ['mon'], from: '18:00', to: '24:00' }]);
      expect(around(s, '2026-11-30T18:00:00Z')).toEqual([false, true]);
      expect(around(s, '2026-12-01T00:00:00Z')).toEqual([true, false]);
      const allDay = schedule('UTC', [{ days: ['tue'], from: '00:00', to: '24:00' }]);
      expect(around(allDay, '2026-12-01T00:00:00Z')).toEqual([false, true]);
      expect(around(allDay, '2026-12-02T00:00:00Z')).toEqual([true, false]);
    });

    it('takes a window whose `from` equals its `to` for the 24 hours from `from`', () => {
      const s = schedule('UTC', [{ days: ['tue'], from: '12:00', to: '12:00' }]);
      expect(around(s, '2026-12-01T12:00:00Z')).toEqual([false, true]);
      expect(isOpen(s, at('2026-12-02T00:00:00Z'))).toBe(true);
      expect(around(s, '2026-12-02T12:00:00Z')).toEqual([true, false]);
    });

    it('is open when any window is', () => {
      const s = schedule('UTC', [
        { days: ['mon'], from: '08:00', to: '10:00' },
        { days: ['mon', 'tue'], from: '14:00', to: '16:00' },
      ]);
      expect(isOpen(s, at('2026-11-30T09:00:00Z'))).toBe(true);
      expect(isOpen(s, at('2026-11-30T12:00:00Z'))).toBe(false);
      expect(isOpen(s, at('2026-12-01T15:00:00Z'))).toBe(true);
      expect(isOpen(s, at('2026-12-01T09:00:00Z'))).toBe(false);
    });

    it('is always open without windows, and never with windows that name no day', () => {
      expect(isOpen(schedule('UTC', []), at('2026-12-05T03:00:00Z'))).toBe(true);
      expect(isOpen(schedule('Asia/Kolkata', []), at('1999-01-01T00:00:00Z'))).toBe(true);
      expect(isOpen(schedule('UTC', [{ days: [], from: '00:00', to: '24:00' }]), at('2026-12-05T03:00:00Z'))).toBe(false);
    });

    it('admits from startsAt (inclusive) until endsAt (exclusive), given as instants', () => {
      const s = schedule('UTC', [], { startsAt: '2026-12-01T09:00:00+01:00', endsAt: '2026-12-10T17:00:00Z' });
      expect(around(s, '2026-12-01T08:00:00Z')).toEqual([false, true]);
      expect(around(s, '2026-12-10T17:00:00Z')).toEqual([true, false]);
      expect(isOpen(s, at('2027-01-01T00:00:00Z'))).toBe(false);
      expect(isOpen(s, at('2026-11-01T00:00:00Z'))).toBe(false);
    });

    it('reads a date as local midnight of that date in the schedule time zone', () => {
      const bounds = { startsAt: '2026-12-24', endsAt: '2026-12-27' };
      expect(around(schedule('Europe/Berlin', [], bounds), '2026-12-23T23:00:00Z')).toEqual([false, true]);
      expect(around(schedule('Europe/Berlin', [], bounds), '2026-12-26T23:00:00Z')).toEqual([true, false]);
      expect(around(schedule('America/New_York', [], bounds), '2026-12-24T05:00:00Z')).toEqual([false, true]);
      expect(around(schedule('Asia/Kolkata', [], bounds), '2026-12-23T18:30:00Z')).toEqual([false, true]);
      expect(around(schedule('Pacific/Chatham', [], bounds), '2026-12-23T10:15:00Z')).toEqual([false, true]);
      expect(around(schedule('UTC', [], bounds), '2026-12-27T00:00:00Z')).toEqual([true, false]);
    });

    it('reads dates either side of a clock change with the offset of each', () => {
      // Berlin springs forward on 2026-03-29: that midnight is at +01:00, the next at +02:00
      const s = schedule('Europe/Berlin', [], { startsAt: '2026-03-29', endsAt: '2026-03-30' });
      expect(around(s, '2026-03-28T23:00:00Z')).toEqual([false, true]);
      expect(around(s, '2026-03-29T22:00:00Z')).toEqual([true, false]);
      // Santiago springs forward at midnight (2026-09-06 00:00 becomes 01:00): the date starts at the change
      expect(around(schedule('America/Santiago', [], { startsAt: '2026-09-06' }), '2026-09-06T04:00:00Z')).toEqual([false, true]);
    });

    it('applies startsAt and endsAt on top of the windows', () => {
      const s = schedule('UTC', [{ days: ['mon'], from: '08:00', to: '18:00' }], {
        startsAt: '2026-11-30T10:00:00Z',
        endsAt: '2026-12-07T12:00:00Z',
      });
      expect(around(s, '2026-11-30T10:00:00Z')).toEqual([false, true]);
      expect(around(s, '2026-12-07T12:00:00Z')).toEqual([true, false]);
      expect(isOpen(s, at('2026-12-14T10:00:00Z'))).toBe(false);
    });

    it('throws a RangeError for a time zone Intl does not know', () => {
      expect(() => isOpen(schedule('Mars/Olympus_Mons', []), at('2026-12-01T00:00:00Z'))).toThrow(RangeError);
      expect(() => isOpen(officeHours(''), at('2026-12-01T00:00:00Z'))).toThrow(RangeError);
      expect(() => nextOpening(schedule('Europe/Berln', []), at('2026-12-01T00:00:00Z'))).toThrow(RangeError);
    });

    it('throws a RangeError for a bound, a time of day or a date it cannot read', () => {
      const t = at('2026-12-01T00:00:00Z');
      expect(() => isOpen(schedule('UTC', [], { startsAt: '2026-12-01T10:00:00' }), t)).toThrow(RangeError); // no offset
      expect(() => isOpen(schedule('UTC', [], { endsAt: '2026-02-30' }), t)).toThrow(RangeError);
      expect(() => isOpen(schedule('UTC', [], { endsAt: 'next week' }), t)).toThrow(RangeError);
      expect(() => isOpen(schedule('UTC', [{ days: ['tue'], from: '8h', to: '18:00' }]), t)).toThrow(RangeError);
      expect(() => isOpen(schedule('UTC', [{ days: ['tue'], from: '24:00', to: '18:00' }]), t)).toThrow(RangeError);
      expect(() => isOpen(schedule('UTC', [{ days: ['tue'], from: '08:00', to: '18:60' }]), t)).toThrow(RangeError);
      expect(() => isOpen(schedule('UTC', []), new Date(NaN))).toThrow(RangeError);
    });

    it('formats the instant once per call, with one formatter per time zone', () => {
      const s = schedule('America/Sao_Paulo', [{ days: weekdays, from: '09:00', to: '17:00' }], { startsAt: '2026-01-01' });
      isOpen(s, at('2026-12-01T12:00:00Z')); // builds the formatter and reads the date once
      const format = jest.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
      const build = jest.spyOn(Intl, 'DateTimeFormat');
      try {
        expect(isOpen(s, at('2026-12-01T13:00:00Z'))).toBe(true);
        expect(isOpen(s, at('2026-12-01T23:00:00Z'))).toBe(false);
        expect(format).toHaveBeenCalledTimes(2);
        expect(build).not.toHaveBeenCalled();
      } finally {
        format.mockRestore();
        build.mockRestore();
      }
    });
  });

  describe('isOpen across clock changes', () => {
    describe('Europe/Berlin springing forward on 2026-03-29 (02:00 becomes 03:00, at 01:00Z)', () => {
      it('opens a window from 02:30 at the change, as 02:30 never shows', () => {
        const s = schedule('Europe/Berlin', [{ days: ['sun'], from: '02:30', to: '05:00' }]);
        expect(around(s, '2026-03-29T01:00:00Z')).toEqual([false, true]);
        expect(around(s, '2026-03-29T03:00:00Z')).toEqual([true, false]); // 05:00 summer time
      });

      it('closes a window 01:00-02:30 at the change', () => {
        const s = schedule('Europe/Berlin', [{ days: ['sun'], from: '01:00', to: '02:30' }]);
        expect(around(s, '2026-03-29T00:00:00Z')).toEqual([false, true]);
        expect(around(s, '2026-03-29T01:00:00Z')).toEqual([true, false]);
      });

      it('never opens a window that lies wholly in the skipped hour', () => {
        const s = schedule('Europe/Berlin', [{ days: ['sun'], from: '02:10', to: '02:50' }]);
        expect(isOpen(s, at('2026-03-29T00:59:59Z'))).toBe(false);
        expect(isOpen(s, at('2026-03-29T01:00:00Z'))).toBe(false);
        expect(isOpen(s, at('2026-04-05T00:10:00Z'))).toBe(true); // a week later, 02:10 summer time
      });
    });

    describe('Europe/Berlin falling back on 2026-10-25 (03:00 becomes 02:00, at 01:00Z)', () => {
      it('opens a window 02:15-02:45 during both times the clock shows 02:15-02:45', () => {
        const s = schedule('Europe/Berlin', [{ days: ['sun'], from: '02:15', to: '02:45' }]);
        expect(around(s, '2026-10-25T00:15:00Z')).toEqual([false, true]); // 02:15 summer time
        expect(around(s, '2026-10-25T00:45:00Z')).toEqual([true, false]);
        expect(isOpen(s, at('2026-10-25T01:00:00Z'))).toBe(false); // 02:00 winter time
        expect(around(s, '2026-10-25T01:15:00Z')).toEqual([false, true]); // 02:15 winter time
        expect(around(s, '2026-10-25T01:45:00Z')).toEqual([true, false]);
      });

      it('opens a window from 02:30 the first time the clock shows 02:30', () => {
        const s = schedule('Europe/Berlin', [{ days: ['sun'], from: '02:30', to: '05:00' }]);
        expect(around(s, '2026-10-25T00:30:00Z')).toEqual([false, true]);
        expect(around(s, '2026-10-25T04:00:00Z')).toEqual([true, false]); // 05:00 winter time
        // by the wall clock, 02:00-02:30 winter time is before the window's `from`
        expect(around(s, '2026-10-25T01:00:00Z')).toEqual([true, false]);
        expect(around(s, '2026-10-25T01:30:00Z')).toEqual([false, true]);
      });
    });

    describe('America/New_York springing forward on 2026-03-08 (02:00 becomes 03:00, at 07:00Z)', () => {
      it('opens a window from 02:30 at the change and closes one that ends at 02:30 there', () => {
        const opens = schedule('America/New_York', [{ days: ['sun'], from: '02:30', to: '04:00' }]);
        expect(around(opens, '2026-03-08T07:00:00Z')).toEqual([false, true]);
        expect(around(opens, '2026-03-08T08:00:00Z')).toEqual([true, false]); // 04:00 daylight time
        const closes = schedule('America/New_York', [{ days: ['sun'], from: '01:00', to: '02:30' }]);
        expect(around(closes, '2026-03-08T06:00:00Z')).toEqual([false, true]);
        expect(around(closes, '2026-03-08T07:00:00Z')).toEqual([true, false]);
      });
    });

    describe('America/New_York falling back on 2026-11-01 (02:00 becomes 01:00, at 06:00Z)', () => {
      it('opens a window 01:15-01:45 during both times the clock shows it', () => {
        const s = schedule('America/New_York', [{ days: ['sun'], from: '01:15', to: '01:45' }]);
        expect(around(s, '2026-11-01T05:15:00Z')).toEqual([false, true]);
        expect(around(s, '2026-11-01T05:45:00Z')).toEqual([true, false]);
        expect(around(s, '2026-11-01T06:15:00Z')).toEqual([false, true]);
        expect(around(s, '2026-11-01T06:45:00Z')).toEqual([true, false]);
      });

      it('opens a window from 01:30 the first time the clock shows 01:30', () => {
        const s = schedule('America/New_York', [{ days: ['sun'], from: '01:30', to: '08:00' }]);
        expect(around(s, '2026-11-01T05:30:00Z')).toEqual([false, true]);
        expect(around(s, '2026-11-01T13:00:00Z')).toEqual([true, false]);
      });
    });

    it.each([
      ['Europe/Berlin', 'springing forward', 23, '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z'],
      ['Europe/Berlin', 'falling back', 25, '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z'],
      ['America/New_York', 'springing forward', 23, '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z'],
      ['America/New_York', 'falling back', 25, '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z'],
    ])('keeps a window 00:00-24:00 open in %s on the day of %s, for %i hours', (timeZone, _change, hours, opens, closes) => {
      const s = schedule(timeZone, [{ days: ['sun'], from: '00:00', to: '24:00' }]);
      expect(around(s, opens)).toEqual([false, true]);
      expect(around(s, closes)).toEqual([true, false]);
      expect(Date.parse(closes) - Date.parse(opens)).toBe(hours * 3_600_000);
    });
  });

  describe('nextOpening', () => {
    it('returns `at` when the schedule is open then', () => {
      const t = at('2026-12-01T10:00:00Z');
      expect(nextOpening(officeHours('Europe/Berlin'), t)).toEqual(t);
      expect(nextOpening(officeHours('UTC'), at('2026-12-01T09:00:00Z'))).toEqual(at('2026-12-01T09:00:00Z'));
    });

    it('finds a window later the same day', () => {
      const s = schedule('UTC', [{ days: ['mon'], from: '08:00', to: '18:00' }]);
      expect(nextOpening(s, at('2026-11-30T06:00:00Z'))).toEqual(at('2026-11-30T08:00:00Z'));
      expect(nextOpening(s, at('2026-11-30T07:59:59.999Z'))).toEqual(at('2026-11-30T08:00:00Z'));
    });

    it('finds the window of the next day', () => {
      expect(nextOpening(officeHours('Europe/Berlin'), at('2026-12-01T17:00:00Z'))).toEqual(at('2026-12-02T08:00:00Z'));
      expect(nextOpening(officeHours('America/New_York'), at('2026-12-01T22:00:00Z'))).toEqual(at('2026-12-02T14:00:00Z'));
    });

    it('finds Monday morning after the weekend', () => {
      const berlin = officeHours('Europe/Berlin');
      expect(nextOpening(berlin, at('2026-12-04T16:00:00Z'))).toEqual(at('2026-12-07T08:00:00Z')); // Friday 17:00
      expect(nextOpening(berlin, at('2026-12-05T12:00:00Z'))).toEqual(at('2026-12-07T08:00:00Z')); // Saturday
      expect(nextOpening(berlin, at('2026-12-06T23:30:00Z'))).toEqual(at('2026-12-07T08:00:00Z')); // Monday 00:30
    });

    it('finds a window a week away, including the one that opened earlier today', () => {
      const s = schedule('UTC', [{ days: ['tue'], from: '09:00', to: '10:00' }]);
      expect(nextOpening(s, at('2026-12-01T10:00:00Z'))).toEqual(at('2026-12-08T09:00:00Z'));
      expect(nextOpening(s, at('2026-12-02T09:30:00Z'))).toEqual(at('2026-12-08T09:00:00Z'));
    });

    it('finds windows in zones at +05:30 and +13:45', () => {
      const monday = [{ days: ['mon'] as Weekday[], from: '08:00', to: '18:00' }];
      expect(nextOpening(schedule('Asia/Kolkata', monday), at('2026-11-30T00:00:00Z'))).toEqual(at('2026-11-30T02:30:00Z'));
      expect(nextOpening(schedule('Asia/Kolkata', monday), at('2026-11-30T12:30:00Z'))).toEqual(at('2026-12-07T02:30:00Z'));
      expect(nextOpening(schedule('Pacific/Chatham', monday), at('2026-11-29T12:00:00Z'))).toEqual(at('2026-11-29T18:15:00Z'));
    });

    it('finds the next opening of a window across midnight, at the end of the week too', () => {
      const s = schedule('UTC', [{ days: ['sun'], from: '22:00', to: '06:00' }]);
      const monday = at('2026-12-07T05:00:00Z');
      expect(nextOpening(s, monday)).toEqual(monday);
      expect(nextOpening(s, at('2026-12-07T06:00:00Z'))).toEqual(at('2026-12-13T22:00:00Z'));
      expect(nextOpening(s, at('2026-12-12T23:00:00Z'))).toEqual(at('2026-12-13T22:00:00Z'));
    });

    it('finds Monday morning across a clock change over the weekend, at the new offset', () => {
      // Berlin: Friday at +01:00, Monday at +02:00; then Friday at +02:00, Monday at +01:00
      expect(nextOpening(officeHours('Europe/Berlin'), at('2026-03-27T17:00:00Z'))).toEqual(at('2026-03-30T07:00:00Z'));
      expect(nextOpening(officeHours('Europe/Berlin'), at('2026-10-23T16:00:00Z'))).toEqual(at('2026-10-26T08:00:00Z'));
      // New York: -05:00 to -04:00, then back
      expect(nextOpening(officeHours('America/New_York'), at('2026-03-06T23:00:00Z'))).toEqual(at('2026-03-09T13:00:00Z'));
      expect(nextOpening(officeHours('America/New_York'), at('2026-10-30T22:00:00Z'))).toEqual(at('2026-11-02T14:00:00Z'));
    });

    it('opens a window whose `from` is skipped by springing forward at the change', () => {
      const berlin = schedule('Europe/Berlin', [{ days: ['sun'], from: '02:30', to: '05:00' }]);
      expect(nextOpening(berlin, at('2026-03-28T12:00:00Z'))).toEqual(at('2026-03-29T01:00:00Z'));
      const newYork = schedule('America/New_York', [{ days: ['sun'], from: '02:00', to: '04:00' }]);
      expect(nextOpening(newYork, at('2026-03-07T12:00:00Z'))).toEqual(at('2026-03-08T07:00:00Z'));
    });

    it('skips a week when the window lies wholly in the skipped hour', () => {
      const s = schedule('Europe/Berlin', [{ days: ['sun'], from: '02:10', to: '02:50' }]);
      expect(nextOpening(s, at('2026-03-28T12:00:00Z'))).toEqual(at('2026-04-05T00:10:00Z'));
    });

    it('opens at the first 02:30 when the clocks go back, and again when the clock shows the window once more', () => {
      const from0230 = schedule('Europe/Berlin', [{ days: ['sun'], from: '02:30', to: '05:00' }]);
      expect(nextOpening(from0230, at('2026-10-24T12:00:00Z'))).toEqual(at('2026-10-25T00:30:00Z'));
      expect(nextOpening(from0230, at('2026-10-25T01:10:00Z'))).toEqual(at('2026-10-25T01:30:00Z')); // 02:10 winter time
      const twice = schedule('Europe/Berlin', [{ days: ['sun'], from: '02:15', to: '02:45' }]);
      expect(nextOpening(twice, at('2026-10-25T00:50:00Z'))).toEqual(at('2026-10-25T01:15:00Z'));
      // 01:30-02:15: the clock goes back from 03:00 summer time to 02:00, inside the window again
      const intoWindow = schedule('Europe/Berlin', [{ days: ['sun'], from: '01:30', to: '02:15' }]);
      expect(nextOpening(intoWindow, at('2026-10-25T00:30:00Z'))).toEqual(at('2026-10-25T01:00:00Z'));
      const newYork = schedule('America/New_York', [{ days: ['sun'], from: '01:30', to: '08:00' }]);
      expect(nextOpening(newYork, at('2026-10-31T12:00:00Z'))).toEqual(at('2026-11-01T05:30:00Z'));
    });

    it('opens at startsAt when it falls inside a window', () => {
      const s = schedule('UTC', [{ days: ['mon'], from: '08:00', to: '18:00' }], { startsAt: '2026-12-07T10:00:00Z' });
      expect(nextOpening(s, at('2026-12-01T00:00:00Z'))).toEqual(at('2026-12-07T10:00:00Z'));
      expect(nextOpening(s, at('2026-11-30T09:00:00Z'))).toEqual(at('2026-12-07T10:00:00Z')); // in a window, before startsAt
    });

    it('opens at the first window after startsAt when startsAt falls outside the windows', () => {
      const s = schedule('UTC', [{ days: ['mon'], from: '08:00', to: '18:00' }], { startsAt: '2026-12-07T19:00:00Z' });
      expect(nextOpening(s, at('2026-12-01T00:00:00Z'))).toEqual(at('2026-12-14T08:00:00Z'));
      const fromDate = schedule('Europe/Berlin', [{ days: weekdays, from: '09:00', to: '17:00' }], { startsAt: '2026-12-24' });
      expect(nextOpening(fromDate, at('2026-12-01T00:00:00Z'))).toEqual(at('2026-12-24T08:00:00Z'));
    });

    it('returns null once endsAt has passed, endsAt itself excluded', () => {
      const s = schedule('UTC', [{ days: ['mon'], from: '08:00', to: '18:00' }], { endsAt: '2026-12-07T12:00:00Z' });
      expect(nextOpening(s, at('2026-12-07T12:00:00Z'))).toBeNull();
      expect(nextOpening(s, at('2027-06-01T00:00:00Z'))).toBeNull();
      expect(nextOpening(s, at('2026-12-07T11:59:59.999Z'))).toEqual(at('2026-12-07T11:59:59.999Z'));
    });

    it('returns null when endsAt comes before the next window opens', () => {
      const s = schedule('UTC', [{ days: ['mon'], from: '08:00', to: '18:00' }], { endsAt: '2026-12-04' });
      expect(nextOpening(s, at('2026-12-01T10:00:00Z'))).toBeNull();
      // endsAt exactly at the opening excludes it; a minute later admits it
      const atOpening = { ...s, endsAt: '2026-12-07T08:00:00Z' };
      expect(nextOpening(atOpening, at('2026-12-01T10:00:00Z'))).toBeNull();
      const after = { ...s, endsAt: '2026-12-07T08:01:00Z' };
      expect(nextOpening(after, at('2026-12-01T10:00:00Z'))).toEqual(at('2026-12-07T08:00:00Z'));
    });

    it('returns `at` for a schedule without windows, or startsAt before it begins', () => {
      const s = schedule('Europe/Berlin', [], { startsAt: '2026-12-24', endsAt: '2027-01-01' });
      expect(nextOpening(s, at('2026-12-25T03:00:00Z'))).toEqual(at('2026-12-25T03:00:00Z'));
      expect(nextOpening(s, at('2026-12-01T00:00:00Z'))).toEqual(at('2026-12-23T23:00:00Z'));
      expect(nextOpening(s, at('2026-12-31T23:00:00Z'))).toBeNull();
      expect(nextOpening(schedule('UTC', []), at('2030-01-01T00:00:00Z'))).toEqual(at('2030-01-01T00:00:00Z'));
    });

    it('returns null for windows that name no day', () => {
      expect(nextOpening(schedule('UTC', [{ days: [], from: '08:00', to: '18:00' }]), at('2026-12-01T00:00:00Z'))).toBeNull();
    });

    describe('agrees with reading isOpen every five minutes around a clock change', () => {
      // every window edge and every change below falls on a multiple of five minutes
      const step = 5 * 60_000;
      const windowSets: ScheduleWindow[][] = [
        [{ days: ['sun'], from: '02:30', to: '05:00' }],
        [{ days: ['sun'], from: '01:30', to: '02:15' }],
        [{ days: ['sat'], from: '23:00', to: '02:20' }],
        [{ days: ['sun'], from: '03:00', to: '03:30' }],
        [
          { days: ['mon', 'fri'], from: '09:00', to: '12:00' },
          { days: ['sat'], from: '22:00', to: '24:00' },
          { days: ['sun'], from: '02:15', to: '02:45' },
        ],
      ];
      it.each([
        ['Europe/Berlin', '2026-03-27T00:00:00Z'],
        ['Europe/Berlin', '2026-10-23T00:00:00Z'],
        ['America/New_York', '2026-03-06T00:00:00Z'],
        ['America/New_York', '2026-10-30T00:00:00Z'],
        ['Pacific/Chatham', '2026-04-03T00:00:00Z'],
        ['Pacific/Chatham', '2026-09-25T00:00:00Z'],
      ])('%s from %s', (timeZone, start) => {
        const first = Date.parse(start);
        const steps = (4 * 86_400_000) / step;
        for (const windows of windowSets) {
          const s = schedule(timeZone, windows, { endsAt: new Date(first + steps * step).toISOString() });
          const open = Array.from({ length: steps }, (_, i) => isOpen(s, new Date(first + i * step)));
          for (let i = 0; i < steps; i += 11) {
            const next = open.indexOf(true, i);
            const expected = next < 0 ? null : new Date(first + next * step);
            expect({ windows, at: new Date(first + i * step), next: nextOpening(s, new Date(first + i * step)) }).toEqual({
              windows,
              at: new Date(first + i * step),
              next: expected,
            });
          }
        }
      });
    });
  });
});
