import { z } from 'zod';

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

export const calendarCursorSchema = z.object({
  v: z.literal(1),
  syncToken: z.string().optional(),
  lastFullSync: z.object({ timeMin: z.string(), timeMax: z.string(), completedAt: z.string() }).optional(),
  listing: z.discriminatedUnion('kind', [fullListing, incrementalListing]).optional(),
});

export type CalendarCursor = z.infer<typeof calendarCursorSchema>;
export type Listing = NonNullable<CalendarCursor['listing']>;
export type FullListing = z.infer<typeof fullListing>;
