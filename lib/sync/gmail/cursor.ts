import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../../db/client';
import { RetryableJobError } from '../../jobs/errors';
import type { Tx } from '../records';

/**
 * The Gmail stream's cursor document (sync_states.cursor, stream 'threads'). It is saved in the
 * transaction of the records it covers, with a compare-and-set, so it never points past data that is
 * not stored and a runner that lost its lease cannot move it:
 *
 * {
 *   v: 1,
 *   historyId?: string,        // incremental position: history.list starts after it. Set from the
 *                              // getProfile historyId taken BEFORE a backfill's first threads.list, when
 *                              // that backfill completes; then moved page by page through history.
 *                              // Absent until the first backfill completes (and during a 'full' resync).
 *   pending?: string[],        // thread ids whose current state must be fetched (threads.get) and stored
 *                              // before the stream moves on: the unfinished part of the current
 *                              // threads.list page, or the threads with new mail of the history page
 *                              // that `historyId` already moved past. Shrinks with each stored batch,
 *                              // so a follow-up run fetches only the rest.
 *   listing?: {                // a thread listing under way (backfill or resync); absent when idle
 *     reason: 'backfill'       // the newest `limit` threads: the first sync of the stream
 *           | 'full'           // every thread: a 'full' job
 *           | 'history_expired'// every thread: history.list answered 404 for `historyId`
 *           | 'date_range',    // the threads of `q` (after:/before:): a 'date_range' job
 *     jobId: number,           // the job that started it ('full'/'date_range' jobs continue only their own)
 *     startHistoryId: string,  // getProfile's historyId before listing: becomes `historyId` at the end
 *     limit: number | null,    // most threads to list (backfill), null for all
 *     q?: string,              // threads.list query (date_range)
 *     nextPageToken?: string,  // the page to list next (absent: the first page, or none when exhausted)
 *     exhausted: boolean,      // every page listed (what is left is `pending`, then the sweep)
 *     sweepSince?: string,     // full listings: database time at the start. Live threads not written
 *                              // since were not listed: they are re-checked one by one (threads.get;
 *                              // 404 -> deleted) before the listing completes
 *     swept: boolean,          // that re-check was queued into `pending`
 *     listed: number,          // threads listed so far
 *     pages: number,           // threads.list pages so far
 *     records: number,         // threads stored so far
 *     estimatedTotal: number | null
 *   },
 *   completed?: { jobId, reason, at }  // the last listing that completed: a retry or rerun of that same
 *                              // 'full' or 'date_range' job syncs incrementally instead of listing again
 * }
 */
const listingSchema = z.object({
  reason: z.enum(['backfill', 'full', 'history_expired', 'date_range']),
  jobId: z.number(),
  startHistoryId: z.string().regex(/^\d+$/),
  limit: z.number().int().positive().nullable(),
  q: z.string().optional(),
  nextPageToken: z.string().optional(),
  exhausted: z.boolean(),
  sweepSince: z.string().optional(),
  swept: z.boolean(),
  listed: z.number(),
  pages: z.number(),
  records: z.number(),
  estimatedTotal: z.number().nullable(),
});

const cursorSchema = z.object({
  v: z.literal(1),
  historyId: z.string().regex(/^\d+$/).optional(),
  pending: z.array(z.string()).optional(),
  listing: listingSchema.optional(),
  completed: z.object({ jobId: z.number(), reason: listingSchema.shape.reason, at: z.string() }).optional(),
});

export type GmailCursor = z.infer<typeof cursorSchema>;
export type Listing = z.infer<typeof listingSchema>;
export type ListingReason = Listing['reason'];

/** Another run of the same stream moved the cursor (this run's lease lapsed): this run's batch is dropped. */
export class CursorConflictError extends RetryableJobError {
  constructor(connectionId: number, stream: string) {
    super(`the cursor of connection ${connectionId} stream ${stream} was moved by another run`);
    this.name = 'CursorConflictError';
  }
}

export interface StoredCursor {
  /** Exactly what is stored, for the compare-and-set (null before the first save). */
  raw: unknown;
  /** The document; null before the first sync or when the stored one is unreadable. */
  cursor: GmailCursor | null;
  unreadable: boolean;
}

export async function loadCursor(db: Db, connectionId: number, stream: string): Promise<StoredCursor> {
  const result = await db.execute(sql`SELECT cursor FROM sync_states WHERE connection_id = ${connectionId} AND stream = ${stream}`);
  const raw = (result.rows as { cursor: unknown }[])[0]?.cursor ?? null;
  if (raw === null) return { raw, cursor: null, unreadable: false };
  const parsed = cursorSchema.safeParse(raw);
  return { raw, cursor: parsed.success ? parsed.data : null, unreadable: !parsed.success };
}

/**
 * Saves the cursor only if the stored one is still `expected` (what this run last read or wrote). One
 * statement; a conflict throws, which rolls back the records of the same transaction.
 */
export async function saveCursorIfUnchanged(
  tx: Tx | Db,
  connectionId: number,
  stream: string,
  expected: unknown,
  next: GmailCursor,
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
