import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { DbOrTx } from '../../db/client';
import { syncStates } from '../../db/schema';

/**
 * sync_states: one row per synced stream of a connection, its cursor and its last outcome. Every
 * statement on the table is here.
 */

/** Another run moved the stream's cursor since this run read it: this run's page is rolled back. */
export class CursorConflictError extends Error {
  readonly code = 'sync_cursor_conflict';
  constructor(connectionId: number, stream: string) {
    super(`the cursor of connection ${connectionId} stream ${stream} was moved by another run`);
    this.name = 'CursorConflictError';
  }
}

export interface StoredCursor<C> {
  /** Exactly what is stored, for the compare-and-set (null before the first save). */
  raw: unknown;
  /** The document; null before the first sync or when the stored one is unreadable. */
  cursor: C | null;
  unreadable: boolean;
}

/** Reads a stream's cursor document and validates it with the provider's schema. */
export async function loadCursor<C>(db: DbOrTx, connectionId: number, stream: string, schema: z.ZodType<C>): Promise<StoredCursor<C>> {
  const result = await db.execute(sql`SELECT cursor FROM sync_states WHERE connection_id = ${connectionId} AND stream = ${stream}`);
  const raw = (result.rows as { cursor: unknown }[])[0]?.cursor ?? null;
  if (raw === null) return { raw, cursor: null, unreadable: false };
  const parsed = schema.safeParse(raw);
  return { raw, cursor: parsed.success ? parsed.data : null, unreadable: !parsed.success };
}

/**
 * Saves the cursor only if the stored one is still `expected` (what this run last read or wrote), in
 * the transaction of the records it covers: a runner whose lease lapsed while another took over cannot
 * move the cursor back or sideways. One statement; a conflict throws, rolling the records back with it.
 */
export async function saveCursorIfUnchanged(
  tx: DbOrTx,
  connectionId: number,
  stream: string,
  expected: unknown,
  next: unknown,
): Promise<void> {
  const result = await tx.execute(sql`
    INSERT INTO sync_states (connection_id, stream, cursor, cursor_saved_at)
    VALUES (${connectionId}, ${stream}, ${JSON.stringify(next)}::jsonb, now())
    ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = excluded.cursor, cursor_saved_at = now(), updated_at = now()
      WHERE sync_states.cursor IS NOT DISTINCT FROM ${expected === null ? null : JSON.stringify(expected)}::jsonb
    RETURNING 1 AS saved
  `);
  if (result.rows.length === 0) throw new CursorConflictError(connectionId, stream);
}

/** A stream finished a sync: its last success is now, and its last error is cleared. */
export async function recordStreamSuccess(db: DbOrTx, connectionId: number, stream: string): Promise<void> {
  await db.execute(sql`
    INSERT INTO sync_states (connection_id, stream, last_success_at)
    VALUES (${connectionId}, ${stream}, now())
    ON CONFLICT (connection_id, stream) DO UPDATE SET
      last_success_at = now(), last_error = NULL, last_error_at = NULL, updated_at = now()
  `);
}

/** Streams of a connection failed (a sync job, or Nango's own sync): their last error, one statement. */
export async function recordStreamError(db: DbOrTx, connectionId: number, streams: readonly string[], message: string): Promise<void> {
  if (streams.length === 0) return;
  await db.execute(sql`
    INSERT INTO sync_states (connection_id, stream, last_error, last_error_at)
    SELECT ${connectionId}, stream, ${message}, now() FROM unnest(${sql.param([...streams])}::text[]) AS stream
    ON CONFLICT (connection_id, stream) DO UPDATE SET
      last_error = excluded.last_error, last_error_at = excluded.last_error_at, updated_at = now()
  `);
}

export type StreamState = Pick<
  typeof syncStates.$inferSelect,
  'connectionId' | 'stream' | 'cursorSavedAt' | 'lastSuccessAt' | 'lastError' | 'lastErrorAt'
>;

/** The last outcome of every stream of these connections. */
export async function streamStates(db: DbOrTx, connectionIds: readonly number[]): Promise<StreamState[]> {
  if (connectionIds.length === 0) return [];
  return db
    .select({
      connectionId: syncStates.connectionId,
      stream: syncStates.stream,
      cursorSavedAt: syncStates.cursorSavedAt,
      lastSuccessAt: syncStates.lastSuccessAt,
      lastError: syncStates.lastError,
      lastErrorAt: syncStates.lastErrorAt,
    })
    .from(syncStates)
    .where(sql`${syncStates.connectionId} = ANY(${sql.param([...connectionIds])}::bigint[])`);
}

/** Streams whose last sync failed (a success clears the error), most recent failure first, and how many. */
export async function failingStreams(db: DbOrTx, limit: number): Promise<{ count: number; streams: StreamState[] }> {
  const result = await db.execute(sql`
    SELECT (SELECT count(*)::int FROM sync_states WHERE last_error IS NOT NULL) AS count,
      coalesce((SELECT json_agg(s) FROM (
        SELECT connection_id AS "connectionId", stream, cursor_saved_at AS "cursorSavedAt", last_success_at AS "lastSuccessAt",
          last_error AS "lastError", last_error_at AS "lastErrorAt"
        FROM sync_states WHERE last_error IS NOT NULL ORDER BY last_error_at DESC NULLS LAST LIMIT ${limit}) s), '[]'::json) AS streams
  `);
  const row = result.rows[0] as { count: number; streams: Record<string, unknown>[] };
  const date = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string));
  return {
    count: Number(row.count),
    streams: row.streams.map((s) => ({
      connectionId: Number(s.connectionId),
      stream: s.stream as string,
      cursorSavedAt: date(s.cursorSavedAt),
      lastSuccessAt: date(s.lastSuccessAt),
      lastError: s.lastError as string | null,
      lastErrorAt: date(s.lastErrorAt),
    })),
  };
}
