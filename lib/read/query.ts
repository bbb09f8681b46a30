import { sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { DomainError } from '../errors';
import { validate } from '../http/body';
import { badRequest } from '../http/errors';

/**
 * What the read endpoints share: strict query parsing (repeatable parameters, unknown ones refused),
 * ISO dates, LIKE patterns, and keyset cursors that keep Postgres's microseconds.
 */

/**
 * The query string validated with a zod object. Parameters named in `repeatable` arrive as arrays;
 * any other parameter given twice, or one the endpoint does not know, is a 400 naming it.
 */
export function listQuery<S extends z.ZodObject>(
  request: Request,
  schema: S,
  repeatable: readonly string[] = [],
): z.infer<S> {
  const params = new URL(request.url).searchParams;
  const known = new Set(Object.keys(schema.shape));
  const input: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    if (!known.has(key)) {
      throw badRequest(`the query is invalid: ${key}: not a parameter of this endpoint`, [
        { path: key, message: 'not a parameter of this endpoint' },
      ]);
    }
    const values = params.getAll(key);
    if (values.length > 1 && !repeatable.includes(key)) {
      throw badRequest(`the query is invalid: ${key}: given more than once`, [{ path: key, message: 'given more than once' }]);
    }
    input[key] = repeatable.includes(key) ? values : values[0]!;
  }
  return validate(schema, input, 'the query') as z.infer<S>;
}

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

// ---------------------------------------------------------------------------------------------
// Keyset cursors

/** The position of a page's last row: its sort timestamp (text, microseconds kept) and id. */
export interface Keyset {
  t: string | null;
  i: number;
}

const KEYSET_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

export function encodeKeyset(position: Keyset): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeKeyset(cursor: string): Keyset {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Keyset>;
    const t = parsed.t;
    const validTime =
      t === null ||
      (typeof t === 'string' && KEYSET_TIME.test(t) && !Number.isNaN(Date.parse(t.slice(0, 23) + 'Z')) &&
        new Date(t.slice(0, 23) + 'Z').toISOString().slice(0, 23) === t.slice(0, 23));
    if (validTime && Number.isSafeInteger(parsed.i) && parsed.i! > 0) return { t: t!, i: parsed.i! };
  } catch {
    // falls through
  }
  throw new DomainError('validation_failed', 'cursor is not one this API returned', [
    { path: 'cursor', message: 'invalid cursor' },
  ]);
}

/**
 * The column as cursor text: UTC, microseconds, so a row's position survives the round trip exactly
 * (a JS Date would cut it to milliseconds and skip rows that differ below that).
 */
export function keysetTime(column: AnyColumn): SQL<string | null> {
  return sql<string | null>`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

/** `{ data, nextCursor }` from `limit + 1` rows that carry their keyset time. */
export function toPage<R extends { id: number; keysetTime: string | null }, V>(
  rows: R[],
  limit: number,
  view: (row: R) => V,
): { data: V[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    data: page.map(view),
    nextCursor: rows.length > limit && last ? encodeKeyset({ t: last.keysetTime, i: last.id }) : null,
  };
}
