/**
 * A policy's schedule: weekly windows of wall-clock time in one IANA time zone, optionally bounded by a first and a
 * last moment. `isOpen` runs on every credential list, so it costs one formatter call; `nextOpening` runs when access
 * is refused, to say when it will be granted, and works from the few instants at which a window can open.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** "HH:MM" 24h local time; `to` may be "24:00". `from` after `to` runs across midnight into the next day. */
export interface ScheduleWindow {
  days: Weekday[];
  from: string;
  to: string;
}

/**
 * startsAt (inclusive) and endsAt (exclusive) are ISO 8601 instants with an offset or Z, or ISO dates ("2026-12-24"),
 * which mean local midnight of that date in `timeZone`. No windows: open at any time between them.
 */
export interface PolicySchedule {
  timeZone: string;
  windows: ScheduleWindow[];
  startsAt?: string;
  endsAt?: string;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Indexed by the UTC day of the week, Sunday first. */
const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** How many days one pass of `nextOpening` looks at: every weekday, and today's again a week later. */
const DAYS_PER_PASS = 8;
/**
 * A window with at least one day opens within two weeks; it misses a week only when it lies wholly in the hour a
 * spring-forward change skips. Three passes leave room for that.
 */
const PASSES = 3;

/** Building a formatter costs far more than using one: kept per time zone (there are a few hundred zones). */
function cachedFormatter(cache: Map<string, Intl.DateTimeFormat>, timeZone: string, options: Intl.DateTimeFormatOptions) {
  let formatter = cache.get(timeZone);
  if (!formatter) {
    // throws a RangeError for a zone Intl does not know
    formatter = new Intl.DateTimeFormat('en-US', { ...options, timeZone, hourCycle: 'h23' });
    cache.set(timeZone, formatter);
  }
  return formatter;
}

/** The day of the week and time of day, all `isOpen` reads: fewer fields format faster. */
const clocks = new Map<string, Intl.DateTimeFormat>();
const clockFor = (timeZone: string) => cachedFormatter(clocks, timeZone, { weekday: 'short', hour: 'numeric', minute: 'numeric' });

/** The full date and time, for offsets and turning wall-clock times into instants. */
const calendars = new Map<string, Intl.DateTimeFormat>();
const calendarFor = (timeZone: string) =>
  cachedFormatter(calendars, timeZone, { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });

const SHORT_WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** The local wall-clock time at instant `t`, as milliseconds since 1970 read as if the wall clock were UTC (whole seconds). */
function wallClockAt(calendar: Intl.DateTimeFormat, t: number): number {
  const field: Partial<Record<Intl.DateTimeFormatPartTypes, number>> = {};
  for (const { type, value } of calendar.formatToParts(t)) field[type] = Number(value);
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = field;
  return Date.UTC(year, month - 1, day, hour % 24, minute, second);
}

/** The zone's offset from UTC at instant `t`, in milliseconds (positive east of Greenwich). */
function offsetAt(calendar: Intl.DateTimeFormat, t: number): number {
  return wallClockAt(calendar, t) - Math.floor(t / SECOND) * SECOND;
}

/** The first instant in (`lo`, `hi`] with the offset in effect at `hi`, given that `lo` has another (whole seconds). */
function changeBetween(calendar: Intl.DateTimeFormat, lo: number, hi: number): number {
  const after = offsetAt(calendar, hi);
  let before = Math.floor(lo / SECOND) * SECOND;
  let at = Math.ceil(hi / SECOND) * SECOND;
  while (at - before > SECOND) {
    const mid = before + Math.floor((at - before) / (2 * SECOND)) * SECOND;
    if (offsetAt(calendar, mid) === after) at = mid;
    else before = mid;
  }
  return at;
}

/**
 * A zone's offsets over a stretch of time: `offsets[i]` is in effect from `changes[i]` on (`changes[0]` is -Infinity).
 * Read once a day and searched where two readings differ: no zone changes its offset twice within a day.
 */
interface Offsets {
  changes: number[];
  offsets: number[];
}

function offsetsWithin(calendar: Intl.DateTimeFormat, from: number, to: number): Offsets {
  const changes = [-Infinity];
  const offsets = [offsetAt(calendar, from)];
  for (let lo = from; lo < to; lo += DAY) {
    const hi = Math.min(lo + DAY, to);
    const offset = offsetAt(calendar, hi);
    if (offset !== offsets[offsets.length - 1]) {
      changes.push(changeBetween(calendar, lo, hi));
      offsets.push(offset);
    }
  }
  return { changes, offsets };
}

function offsetOn({ changes, offsets }: Offsets, t: number): number {
  let i = changes.length - 1;
  while (changes[i] > t) i--;
  return offsets[i];
}

/**
 * The instants at which the wall clock shows `wall` (milliseconds read as UTC), earliest first: two when the clocks
 * go back over it; when they spring forward over it (it never shows), the change, the first instant the clock shows
 * a later time. `zone` must cover a day either side of `wall`.
 */
function instantsOf(zone: Offsets, wall: number): number[] {
  const instants = [...new Set(zone.offsets)].filter((offset) => offsetOn(zone, wall - offset) === offset).map((offset) => wall - offset);
  if (instants.length > 0) return instants.sort((a, b) => a - b);
  const i = zone.changes.findIndex((change, j) => j > 0 && change + zone.offsets[j - 1] <= wall && wall < change + zone.offsets[j]);
  return i > 0 ? [zone.changes[i]] : [];
}

/** The first instant at which the wall clock shows `wall` or a later time. */
function firstInstantOf(zone: Offsets, wall: number): number {
  return instantsOf(zone, wall)[0] ?? wall - offsetOn(zone, wall);
}

/** Minutes after local midnight for "HH:MM"; "24:00" only where `endOfDay` allows it. */
function minuteOfDay(value: string, endOfDay: boolean): number {
  const match = /^(\d{1,2}):(\d{2})$/.exec(value);
  const minutes = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
  if (!match || Number(match[2]) > 59 || minutes > (endOfDay ? 24 * 60 : 24 * 60 - 1)) {
    throw new RangeError(`not a time of day: "${value}"`);
  }
  return minutes;
}

/** Bounds turned into instants, per zone and text: a date's local midnight takes a few formatter calls. */
const boundaries = new Map<string, number>();
const MAX_BOUNDARIES = 10_000;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

function boundaryInstant(timeZone: string, value: string): number {
  const key = `${timeZone}\n${value}`;
  const known = boundaries.get(key);
  if (known !== undefined) return known;
  let instant = NaN;
  const date = ISO_DATE.exec(value);
  if (date) {
    const midnight = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
    // a date that does not exist (2026-02-30) would otherwise roll over into the next month
    if (new Date(midnight).toISOString().slice(0, 10) === value) {
      instant = firstInstantOf(offsetsWithin(calendarFor(timeZone), midnight - 2 * DAY, midnight + 2 * DAY), midnight);
    }
  } else if (ISO_INSTANT.test(value)) {
    instant = Date.parse(value);
  }
  if (Number.isNaN(instant)) throw new RangeError(`not an ISO 8601 instant with an offset, nor a date: "${value}"`);
  if (boundaries.size >= MAX_BOUNDARIES) boundaries.clear();
  boundaries.set(key, instant);
  return instant;
}

interface Bounds {
  startsAt: number;
  endsAt: number;
}

function boundsOf({ timeZone, startsAt, endsAt }: PolicySchedule): Bounds {
  return {
    startsAt: startsAt === undefined ? -Infinity : boundaryInstant(timeZone, startsAt),
    endsAt: endsAt === undefined ? Infinity : boundaryInstant(timeZone, endsAt),
  };
}

function timeOf(at: Date): number {
  const t = at.getTime();
  if (Number.isNaN(t)) throw new RangeError('invalid date');
  return t;
}

/** Whether `window` is open when the wall clock shows `minute` past midnight on `weekday` (0 = Sunday). */
function windowContains(window: ScheduleWindow, weekday: number, minute: number): boolean {
  const from = minuteOfDay(window.from, false);
  const to = minuteOfDay(window.to, true);
  if (from < to) return minute >= from && minute < to && window.days.includes(WEEKDAYS[weekday]);
  // across midnight, named by the day it starts on; from === to is 24 hours from `from`
  if (minute >= from) return window.days.includes(WEEKDAYS[weekday]);
  return minute < to && window.days.includes(WEEKDAYS[(weekday + 6) % 7]);
}

function openAt(schedule: PolicySchedule, clock: Intl.DateTimeFormat, bounds: Bounds, t: number): boolean {
  if (t < bounds.startsAt || t >= bounds.endsAt) return false;
  if (schedule.windows.length === 0) return true;
  let weekday = -1;
  let minute = 0;
  for (const part of clock.formatToParts(t)) {
    if (part.type === 'weekday') weekday = SHORT_WEEKDAYS.indexOf(part.value);
    else if (part.type === 'hour') minute += (Number(part.value) % 24) * 60;
    else if (part.type === 'minute') minute += Number(part.value);
  }
  return schedule.windows.some((window) => windowContains(window, weekday, minute));
}

/** Whether the schedule lets access happen at `at`. */
export function isOpen(schedule: PolicySchedule, at: Date): boolean {
  const clock = clockFor(schedule.timeZone);
  return openAt(schedule, clock, boundsOf(schedule), timeOf(at));
}

/**
 * `at` itself when open; otherwise the first instant after `at` at which it is open; null when it never opens again
 * (endsAt passed, or no window can ever open before endsAt).
 *
 * Access can only begin at startsAt, where a window's `from` shows on the wall clock (either time, when the clocks go
 * back over it; the change, when they spring forward over it), or where the clocks go back into a window. Those
 * instants are listed for a week and a day at a time and the earliest open one is taken.
 */
export function nextOpening(schedule: PolicySchedule, at: Date): Date | null {
  const clock = clockFor(schedule.timeZone);
  const bounds = boundsOf(schedule);
  const from = Math.max(timeOf(at), bounds.startsAt);
  if (from >= bounds.endsAt) return null;
  if (openAt(schedule, clock, bounds, from)) return new Date(from);

  // here there are windows (a schedule without any is open whenever it is in force); some must name a day
  const windows = schedule.windows.filter((window) => window.days.length > 0);
  if (windows.length === 0) return null;
  const calendar = calendarFor(schedule.timeZone);
  const today = Math.floor(wallClockAt(calendar, from) / DAY) * DAY;
  let passStart = from;
  for (let pass = 0; pass < PASSES; pass++) {
    const firstDate = today + pass * DAYS_PER_PASS * DAY;
    const lastDate = firstDate + (DAYS_PER_PASS - 1) * DAY;
    // wall clocks are at most 14 hours from UTC: a day either side covers these dates and the midnight after them
    const zone = offsetsWithin(calendar, firstDate - DAY, lastDate + 2 * DAY);
    const passEnd = firstInstantOf(zone, lastDate + DAY);
    const candidates = zone.changes.filter((change) => change >= passStart && change < passEnd);
    for (let date = firstDate; date <= lastDate; date += DAY) {
      const weekday = WEEKDAYS[new Date(date).getUTCDay()];
      for (const window of windows) {
        if (window.days.includes(weekday)) candidates.push(...instantsOf(zone, date + minuteOfDay(window.from, false) * MINUTE));
      }
    }
    const opening = candidates
      .filter((t) => t > from && t < bounds.endsAt)
      .sort((a, b) => a - b)
      .find((t) => openAt(schedule, clock, bounds, t));
    if (opening !== undefined) return new Date(opening);
    if (passEnd >= bounds.endsAt) return null;
    passStart = passEnd;
  }
  return null;
}
