import pg from 'pg';

/**
 * Postgres timestamps as JS Dates, parsed fast. Postgres writes timestamptz as
 * `2026-11-24 08:16:01.123456+00` (DateStyle ISO, the default); a claim reads thousands of them a
 * second, and pg's own parser (regular expressions) or `new Date(string)` show in its profile. The
 * common shape is read digit by digit; anything else (infinity, BC, years before 100, another
 * DateStyle) goes to pg's own parser, which answers `Infinity` for infinity. A Date keeps milliseconds: code that needs Postgres's
 * microseconds reads the value as text (lib/pagination.ts `keysetTime`).
 */

// pg's global registry is left as it is: the pools of db/client.ts install these parsers for themselves.
const pgParseTimestamptz = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (text: string) => Date;

/** timestamptz text to a Date. */
export function parseTimestamptz(text: string): Date {
  return parseIsoTimestamp(text) ?? pgParseTimestamptz(text);
}

/**
 * timestamp (without time zone) text to a Date, read as UTC, as Drizzle's timestamp columns read it
 * (pg's default would read it in the process's local time zone).
 */
export function parseTimestamp(text: string): Date {
  return parseTimestamptz(`${text}+00`);
}

function parseIsoTimestamp(text: string): Date | null {
  const length = text.length;
  if (
    length < 22 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 32 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return null;
  }
  let i = 19;
  let ms = 0;
  if (text.charCodeAt(i) === 46) {
    let places = 0;
    for (i = 20; i < length; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (places < 3) {
        ms = ms * 10 + d;
        places += 1;
      }
    }
    if (places === 0) return null;
    if (places === 1) ms *= 100;
    else if (places === 2) ms *= 10;
  }
  const sign = text.charCodeAt(i);
  const rest = length - i - 1;
  if ((sign !== 43 && sign !== 45) || (rest !== 2 && !(rest === 5 && text.charCodeAt(i + 3) === 58))) return null;
  const year = two(text, 0) * 100 + two(text, 2);
  if (!(year >= 100)) return null; // Date.UTC reads years 0-99 as 1900-1999
  const offsetMinutes = two(text, i + 1) * 60 + (rest === 5 ? two(text, i + 4) : 0);
  const time =
    Date.UTC(year, two(text, 5) - 1, two(text, 8), two(text, 11), two(text, 14), two(text, 17), ms) -
    (sign === 43 ? offsetMinutes : -offsetMinutes) * 60_000;
  return time === time ? new Date(time) : null; // NaN when a digit was not one
}

/** The two-digit number at `at`, NaN if either is not a digit. */
function two(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const units = text.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && units >= 0 && units <= 9 ? tens * 10 + units : NaN;
}
