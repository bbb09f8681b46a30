import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../../db/client';
import { RetryableJobError } from '../../jobs/errors';
import type { Tx } from '../records';

/**
 * A Salesforce stream's cursor document (sync_states.cursor), saved in the transaction that stores
 * the rows it covers, so it never points past data that is not stored:
 *
 * {
 *   v: 1,
 *   position?: { systemModstamp, id },  // the last row stored, in (SystemModstamp, Id) order: the next
 *                                       // keyset page starts after it. Absent before the first page.
 *   listing?: {                         // a listing from the start of time under way (absent: none):
 *     kind: 'full',                     // the backfill, or a 'full' resync (which discarded `position`)
 *     reason: 'backfill' | 'full',
 *     jobId,                            // the job that started it: a later 'full' job starts its own
 *     sweepSince,                       // database time at its start: at its end, live rows not written
 *                                       // since (Salesforce no longer has them) are marked deleted
 *     pages, records                    // done so far, for progress
 *   },
 *   range?: {                           // a 'date_range' listing under way; it never moves `position`
 *     jobId, start?, end?,              // the SystemModstamp window (ISO; start inclusive, end exclusive)
 *     position?, pages, records
 *   },
 *   lastFullSync?: { reason, completedAt }
 * }
 *
 * A listing is the same keyset walk as an incremental sync (it starts with no position); what it adds
 * is the sweep at its end. An incremental job that finds a listing under way continues it.
 */
const position = z.object({ systemModstamp: z.string(), id: z.string() });

const listing = z.object({
  kind: z.literal('full'),
  reason: z.enum(['backfill', 'full']),
  jobId: z.number(),
  sweepSince: z.string(),
  pages: z.number(),
  records: z.number(),
});

const range = z.object({
  jobId: z.number(),
  start: z.string().optional(),
  end: z.string().optional(),
  position: position.optional(),
  pages: z.number(),
  records: z.number(),
});

const cursorSchema = z.object({
  v: z.literal(1),
  position: position.optional(),
  listing: listing.optional(),
  range: range.optional(),
  lastFullSync: z.object({ reason: z.enum(['backfill', 'full']), completedAt: z.string() }).optional(),
});

export type SalesforceCursor = z.infer<typeof cursorSchema>;
export type FullListing = z.infer<typeof listing>;
export type RangeListing = z.infer<typeof range>;

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
  /** The document; null before the first sync, or when the stored one is unreadable. */
  cursor: SalesforceCursor | null;
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
 * Saves the cursor only if it is still the one this run last read or wrote, so a runner whose lease
 * lapsed while another took over cannot move the cursor back. One statement (jsonb equality ignores
 * key order); a conflict throws, which rolls the page's rows back with it.
 */
export async function saveCursorIfUnchanged(tx: Tx, connectionId: number, stream: string, expected: unknown, next: SalesforceCursor): Promise<void> {
  const result = await tx.execute(sql`
    INSERT INTO sync_states (connection_id, stream, cursor)
    VALUES (${connectionId}, ${stream}, ${JSON.stringify(next)}::jsonb)
    ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = now()
      WHERE sync_states.cursor IS NOT DISTINCT FROM ${expected === null ? null : JSON.stringify(expected)}::jsonb
    RETURNING 1 AS saved
  `);
  if (result.rows.length === 0) throw new CursorConflictError(connectionId, stream);
}
