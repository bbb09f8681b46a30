/**
 * Calendar times as Google takes them: `{date}` (an all-day event, its end exclusive) or `{dateTime}`
 * (RFC 3339; without an offset, the wall time in `timeZone`), used to refuse an event that ends
 * before it starts before anything is sent.
 */
export interface EventTime {
  date?: string | null;
  dateTime?: string | null;
  timeZone?: string | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function isValidDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(value);
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetAt(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant of a time, or why it is not one: `date` as midnight UTC (compared only with dates),
 * `dateTime` with its offset, or its wall time in `timeZone`.
 */
export function instantOf(time: EventTime): { ms: number; allDay: boolean } | { problem: string } {
  if (time.date && time.dateTime) return { problem: 'give date (all day) or dateTime, not both' };
  if (time.timeZone && !isValidTimeZone(time.timeZone)) return { problem: `unknown time zone ${JSON.stringify(time.timeZone)}` };
  if (time.date) {
    if (!isValidDate(time.date)) return { problem: 'expected a date such as 2026-03-10' };
    return { ms: Date.parse(`${time.date}T00:00:00Z`), allDay: true };
  }
  if (!time.dateTime) return { problem: 'give date (all day) or dateTime' };
  const match = DATE_TIME.exec(time.dateTime);
  if (!match || !isValidDate(time.dateTime.slice(0, 10))) return { problem: 'expected an RFC 3339 date-time such as 2026-03-10T09:00:00+01:00' };
  if (match[8]) {
    const ms = Date.parse(time.dateTime);
    return Number.isNaN(ms) ? { problem: 'expected an RFC 3339 date-time' } : { ms, allDay: false };
  }
  if (!time.timeZone) return { problem: 'a dateTime without an offset needs a timeZone' };
  const wall = Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!);
  // Two rounds settle the offset for any instant but those a clock change skips or repeats.
  let guess = wall - offsetAt(wall, time.timeZone);
  guess = wall - offsetAt(guess, time.timeZone);
  return { ms: guess, allDay: false };
}
