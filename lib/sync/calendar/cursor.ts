import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../../db/client';
import { RetryableJobError } from '../../jobs/errors';
import type { Tx } from '../records';

/**
 * The calendar stream's cursor document (sync_states.cursor), saved in the transaction of the page it
 * covers, so it never points past data that is not stored:
 *
 * {
 *   v: 1,
 *   syncToken?: string,            // nextSyncToken of the last completed listing: incremental syncs start here.
 *                                  // Absent until the first backfill completes (and while a 'full' resync runs).
 *   lastFullSync?: {               // the window the last completed backfill/resync listed (ISO instants)
 *     timeMin, timeMax, completedAt
 *   },
 *   listing?: {                    // a listing under way, continued by the next run after a checkpoint, a
 *                                  // crash or a retry; absent when the stream is idle
 *     kind: 'full',                // events.list over a window (singleEvents), no sync token
 *     reason: 'backfill' | 'full' | 'date_range' | 'sync_token_expired',
 *     jobId,                       // the job that started it: a later 'full' or 'date_range' job starts its own
 *     timeMin, timeMax,            // the window, fixed at the start so every page answers the same query
 *     sweepSince,                  // database time at the start: at the end, live rows of the window not
 *                                  // written since (the listing no longer returns them) are marked deleted
 *     pageToken?,                  // the next page to fetch (absent: the first)
 *     pages, records               // done so far, for progress
 *   } | {
 *     kind: 'incremental',         // events.list with `syncToken` above
 *     jobId, pageToken?, pages, records
 *   }
 * }
 *
 * A listing's nextSyncToken only replaces `syncToken` in the transaction of its last page. A
 * 'date_range' listing never does: its token would also vouch for changes outside its window, which
 * it never listed (before the first backfill completes, the stream still backfills afterwards).
 */
const fullListing = z.object({
  kind: z.literal('full'),
  reason: z.enum(['backfill', 'full', 'date_range', 'sync_token_expired']),
  jobId: z.number(),
  timeMin: z.string(),
  timeMax: z.string(),
  sweepSince: z.string(),
  pageToken: z.string().optional(),
  pages: z.number(),
  records: z.number(),
});

const incrementalListing = z.object({
  kind: z.literal('incremental'),
  jobId: z.number(),
  pageToken: z.string().optional(),
  pages: z.number(),
  records: z.number(),
});

const cursorSchema = z.object({
  v: z.literal(1),
  syncToken: z.string().optional(),
  lastFullSync: z.object({ timeMin: z.string(), timeMax: z.string(), completedAt: z.string() }).optional(),
  listing: z.discriminatedUnion('kind', [fullListing, incrementalListing]).optional(),
});

export type CalendarCursor = z.infer<typeof cursorSchema>;
export type Listing = NonNullable<CalendarCursor['listing']>;
export type FullListing = z.infer<typeof fullListing>;

/** Another run of the same stream moved the cursor (this run's lease lapsed): this run's page is dropped. */
export class CursorConflictError extends RetryableJobError {
  constructor(connectionId: number, stream: string) {
    super(`the cursor of connection ${connectionId} stream ${stream} was moved by another run`);
    this.name = 'CursorConflictError';
  }
}

export interface StoredCursor {
  /** Exactly what is stored, for the compare-and-set. */
  raw: unknown;
  /** The document, or null before the first sync (or when the stored one is unreadable). */
  cursor: CalendarCursor | null;
}

export async function loadCursor(db: Db, connectionId: number, stream: string): Promise<StoredCursor & { unreadable: boolean }> {
  const result = await db.execute(sql`SELECT cursor FROM sync_states WHERE connection_id = ${connectionId} AND stream = ${stream}`);
  const raw = (result.rows as { cursor: unknown }[])[0]?.cursor ?? null;
  if (raw === null) return { raw, cursor: null, unreadable: false };
  const parsed = cursorSchema.safeParse(raw);
  return { raw, cursor: parsed.success ? parsed.data : null, unreadable: !parsed.success };
}

/**
 * Saves the cursor only if it is still the one this run last read or wrote: a runner whose lease
 * lapsed while another took over cannot move the cursor back or sideways. One statement; the
 * conflict rolls back the page's records with it.
 */
export async function saveCursorIfUnchanged(
  tx: Tx,
  connectionId: number,
  stream: string,
  expected: unknown,
  next: CalendarCursor,
): Promise<void> {
  const result = await tx.execute(sql`
    INSERT INTO sync_states (connection_id, stream, cursor)
    VALUES (${connectionId}, ${stream}, ${JSON.stringify(next)}::jsonb)
    ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = now()
      WHERE sync_states.cursor IS NOT DISTINCT FROM ${expected === null ? null : JSON.stringify(expected)}::jsonb
    RETURNING 1 AS saved
  `);
  if (result.rows.length === 0) throw new CursorConflictError(connectionId, stream);
}
