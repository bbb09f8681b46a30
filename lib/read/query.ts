import { z } from 'zod';

/**
 * What the read endpoints share: ISO dates and LIKE patterns (query strings are parsed by
 * lib/http/route.ts `queryParams`, keyset cursors live in lib/pagination.ts).
 */

/** An ISO 8601 instant as a client writes it, with what the calendar needs of its local date. */
export interface IsoInstant {
  /** The instant (a bare date is midnight UTC), to compare in JS. */
  at: Date;
  /** The same, as text for Postgres (`::timestamptz`), microseconds kept. */
  iso: string;
  /** The calendar date as written (in the writer's own offset). */
  localDate: string;
  /** True when the time of day, as written, is midnight (or none was given). */
  midnight: boolean;
}

const dateOnly = z.iso.date();
const dateTime = z.iso.datetime({ offset: true });
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const END_INSTANT = Date.parse('9999-12-31T23:59:59.999Z') + 1;
const ISO_MESSAGE = 'expected an ISO 8601 date (2026-03-01) or date-time with an offset (2026-03-01T09:00:00Z)';

/** `2026-03-01` or `2026-03-01T09:00:00+01:00` (an offset is required: no guessing time zones). */
export const isoInstant = z
  .string()
  .max(40)
  .refine((value) => {
    if (dateOnly.safeParse(value).success) return value >= '0001';
    if (!dateTime.safeParse(value).success || !dateOnly.safeParse(value.slice(0, 10)).success || value < '0001') return false;
    // Real offsets run from -12:00 to +14:00; the calendar's range bounds rely on it.
    const offset = /([+-])(\d{2}):?(\d{2})$/.exec(value);
    if (offset && (Number(offset[2]) > 14 || Number(offset[3]) > 59)) return false;
    return !Number.isNaN(Date.parse(value));
  }, ISO_MESSAGE)
  // An offset can carry a date written in 0001 or 9999 into year 0 or 10000: every instant must be one
  // Postgres and ISO 8601 (four-digit years) can both represent.
  .refine((value) => {
    const at = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
    return Number.isNaN(at) || (at >= FIRST_INSTANT && at < END_INSTANT);
  }, 'expected an instant from year 0001 to 9999 (UTC)')
  .transform((value): IsoInstant => {
    const bare = value.length === 10;
    const iso = bare ? `${value}T00:00:00Z` : value;
    return {
      at: new Date(iso),
      iso,
      localDate: value.slice(0, 10),
      midnight: bare || /^T00:00(:00(\.0+)?)?(Z|[+-])/i.test(value.slice(10)),
    };
  });

/** `%text%` for LIKE/ILIKE, with the wildcards of `text` escaped (backslash is Postgres's default escape). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A free-text parameter: 1..200 characters. */
export const searchText = z.string().min(1).max(200);
