import { and, sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db, DbOrTx } from '../db/client';
import { z } from 'zod';
import { DomainError } from './errors';

/**
 * Lists: `?limit=` (1..100, default 25) and an opaque `cursor`, newest first, answered as
 * `{ data, nextCursor }`. The cursor is the keyset position of the page's last row.
 */
export const pageQuerySchema = z.object({
  // Digits only: a lenient number parse would take 0x10, 1e2 or +5.
  limit: z
    .union([z.string().regex(/^[0-9]{1,3}$/, 'expected a whole number from 1 to 100'), z.number()])
    .transform(Number)
    .pipe(z.number().int().min(1, 'expected a whole number from 1 to 100').max(100, 'expected a whole number from 1 to 100'))
    .default(25),
  cursor: z.string().min(1).max(500).optional(),
});

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
      // Year 0000 parses in JavaScript but not in Postgres: a forged cursor would fail the query.
      (typeof t === 'string' && KEYSET_TIME.test(t) && !t.startsWith('0000') && !Number.isNaN(Date.parse(t.slice(0, 23) + 'Z')) &&
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

/**
 * A newest-first list on (time, id), as the `*_recent` indexes hold it (time DESC NULLS LAST, id DESC
 * NULLS LAST; the ORDER BY spells that so the index can deliver it): `after`, the condition for the rows
 * past the cursor's position (none on the first page), `orderBy`, and `limit`, one more row than the
 * page, which tells toPage whether another follows.
 */
export function newestFirst(time: AnyColumn, id: AnyColumn, page: { limit: number; cursor?: string }): { after: SQL | undefined; orderBy: SQL[]; limit: number } {
  const position = page.cursor ? decodeKeyset(page.cursor) : null;
  return {
    after: position ? sql`(${time}, ${id}) < (${position.t}::timestamptz, ${position.i})` : undefined,
    orderBy: [sql`${time} DESC NULLS LAST`, sql`${id} DESC NULLS LAST`],
    limit: page.limit + 1,
  };
}

/**
 * A newest-first page of whole rows of a table on (time, id): the rows that match `filters`, past the
 * cursor, limit + 1 of them, for toPage (`row` is the table's row).
 */
export async function selectNewestFirst<T extends PgTable>(
  db: DbOrTx,
  table: T,
  time: AnyColumn,
  id: AnyColumn,
  filters: (SQL | undefined)[],
  page: { limit: number; cursor?: string },
): Promise<{ row: T['$inferSelect']; id: number; keysetTime: string | null }[]> {
  const keyset = newestFirst(time, id, page);
  // Drizzle's select cannot type a row of a table the function is generic over: the result is cast.
  const rows = await (db as Db)
    .select({ row: table as PgTable, id, keysetTime: keysetTime(time) } as never)
    .from(table as PgTable)
    .where(and(...filters, keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(keyset.limit);
  return rows as unknown as { row: T['$inferSelect']; id: number; keysetTime: string | null }[];
}
