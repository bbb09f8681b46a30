/**
 * Time helpers for the Calendar sandbox: IANA time-zone offsets via Intl, RFC 3339 parsing/formatting,
 * date arithmetic, and a small RRULE expander (DAILY / WEEKLY[BYDAY] / MONTHLY / YEARLY with INTERVAL,
 * COUNT, UNTIL) that works in the event's wall-clock time so weekly meetings keep their local time across DST.
 */

import { isValidTimeZone, tzOffsetMs, wallToUtc } from '../../../lib/time-zone';

export const DAY_MS = 86_400_000;

// The zone arithmetic is the app's (lib/time-zone.ts): Intl is the truth for both.
export { isValidTimeZone, tzOffsetMs, wallToUtc };

export interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}

export function utcToWall(tz: string, utcMs: number): Wall {
  const w = new Date(utcMs + tzOffsetMs(tz, utcMs));
  return { y: w.getUTCFullYear(), mo: w.getUTCMonth() + 1, d: w.getUTCDate(), h: w.getUTCHours(), mi: w.getUTCMinutes(), s: w.getUTCSeconds() };
}

const p2 = (n: number) => String(n).padStart(2, '0');

/** RFC 3339 in the zone's local time with its offset, e.g. 2024-03-12T09:00:00-04:00 (Z for UTC). */
export function formatInTz(utcMs: number, tz: string): string {
  const off = tzOffsetMs(tz, utcMs);
  const w = new Date(utcMs + off).toISOString().slice(0, 19);
  if (off === 0) return `${w}Z`;
  const a = Math.abs(off) / 60_000;
  return `${w}${off < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}:${p2(a % 60)}`;
}

/** Strict RFC 3339 with a mandatory offset (Google rejects timestamps without one). */
export function parseRfc3339(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|([+-])(\d{2}):(\d{2}))$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, frac, z, sign, oh, om] = m;
  if (+mo! < 1 || +mo! > 12 || +d! < 1 || +d! > daysInMonth(+y!, +mo!) || +h! > 23 || +mi! > 59 || +se! > 60) return undefined;
  let t = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, Math.min(+se!, 59), frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0);
  if (z !== 'Z' && z !== 'z') {
    const off = (+oh! * 60 + +om!) * 60_000;
    t -= sign === '+' ? off : -off;
  }
  return t;
}

/** Wall time of an RFC 3339 string as written (ignoring the offset): used for "dateTime + timeZone" pairs. */
export function wallOfRfc3339(s: string): Wall | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})/.exec(s);
  if (!m) return undefined;
  return { y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: +m[6]! };
}

export function hasOffset(s: string): boolean {
  return /(?:[Zz]|[+-]\d{2}:\d{2})$/.test(s);
}

export function daysInMonth(y: number, mo: number): number {
  return new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

export function isValidDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return !!m && +m[2]! >= 1 && +m[2]! <= 12 && +m[3]! >= 1 && +m[3]! <= daysInMonth(+m[1]!, +m[2]!);
}

export const dayNumber = (y: number, mo: number, d: number): number => Math.floor(Date.UTC(y, mo - 1, d) / DAY_MS);

export function dayToDate(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

export function dateToDay(s: string): number {
  return dayNumber(+s.slice(0, 4), +s.slice(5, 7), +s.slice(8, 10));
}

export function addDays(date: string, n: number): string {
  return dayToDate(dateToDay(date) + n);
}

/** 20240312T130000Z */
export function compactUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

// ---------------------------------------------------------------------------------------------------------
// RRULE

export interface RRule {
  freq: 'DAILY' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';
  interval: number;
  count?: number;
  /** UNTIL as an instant (UTC ms, inclusive) */
  until?: number;
  /** weekdays 0=SU..6=SA */
  byDay?: number[];
}

const DOW: Record<string, number> = { SU: 0, MO: 1, TU: 2, WE: 3, TH: 4, FR: 5, SA: 6 };

/** Parses the RRULE line of a Google `recurrence` array; throws on anything it does not understand. */
export function parseRecurrence(lines: string[]): RRule {
  const rr = lines.filter((l) => /^RRULE:/i.test(l));
  if (rr.length !== 1) throw new Error('exactly one RRULE is required');
  for (const l of lines) if (!/^(RRULE|EXDATE|RDATE|EXRULE):/i.test(l)) throw new Error(`unsupported recurrence line ${l}`);
  const parts = new Map<string, string>();
  for (const kv of rr[0]!.slice(6).split(';')) {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) throw new Error('bad RRULE part');
    parts.set(k.toUpperCase(), v.toUpperCase());
  }
  const freq = parts.get('FREQ');
  if (freq !== 'DAILY' && freq !== 'WEEKLY' && freq !== 'MONTHLY' && freq !== 'YEARLY') throw new Error('unsupported FREQ');
  const rule: RRule = { freq, interval: 1 };
  for (const [k, v] of parts) {
    switch (k) {
      case 'FREQ':
      case 'WKST':
        break;
      case 'INTERVAL':
        rule.interval = Number(v);
        if (!Number.isInteger(rule.interval) || rule.interval < 1) throw new Error('bad INTERVAL');
        break;
      case 'COUNT':
        rule.count = Number(v);
        if (!Number.isInteger(rule.count) || rule.count < 1) throw new Error('bad COUNT');
        break;
      case 'UNTIL': {
        const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?$/.exec(v);
        if (!m) throw new Error('bad UNTIL');
        rule.until = m[4] ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, 23, 59, 59);
        break;
      }
      case 'BYDAY':
        rule.byDay = v.split(',').map((d) => {
          const n = DOW[d];
          if (n === undefined) throw new Error('unsupported BYDAY');
          return n;
        });
        break;
      default:
        throw new Error(`unsupported RRULE part ${k}`);
    }
  }
  if (rule.count !== undefined && rule.until !== undefined) throw new Error('COUNT and UNTIL are exclusive');
  return rule;
}

/**
 * Occurrence dates (day numbers) of a rule starting on `startDay`, in order, while `accept(day)` returns
 * true (it returns false once past the horizon / UNTIL), up to `max`.
 */
export function occurrenceDays(rule: RRule, startDay: number, accept: (day: number) => boolean, max: number): number[] {
  const out: number[] = [];
  const limit = Math.min(rule.count ?? Infinity, max);
  const push = (day: number): boolean => {
    if (!accept(day)) return false;
    out.push(day);
    return out.length < limit;
  };
  const start = new Date(startDay * DAY_MS);
  const sy = start.getUTCFullYear();
  const sm = start.getUTCMonth() + 1;
  const sd = start.getUTCDate();
  switch (rule.freq) {
    case 'DAILY':
      for (let k = 0; ; k++) if (!push(startDay + k * rule.interval)) return out;
    case 'WEEKLY': {
      const dows = [...new Set(rule.byDay ?? [start.getUTCDay()])].sort((a, b) => ((a + 6) % 7) - ((b + 6) % 7)); // Monday-first
      const monday = startDay - ((start.getUTCDay() + 6) % 7);
      for (let w = 0; w < 100_000; w++) {
        const weekStart = monday + w * 7 * rule.interval;
        for (const dow of dows) {
          const day = weekStart + ((dow + 6) % 7);
          if (day < startDay) continue;
          if (!push(day)) return out;
        }
      }
      return out;
    }
    case 'MONTHLY':
      for (let k = 0; k < 100_000; k++) {
        const m0 = sm - 1 + k * rule.interval;
        const y = sy + Math.floor(m0 / 12);
        const mo = (m0 % 12) + 1;
        if (sd > daysInMonth(y, mo)) {
          if (!accept(dayNumber(y, mo, 1))) return out;
          continue;
        }
        if (!push(dayNumber(y, mo, sd))) return out;
      }
      return out;
    case 'YEARLY':
      for (let k = 0; k < 10_000; k++) {
        const y = sy + k * rule.interval;
        if (sd > daysInMonth(y, sm)) continue;
        if (!push(dayNumber(y, sm, sd))) return out;
      }
      return out;
  }
}
