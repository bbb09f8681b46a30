import { isValidTimeZone, wallToUtc } from '../../time-zone';

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

export function isValidDate(value: string): boolean {
  if (!DATE.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(value);
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
  return { ms: wallToUtc(time.timeZone, +match[1]!, +match[2]!, +match[3]!, +match[4]!, +match[5]!, +match[6]!), allDay: false };
}
