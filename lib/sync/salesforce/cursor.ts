import { z } from 'zod';

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

export const salesforceCursorSchema = z.object({
  v: z.literal(1),
  position: position.optional(),
  listing: listing.optional(),
  range: range.optional(),
  lastFullSync: z.object({ reason: z.enum(['backfill', 'full']), completedAt: z.string() }).optional(),
});

export type SalesforceCursor = z.infer<typeof salesforceCursorSchema>;
export type FullListing = z.infer<typeof listing>;
export type RangeListing = z.infer<typeof range>;
