/** An access policy's window: days of the week and minutes of the day, in the policy's time zone. */
export interface PolicyWindow {
  daysOfWeek: number[];
  startMinute: number;
  endMinute: number;
  timeZone: string;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Building a formatter costs far more than using one: one per time zone, kept (there are a few hundred zones). */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function isWithinWindow(window: PolicyWindow, at: Date): boolean {
  const parts = formatterFor(window.timeZone).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = WEEKDAYS.indexOf(get('weekday'));
  const minute = Number(get('hour')) * 60 + Number(get('minute'));
  if (!window.daysOfWeek.includes(day)) return false;
  if (window.startMinute <= window.endMinute) return minute >= window.startMinute && minute < window.endMinute;
  // a window across midnight, e.g. 22:00-06:00
  return minute >= window.startMinute || minute < window.endMinute;
}
