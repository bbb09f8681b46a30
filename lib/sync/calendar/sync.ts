import { dateRangeBounds } from '../streams';
import type { calendar_v3 } from '@googleapis/calendar';
import { sql } from 'drizzle-orm';
import { config } from '../../config';
import { SyncError } from '../engine/errors';
import { ProviderError } from '../../providers/errors';
import { calendarApi, googleError, googleRequestOptions } from '../../providers/google';
import type { StreamSync, SyncContext, SyncPage, SyncProgress, Walk } from '../engine/types';
import { calendarCursorSchema, type CalendarCursor, type FullListing, type Listing } from './cursor';
import { normalizeEvent, type CalendarEventRow, type CancelledItem } from './normalize';
import { storePage, type PageWrite } from './store';

/** Google's largest page is 2500; 250 (its default) keeps a page's transaction short. */
export const CALENDAR_PAGE_SIZE = 250;
const DAY_MS = 86_400_000;

export interface CalendarSyncOptions {
  /** events.list maxResults (default 250). */
  pageSize?: number;
  calendarId?: string;
}

/** What one events.list page stores: its live events, its cancellations, and (last page of a full listing) the sweep. */
export type CalendarPageRecords = Omit<PageWrite, 'connection' | 'calendarId'>;

/**
 * Google Calendar sync of one connection's primary calendar, `singleEvents=true` (recurring series
 * arrive as their instances, each with recurringEventId):
 *
 * - backfill: events.list over the window (CALENDAR_BACKFILL_DAYS_BACK/AHEAD, or the payload's
 *   startDate/endDate in 'date_range' mode), page by page; the last page's nextSyncToken becomes the
 *   cursor in the transaction that stores that page.
 * - incremental: events.list with the sync token, page by page, cancellations included.
 * - 410 fullSyncRequired: the token expired; the window is listed again (a full resync) and what it
 *   no longer returns is marked deleted at its end.
 *
 * The engine stores each page with the cursor that covers it in one transaction, and checkpoints past
 * the run's deadline (the next page's token is already saved): the job continues in a follow-up run
 * from exactly that page. The cursor document is described in ./cursor.ts.
 */
export function createCalendarSync(options: CalendarSyncOptions = {}): StreamSync<CalendarCursor, CalendarPageRecords> {
  const pageSize = options.pageSize ?? CALENDAR_PAGE_SIZE;
  const calendarId = options.calendarId ?? 'primary';
  return {
    cursor: calendarCursorSchema,
    initialCursor: { v: 1 },
    async start(context, stored) {
      const planned = await plan(context, stored, context.job.job.id);
      return new CalendarWalk(context, planned.cursor, planned.listing, pageSize, calendarId);
    },
    async store(tx, context, records) {
      const result = await storePage(tx, { connection: context.connection, calendarId, ...records });
      if (result.swept > 0) context.logger.info({ swept: result.swept }, 'calendar events no longer in the window after a full listing: marked deleted');
      context.logger.debug(result, 'calendar page stored');
      return records.live.length + records.cancelled.length;
    },
  };
}

/** The sync the `sync.calendar` job runs. */
export const syncCalendar = createCalendarSync();

/** One run's listing: page after page of events.list, from the page token the cursor holds. */
class CalendarWalk implements Walk<CalendarCursor, CalendarPageRecords> {
  /** The listing gets one fresh start per run (an expired sync or page token). */
  private restarted = false;

  constructor(
    private readonly context: SyncContext,
    public cursor: CalendarCursor,
    private listing: Listing,
    private readonly pageSize: number,
    private readonly calendarId: string,
  ) {}

  describe() {
    return { listing: describe(this.listing), resumed: this.listing.pageToken !== undefined };
  }

  async next(): Promise<SyncPage<CalendarCursor, CalendarPageRecords>> {
    const { logger } = this.context;
    const page = await this.fetchPage();
    const live: CalendarEventRow[] = [];
    const cancelled: CancelledItem[] = [];
    for (const item of page.items ?? []) {
      const normalized = normalizeEvent(item, page.timeZone ?? null);
      if (normalized.kind === 'live') live.push(normalized.row);
      else if (normalized.kind === 'cancelled') cancelled.push(normalized.item);
      else logger.warn({ eventId: normalized.id, why: normalized.why }, 'calendar event skipped: cannot be stored');
    }
    const records = live.length + cancelled.length;
    const last = !page.nextPageToken;
    if (last && !page.nextSyncToken) {
      throw new SyncError('calendar events.list ended without a nextSyncToken: nothing to sync incrementally from');
    }

    const listing = this.listing;
    let next: CalendarCursor;
    if (!last) {
      next = { ...this.cursor, listing: { ...listing, pageToken: page.nextPageToken!, pages: listing.pages + 1, records: listing.records + records } };
      this.listing = next.listing!;
    } else if (listing.kind === 'incremental') {
      next = { v: 1, syncToken: page.nextSyncToken!, ...(this.cursor.lastFullSync ? { lastFullSync: this.cursor.lastFullSync } : {}) };
    } else {
      next = completeFullListing(this.cursor, listing, page.nextSyncToken!);
    }
    const sweep = last && listing.kind === 'full' ? { timeMin: listing.timeMin, timeMax: listing.timeMax, since: listing.sweepSince } : undefined;
    const totals = { pages: listing.pages + 1, records: listing.records + records };
    const detail = describe(last ? listing : this.listing);
    return {
      records: { live, cancelled, ...(sweep ? { sweep } : {}) },
      cursor: next,
      last,
      progress: () => ({ phase: last ? 'done' : phaseOf(this.listing), ...totals, detail }),
    };
  }

  /** The next events.list page; an expired token restarts the listing once per run. */
  private async fetchPage(): Promise<calendar_v3.Schema$Events> {
    const { logger } = this.context;
    while (true) {
      try {
        return await listPage(this.context, this.listing, this.cursor.syncToken, this.pageSize, this.calendarId);
      } catch (error) {
        if (!(error instanceof ProviderError) || this.restarted) throw error;
        if (error.status === 410) {
          // The sync token (or a page token derived from it) expired: Google wants a full sync. A
          // full listing that gets a 410 on a continuation starts over from its first page.
          this.restarted = true;
          if (this.listing.kind === 'incremental') {
            logger.warn({ reason: error.options.reason }, 'calendar sync token no longer valid (410): full resync of the window');
            this.cursor = withoutSyncToken(this.cursor);
            this.listing = await newFullListing(this.context, this.context.job.job.id, 'sync_token_expired', configuredWindow());
          } else {
            logger.warn({ reason: error.options.reason }, 'calendar page token no longer valid (410): listing the window from its first page');
            this.listing = restartListing(this.listing);
          }
          continue;
        }
        if (error.status === 400 && this.listing.pageToken !== undefined) {
          // A saved page token Google no longer accepts: the listing starts over (its pages are fetched again).
          this.restarted = true;
          logger.warn({ err: error }, 'calendar page token refused: restarting the listing from its first page');
          this.listing = restartListing(this.listing);
          continue;
        }
        throw error;
      }
    }
  }
}

/**
 * What this run lists, from the payload's mode and the stored cursor:
 * - 'full' discards the sync token and lists the configured window again (a listing this same job
 *   started and checkpointed is continued, not restarted);
 * - 'date_range' lists the payload's window (likewise continued when it is this job's);
 * - 'initial' and 'incremental' continue any listing under way, else sync incrementally from the
 *   token, else backfill.
 */
async function plan(context: SyncContext, cursor: CalendarCursor, jobId: number): Promise<{ cursor: CalendarCursor; listing: Listing }> {
  const { payload } = context;
  const pending = cursor.listing;
  if (payload.mode === 'full') {
    if (pending?.kind === 'full' && pending.reason === 'full' && pending.jobId === jobId) return { cursor, listing: pending };
    return { cursor: withoutSyncToken(cursor), listing: await newFullListing(context, jobId, 'full', configuredWindow()) };
  }
  if (payload.mode === 'date_range') {
    if (pending?.kind === 'full' && pending.reason === 'date_range' && pending.jobId === jobId) return { cursor, listing: pending };
    return { cursor, listing: await newFullListing(context, jobId, 'date_range', payloadWindow(payload.startDate, payload.endDate)) };
  }
  if (pending) return { cursor, listing: pending };
  if (cursor.syncToken) return { cursor, listing: { kind: 'incremental', jobId, pages: 0, records: 0 } };
  return { cursor, listing: await newFullListing(context, jobId, 'backfill', configuredWindow()) };
}

async function newFullListing(
  context: SyncContext,
  jobId: number,
  reason: FullListing['reason'],
  window: { timeMin: string; timeMax: string },
): Promise<FullListing> {
  // The database's clock, as text to keep its microseconds: rows this listing writes get a later
  // updated_at (their transactions start after this statement), rows it does not write keep an earlier one.
  const result = await context.db.execute(sql`SELECT now()::text AS now`);
  const sweepSince = (result.rows as { now: string }[])[0]!.now;
  return { kind: 'full', reason, jobId, ...window, sweepSince, pages: 0, records: 0 };
}

function restartListing(listing: Listing): Listing {
  const { pageToken: _dropped, ...rest } = listing;
  return { ...rest, pages: 0, records: 0 };
}

function withoutSyncToken(cursor: CalendarCursor): CalendarCursor {
  const { syncToken: _dropped, listing: _listing, ...rest } = cursor;
  return rest;
}

function completeFullListing(cursor: CalendarCursor, listing: FullListing, nextSyncToken: string): CalendarCursor {
  if (listing.reason === 'date_range') {
    // Its token would vouch for changes outside its window too, which it never listed: the position
    // stays what it was (none before the first backfill, which then still runs).
    const { listing: _done, ...rest } = cursor;
    return rest;
  }
  return {
    v: 1,
    syncToken: nextSyncToken,
    lastFullSync: { timeMin: listing.timeMin, timeMax: listing.timeMax, completedAt: new Date().toISOString() },
  };
}

/** One events.list page: paced (1 request of the user's Calendar budget), under the provider policy. */
function listPage(
  context: SyncContext,
  listing: Listing,
  syncToken: string | undefined,
  pageSize: number,
  calendarId: string,
): Promise<calendar_v3.Schema$Events> {
  const params: calendar_v3.Params$Resource$Events$List = { calendarId, singleEvents: true, maxResults: pageSize };
  if (listing.kind === 'full') {
    params.timeMin = listing.timeMin;
    params.timeMax = listing.timeMax;
  } else {
    // Google refuses timeMin/timeMax with a sync token; an incremental listing sees cancellations too.
    if (!syncToken) throw new SyncError('incremental calendar listing without a sync token');
    params.syncToken = syncToken;
  }
  if (listing.pageToken) params.pageToken = listing.pageToken;
  return context.request(1, async (accessToken, signal) => {
    try {
      const response = await calendarApi().events.list(params, googleRequestOptions(accessToken, signal));
      return response.data;
    } catch (error) {
      throw googleError('calendar', error);
    }
  });
}

/** The configured window, in whole UTC days: from the start of today minus DAYS_BACK to the end of today plus DAYS_AHEAD. */
export function configuredWindow(now = Date.now()): { timeMin: string; timeMax: string } {
  const settings = config();
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return {
    timeMin: new Date(today - settings.CALENDAR_BACKFILL_DAYS_BACK * DAY_MS).toISOString(),
    timeMax: new Date(today + (settings.CALENDAR_BACKFILL_DAYS_AHEAD + 1) * DAY_MS).toISOString(),
  };
}

/**
 * A 'date_range' window: startDate/endDate as dates (YYYY-MM-DD, UTC, endDate inclusive) or RFC 3339
 * instants; a missing bound is the configured one.
 */
export function payloadWindow(startDate: string | undefined, endDate: string | undefined, now = Date.now()): { timeMin: string; timeMax: string } {
  const configured = configuredWindow(now);
  const { start, end } = dateRangeBounds(startDate, endDate);
  const min = start ?? Date.parse(configured.timeMin);
  const max = end ?? Date.parse(configured.timeMax);
  if (max <= min) throw new SyncError(`date_range endDate must be after startDate (${startDate} .. ${endDate})`);
  return { timeMin: new Date(min).toISOString(), timeMax: new Date(max).toISOString() };
}

function phaseOf(listing: Listing): SyncProgress['phase'] {
  if (listing.kind === 'incremental') return 'incremental';
  return listing.reason === 'backfill' || listing.reason === 'date_range' ? 'backfill' : 'full_resync';
}

function describe(listing: Listing): string {
  return listing.kind === 'incremental' ? 'incremental' : `${listing.reason} ${listing.timeMin}..${listing.timeMax}`;
}
