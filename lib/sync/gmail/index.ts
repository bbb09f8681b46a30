import { dateRangeBounds } from '../streams';
import type { gmail_v1 } from '@googleapis/gmail';
import pLimit from 'p-limit';
import { config } from '../../config';
import { DeferJobError, PermanentJobError } from '../../jobs/errors';
import { ProviderError } from '../../providers/errors';
import type { ProviderSync, SyncContext, SyncOutcome, SyncProgress } from '../context';
import { GMAIL_MAX_PAGE, getProfile, getThread, listHistory, listThreads } from './api';
import { classifyMessage, classifyThread } from './classify';
import { loadCursor, saveCursorIfUnchanged, type GmailCursor, type Listing, type ListingReason } from './cursor';
import { normalizeMessage } from './message';
import { applyHistory, databaseNow, storeThreads, unlistedThreads, type FetchedThread, type HistoryChanges } from './store';

export type { GmailCursor } from './cursor';

export interface GmailSyncOptions {
  /** Threads of the first backfill (default GMAIL_BACKFILL_THREADS). */
  backfillThreads?: number;
  /** threads.get calls in flight (default GMAIL_FETCH_CONCURRENCY). */
  concurrency?: number;
  /** history.list maxResults (default 500, Gmail's largest: a page costs 2 units whatever its size). */
  historyPageSize?: number;
  /** Fetched threads stored per transaction (default 25). */
  batchSize?: number;
}

const DEFAULT_BATCH = 25;

/**
 * Gmail sync of one connection's mailbox (stream 'threads'):
 *
 * - backfill (first sync): getProfile's historyId is taken first, then threads.list pages (newest
 *   first) up to GMAIL_BACKFILL_THREADS threads, each thread fetched whole (threads.get, format=full)
 *   in parallel, bounded, and stored with its messages. The historyId becomes the incremental position
 *   only when the backfill is complete, so every change made while it ran is replayed from history.
 * - 'full' mode (and a history 404): the same listing over every thread; at its end the live threads
 *   it did not list are checked one by one (threads.get: 404 means deleted).
 * - incremental: history.list from the stored historyId, page by page. Deletions and label changes are
 *   applied to the stored messages directly; threads with new mail are fetched and stored.
 *
 * Every provider call goes through `context.request` at Gmail's unit cost, paced under the user's
 * per-minute quota. Each batch of threads is stored in one transaction with the cursor that accounts
 * for it (./cursor.ts), so a crash, a retry or a checkpoint (`context.deadline` passed) resumes with
 * exactly the threads not stored yet.
 */
export function createGmailSync(options: GmailSyncOptions = {}): ProviderSync {
  return (context) => new GmailRun(context, options).run();
}

/** The sync the `sync.gmail` job runs. */
export const syncGmail: ProviderSync = createGmailSync();

class GmailRun {
  private cursor: GmailCursor = { v: 1 };
  /** What the stored cursor is: every save is conditional on it. */
  private expected: unknown = null;
  private records = 0;
  private restartedListing = false;
  private readonly backfillThreads: number;
  private readonly concurrency: number;
  private readonly historyPageSize: number;
  private readonly batchSize: number;

  constructor(
    private readonly context: SyncContext,
    options: GmailSyncOptions,
  ) {
    const settings = config();
    this.backfillThreads = options.backfillThreads ?? settings.GMAIL_BACKFILL_THREADS;
    this.concurrency = options.concurrency ?? settings.GMAIL_FETCH_CONCURRENCY;
    this.historyPageSize = Math.min(GMAIL_MAX_PAGE, options.historyPageSize ?? GMAIL_MAX_PAGE);
    this.batchSize = options.batchSize ?? DEFAULT_BATCH;
  }

  async run(): Promise<SyncOutcome> {
    const { db, connection, stream, logger } = this.context;
    if (Date.now() > this.context.deadline) {
      // Claimed again after a checkpoint, too late in the pass to do anything: come back after it, so
      // the job neither spins through this pass nor calls Gmail with a fresh quota burst each time.
      const after = new Date(Date.now() + this.context.job.timeLeftMs() + 1_000);
      throw new DeferJobError(after, 'too little time left in this runner pass');
    }
    const stored = await loadCursor(db, connection.id, stream);
    if (stored.unreadable) logger.warn('gmail cursor unreadable (older format?): backfilling afresh');
    this.expected = stored.raw;
    this.cursor = stored.cursor ?? { v: 1 };
    await this.plan();
    logger.info({ mode: this.context.payload.mode, phase: this.phase(), pending: this.cursor.pending?.length ?? 0 }, 'gmail sync starting');

    let caughtUp = false;
    while (true) {
      if (this.cursor.pending?.length) {
        if ((await this.drainPending()) === 'checkpoint') return this.checkpoint();
        continue;
      }
      const listing = this.cursor.listing;
      if (listing) {
        if (!listing.exhausted) {
          if (this.outOfTime()) return this.checkpoint();
          await this.listPage(listing);
        } else if (needsSweep(listing) && !listing.swept) {
          await this.queueUnlisted(listing);
        } else {
          await this.completeListing(listing);
        }
        continue;
      }
      // A date_range job on a stream never backfilled has no history position: nothing more to do.
      if (caughtUp || !this.cursor.historyId) return this.done();
      if (this.outOfTime()) return this.checkpoint();
      caughtUp = !(await this.historyPage(this.cursor.historyId));
    }
  }

  /**
   * What this run does, from the payload's mode and the stored cursor:
   * - 'full' lists every thread again (continuing its own listing after a checkpoint; a retry or rerun
   *   of a 'full' job whose listing completed syncs incrementally instead);
   * - 'date_range' lists the threads of the window, likewise;
   * - 'initial' and 'incremental' continue any listing under way, else sync from the history
   *   position, else backfill.
   */
  private async plan(): Promise<void> {
    const { payload } = this.context;
    const jobId = this.context.job.job.id;
    const { listing, completed } = this.cursor;
    if (payload.mode === 'full' || payload.mode === 'date_range') {
      const reason: ListingReason = payload.mode;
      if (listing?.reason === reason && listing.jobId === jobId) return;
      if (completed?.reason === reason && completed.jobId === jobId) return;
      await this.startListing(reason);
      return;
    }
    if (listing || this.cursor.historyId) return;
    await this.startListing('backfill');
  }

  private async startListing(reason: ListingReason): Promise<void> {
    const { db, connection, payload } = this.context;
    const q = reason === 'date_range' ? dateRangeQuery(payload.startDate, payload.endDate) : undefined;
    // Before the first threads.list: a change made while the listing runs has a later history record.
    const profile = await getProfile(this.context);
    const startHistoryId = profile.historyId ?? '';
    if (!/^\d+$/.test(startHistoryId)) throw new ProviderError('gmail', 200, 'gmail getProfile returned no historyId');
    const everything = reason === 'full' || reason === 'history_expired';
    const limit = reason === 'backfill' ? this.backfillThreads : null;
    const threadsTotal = typeof profile.threadsTotal === 'number' ? profile.threadsTotal : null;
    const listing: Listing = {
      reason,
      jobId: this.context.job.job.id,
      startHistoryId,
      limit,
      ...(q ? { q } : {}),
      exhausted: false,
      ...(everything ? { sweepSince: await databaseNow(db) } : {}),
      swept: false,
      listed: 0,
      pages: 0,
      records: 0,
      estimatedTotal: q ? null : limit !== null && threadsTotal !== null ? Math.min(limit, threadsTotal) : (limit ?? threadsTotal),
    };
    // A resync replaces the history position (it is re-established from startHistoryId at the end) and
    // covers whatever was pending; a backfill or a date range keeps both.
    const { historyId, pending, completed } = this.cursor;
    this.cursor = {
      v: 1,
      ...(!everything && historyId ? { historyId } : {}),
      ...(!everything && pending?.length ? { pending } : {}),
      listing,
      ...(completed ? { completed } : {}),
    };
    this.context.logger.info({ reason, startHistoryId, limit, q, connectionId: connection.id }, 'gmail listing started');
  }

  /** One threads.list page: its threads become `pending`, saved with the position of the next page. */
  private async listPage(listing: Listing): Promise<void> {
    const room = listing.limit === null ? GMAIL_MAX_PAGE : Math.min(GMAIL_MAX_PAGE, listing.limit - listing.listed);
    let page: gmail_v1.Schema$ListThreadsResponse;
    try {
      page = await listThreads(this.context, {
        maxResults: room,
        ...(listing.nextPageToken ? { pageToken: listing.nextPageToken } : {}),
        ...(listing.q ? { q: listing.q } : {}),
      });
    } catch (error) {
      if (error instanceof ProviderError && error.status === 400 && listing.nextPageToken && !this.restartedListing) {
        // A saved page token Gmail no longer accepts: list again from the first page. Threads already
        // stored are fetched again; nothing is skipped.
        this.restartedListing = true;
        this.context.logger.warn({ err: error }, 'gmail page token refused: restarting the listing from its first page');
        const { nextPageToken: _dropped, ...rest } = listing;
        this.cursor = { ...this.cursor, listing: { ...rest, listed: 0 } };
        return;
      }
      throw error;
    }
    const ids = [...new Set((page.threads ?? []).map((t) => t.id).filter((id): id is string => typeof id === 'string' && id !== ''))].slice(0, room);
    const listed = listing.listed + ids.length;
    const exhausted = !page.nextPageToken || ids.length === 0 || (listing.limit !== null && listed >= listing.limit);
    const estimate = typeof page.resultSizeEstimate === 'number' ? page.resultSizeEstimate : null;
    const { nextPageToken: _previous, ...rest } = listing;
    const next: GmailCursor = {
      ...this.cursor,
      pending: union(this.cursor.pending, ids),
      listing: {
        ...rest,
        ...(exhausted ? {} : { nextPageToken: page.nextPageToken! }),
        exhausted,
        listed,
        pages: listing.pages + 1,
        estimatedTotal: listing.limit !== null ? Math.min(listing.limit, estimate ?? listing.limit) : (estimate ?? listing.estimatedTotal),
      },
    };
    await this.save(next);
    await this.reportProgress();
  }

  /** End of a full listing: the live threads it did not write are checked one by one. */
  private async queueUnlisted(listing: Listing): Promise<void> {
    const unlisted = await unlistedThreads(this.context.db, this.context.connection.id, listing.sweepSince!);
    if (unlisted.length > 0) {
      this.context.logger.info({ threads: unlisted.length }, 'gmail resync: checking threads the listing did not return');
    }
    await this.save({ ...this.cursor, ...(unlisted.length ? { pending: unlisted } : {}), listing: { ...listing, swept: true } });
  }

  private async completeListing(listing: Listing): Promise<void> {
    // A date range does not vouch for the rest of the mailbox: an existing position stays. Without one
    // the stream was never backfilled, and a later initial/incremental sync will backfill it.
    const historyId = listing.reason === 'date_range' ? this.cursor.historyId : listing.startHistoryId;
    await this.save({
      v: 1,
      ...(historyId ? { historyId } : {}),
      completed: { jobId: listing.jobId, reason: listing.reason, at: new Date().toISOString() },
    });
    this.context.logger.info(
      { reason: listing.reason, threads: listing.records, pages: listing.pages, historyId },
      'gmail listing complete',
    );
  }

  /**
   * One history.list page from `startHistoryId`: deletions and label changes applied, threads with new
   * mail made pending, the position moved past the page, in one transaction. Returns whether more
   * history follows. A 404 (the id is older than what Gmail keeps) starts a full resync.
   */
  private async historyPage(startHistoryId: string): Promise<boolean> {
    const { db, connection, stream, logger } = this.context;
    let page: gmail_v1.Schema$ListHistoryResponse;
    try {
      page = await listHistory(this.context, { startHistoryId, maxResults: this.historyPageSize });
    } catch (error) {
      if (error instanceof ProviderError && error.status === 404) {
        logger.warn(
          { historyId: startHistoryId },
          'gmail history.list answered 404: the stored historyId is older than the history Gmail keeps; full resync',
        );
        await this.startListing('history_expired');
        return true;
      }
      throw error;
    }
    const records = [...(page.history ?? [])].sort((a, b) => compareIds(a.id, b.id));
    const added = new Set<string>();
    const changes: HistoryChanges = { deletedMessageIds: [], labelChanges: [] };
    for (const record of records) {
      const historyId = record.id ?? startHistoryId;
      for (const item of record.messagesAdded ?? []) if (item.message?.threadId) added.add(item.message.threadId);
      for (const item of record.messagesDeleted ?? []) if (item.message?.id) changes.deletedMessageIds.push(item.message.id);
      for (const item of record.labelsAdded ?? []) {
        if (item.message?.id) changes.labelChanges.push({ historyId, messageId: item.message.id, added: item.labelIds ?? [], removed: [] });
      }
      for (const item of record.labelsRemoved ?? []) {
        if (item.message?.id) changes.labelChanges.push({ historyId, messageId: item.message.id, added: [], removed: item.labelIds ?? [] });
      }
    }
    const lastRecord = records.at(-1)?.id ?? undefined;
    const more = Boolean(page.nextPageToken) && lastRecord !== undefined;
    // Within the history: just past this page's last record. At its end: the mailbox's current id.
    const nextHistoryId = more ? lastRecord! : maxId(startHistoryId, lastRecord, page.historyId);
    if (records.length === 0 && nextHistoryId === startHistoryId) return false;

    const next: GmailCursor = { ...this.cursor, historyId: nextHistoryId, pending: union(this.cursor.pending, [...added]) };
    const applied = await db.transaction(async (tx) => {
      const result = await applyHistory(tx, connection, changes);
      await saveCursorIfUnchanged(tx, connection.id, stream, this.expected, next);
      return result;
    });
    this.accept(next);
    this.records += applied.deleted + applied.relabelled;
    logger.debug({ records: records.length, newMailThreads: added.size, ...applied, historyId: nextHistoryId }, 'gmail history page applied');
    await this.reportProgress();
    return more;
  }

  /**
   * Fetches the pending threads in parallel (bounded) and stores them in batches as they arrive, each
   * batch with the cursor that no longer lists them. Stops starting fetches past the deadline; after a
   * failure it stores what was fetched, then rethrows.
   */
  private async drainPending(): Promise<'done' | 'checkpoint'> {
    const ids = [...(this.cursor.pending ?? [])];
    const limit = pLimit(this.concurrency);
    const ready: FetchedThread[] = [];
    // A failed fetch stops new fetches, but what was fetched is still stored; a failed write stops both.
    let fetchFailure: { error: unknown } | null = null;
    let writeFailure: { error: unknown } | null = null;
    let outOfTime = false;
    let writes: Promise<void> = Promise.resolve();
    const flush = () => {
      if (ready.length === 0) return;
      const batch = ready.splice(0, ready.length);
      writes = writes.then(async () => {
        if (writeFailure) return;
        try {
          await this.storeBatch(batch);
        } catch (error) {
          writeFailure = { error };
        }
      });
    };
    await Promise.all(
      ids.map((id) =>
        limit(async () => {
          if (fetchFailure || writeFailure || outOfTime) return;
          if (Date.now() > this.context.deadline) {
            outOfTime = true;
            return;
          }
          try {
            ready.push(await this.fetchThread(id));
            if (ready.length >= this.batchSize) flush();
          } catch (error) {
            fetchFailure ??= { error };
          }
        }),
      ),
    );
    flush();
    await writes;
    const failure = (writeFailure ?? fetchFailure) as { error: unknown } | null;
    if (failure) throw failure.error;
    return outOfTime ? 'checkpoint' : 'done';
  }

  private async fetchThread(id: string): Promise<FetchedThread> {
    let thread: gmail_v1.Schema$Thread;
    try {
      thread = await getThread(this.context, id);
    } catch (error) {
      if (error instanceof ProviderError && error.status === 404) return { id, gone: true };
      throw error;
    }
    const messages = (thread.messages ?? [])
      // Drafts are not mail yet (and Gmail replaces one with a new message on every autosave).
      .filter((m) => !(m.labelIds ?? []).includes('DRAFT'))
      .map((m) => normalizeMessage(m))
      .filter((m) => m.providerMessageId !== '')
      .sort((a, b) => a.internalDate.getTime() - b.internalDate.getTime() || compareIds(a.providerMessageId, b.providerMessageId));
    if (messages.length === 0) return { id, gone: true };
    return {
      id,
      gone: false,
      historyId: thread.historyId ?? null,
      messages,
      classification: classifyThread(messages),
      categories: messages.map((m) => classifyMessage(m)),
    };
  }

  private async storeBatch(batch: FetchedThread[]): Promise<void> {
    const { db, connection, stream } = this.context;
    const stored = new Set(batch.map((t) => t.id));
    const rest = (this.cursor.pending ?? []).filter((id) => !stored.has(id));
    const { pending: _pending, ...base } = this.cursor;
    const listing = this.cursor.listing;
    const next: GmailCursor = {
      ...base,
      ...(rest.length ? { pending: rest } : {}),
      ...(listing ? { listing: { ...listing, records: listing.records + batch.length } } : {}),
    };
    await db.transaction(async (tx) => {
      await storeThreads(tx, connection, batch, { syncedBy: listing ? listing.reason : 'history' });
      await saveCursorIfUnchanged(tx, connection.id, stream, this.expected, next);
    });
    this.accept(next);
    this.records += batch.length;
    await this.reportProgress();
  }

  private async save(next: GmailCursor): Promise<void> {
    const { db, connection, stream } = this.context;
    await saveCursorIfUnchanged(db, connection.id, stream, this.expected, next);
    this.accept(next);
  }

  private accept(next: GmailCursor): void {
    this.cursor = next;
    this.expected = next;
  }

  private outOfTime(): boolean {
    return Date.now() > this.context.deadline;
  }

  private phase(): SyncProgress['phase'] {
    const listing = this.cursor.listing;
    if (!listing) return 'incremental';
    return listing.reason === 'backfill' || listing.reason === 'date_range' ? 'backfill' : 'full_resync';
  }

  private async reportProgress(): Promise<void> {
    const listing = this.cursor.listing;
    await this.context.progress({
      phase: this.phase(),
      pages: listing?.pages ?? 0,
      records: listing?.records ?? this.records,
      estimatedTotal: listing?.estimatedTotal ?? null,
      detail: listing ? `${listing.reason}: ${listing.listed} threads listed, ${this.cursor.pending?.length ?? 0} to fetch` : `history at ${this.cursor.historyId}`,
    });
  }

  private async checkpoint(): Promise<SyncOutcome> {
    this.context.logger.info({ records: this.records, pending: this.cursor.pending?.length ?? 0 }, 'gmail sync checkpointed: time budget used');
    return { status: 'checkpoint', records: this.records };
  }

  private async done(): Promise<SyncOutcome> {
    await this.context.progress({ phase: 'done', pages: 0, records: this.records, estimatedTotal: null, detail: `history at ${this.cursor.historyId}` });
    this.context.logger.info({ records: this.records, historyId: this.cursor.historyId }, 'gmail sync done');
    return { status: 'done', records: this.records };
  }
}

function needsSweep(listing: Listing): boolean {
  return listing.sweepSince !== undefined;
}

function union(existing: string[] | undefined, more: string[]): string[] {
  return [...new Set([...(existing ?? []), ...more])];
}

/** Gmail ids (history ids: decimal; message ids: hex) compare by length, then text. */
function compareIds(a: string | null | undefined, b: string | null | undefined): number {
  const x = a ?? '';
  const y = b ?? '';
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}

function maxId(...ids: Array<string | null | undefined>): string {
  return ids.filter((id): id is string => typeof id === 'string' && /^\d+$/.test(id)).reduce((a, b) => (compareIds(a, b) >= 0 ? a : b));
}

/**
 * A 'date_range' job's Gmail query: after:/before: in epoch seconds (Gmail's exact form). startDate
 * and endDate are dates (YYYY-MM-DD, UTC, endDate inclusive) or RFC 3339 instants; either may be absent.
 */
export function dateRangeQuery(startDate: string | undefined, endDate: string | undefined): string {
  const { start: after, end: before } = dateRangeBounds(startDate, endDate);
  if (after === undefined && before === undefined) throw new PermanentJobError('a date_range sync needs startDate or endDate');
  return [
    ...(after !== undefined ? [`after:${Math.floor(after / 1000)}`] : []),
    ...(before !== undefined ? [`before:${Math.ceil(before / 1000)}`] : []),
  ].join(' ');
}
