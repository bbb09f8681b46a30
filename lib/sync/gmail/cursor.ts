import { z } from 'zod';

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

export const gmailCursorSchema = z.object({
  v: z.literal(1),
  historyId: z.string().regex(/^\d+$/).optional(),
  pending: z.array(z.string()).optional(),
  listing: listingSchema.optional(),
  completed: z.object({ jobId: z.number(), reason: listingSchema.shape.reason, at: z.string() }).optional(),
});

export type GmailCursor = z.infer<typeof gmailCursorSchema>;
export type Listing = z.infer<typeof listingSchema>;
export type ListingReason = Listing['reason'];
