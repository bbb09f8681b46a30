import { dateRangeBounds } from '../streams';
import type { gmail_v1 } from '@googleapis/gmail';
import pLimit from 'p-limit';
import { config } from '../../config';
import { SyncError } from '../engine/errors';
import { ProviderError } from '../../providers/errors';
import type { RunTotals, StreamSync, SyncContext, SyncPage, SyncProgress, Walk } from '../engine/types';
import { GMAIL_MAX_PAGE, getProfile, getThread, listHistory, listThreads } from './api';
import { classifyMessage, classifyThread } from './classify';
import { gmailCursorSchema, type GmailCursor, type Listing, type ListingReason } from './cursor';
import { normalizeMessage } from './message';
import { applyHistory, databaseNow, storeThreads, unlistedThreads, type FetchedThread, type HistoryChanges } from './store';

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

/** What a Gmail page stores: fetched threads, or a history page's deletions and label changes. */
export type GmailPageRecords =
  | { kind: 'threads'; threads: FetchedThread[]; syncedBy: ListingReason | 'history' }
  | { kind: 'history'; changes: HistoryChanges; historyId: string; newMailThreads: number };

type GmailPage = SyncPage<GmailCursor, GmailPageRecords>;

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
 * per-minute quota. The engine stores each batch of threads in one transaction with the cursor that
 * accounts for it (./cursor.ts), so a crash, a retry or a checkpoint resumes with exactly the threads
 * not stored yet.
 */
export function createGmailSync(options: GmailSyncOptions = {}): StreamSync<GmailCursor, GmailPageRecords> {
  return {
    cursor: gmailCursorSchema,
    initialCursor: { v: 1 },
    async start(context, stored) {
      const walk = new GmailWalk(context, stored, options);
      await walk.plan();
      return walk;
    },
    async store(tx, context, records) {
      if (records.kind === 'threads') {
        await storeThreads(tx, context.connection, records.threads, { syncedBy: records.syncedBy });
        return records.threads.length;
      }
      const applied = await applyHistory(tx, context.connection, records.changes);
      context.logger.debug({ newMailThreads: records.newMailThreads, ...applied, historyId: records.historyId }, 'gmail history page applied');
      return applied.deleted + applied.relabelled;
    },
  };
}

/** The sync the `sync.gmail` job runs. */
export const syncGmail = createGmailSync();

/**
 * One run through the mailbox. Its steps, in order of precedence: fetch the pending threads, list the
 * next page of a listing under way (then sweep and complete it), else follow the history.
 */
class GmailWalk implements Walk<GmailCursor, GmailPageRecords> {
  private restartedListing = false;
  /** history.list said this run has seen all there is: once the pending threads are stored, it is done. */
  private caughtUp = false;
  private readonly backfillThreads: number;
  private readonly concurrency: number;
  private readonly historyPageSize: number;
  private readonly batchSize: number;

  constructor(
    private readonly context: SyncContext,
    public cursor: GmailCursor,
    options: GmailSyncOptions,
  ) {
    const settings = config();
    this.backfillThreads = options.backfillThreads ?? settings.GMAIL_BACKFILL_THREADS;
    this.concurrency = options.concurrency ?? settings.GMAIL_FETCH_CONCURRENCY;
    this.historyPageSize = Math.min(GMAIL_MAX_PAGE, options.historyPageSize ?? GMAIL_MAX_PAGE);
    this.batchSize = options.batchSize ?? DEFAULT_BATCH;
  }

  describe() {
    return { phase: this.phase(), pending: this.cursor.pending?.length ?? 0, historyId: this.cursor.historyId ?? null };
  }

  async next(): Promise<GmailPage | AsyncIterable<GmailPage>> {
    if (this.cursor.pending?.length) return this.drainPending();
    const listing = this.cursor.listing;
    if (listing) {
      if (!listing.exhausted) return this.listPage(listing);
      if (needsSweep(listing) && !listing.swept) return this.queueUnlisted(listing);
      return this.completeListing(listing);
    }
    // A date_range job on a stream never backfilled has no history position: nothing more to do.
    if (this.caughtUp || !this.cursor.historyId) return this.caughtUpPage();
    return this.historyPage(this.cursor.historyId);
  }

  /**
   * What this run does, from the payload's mode and the stored cursor:
   * - 'full' lists every thread again (continuing its own listing after a checkpoint; a retry or rerun
   *   of a 'full' job whose listing completed syncs incrementally instead);
   * - 'date_range' lists the threads of the window, likewise;
   * - 'initial' and 'incremental' continue any listing under way, else sync from the history
   *   position, else backfill.
   */
  async plan(): Promise<void> {
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

  /** A new listing in this run's cursor (saved with its first page). */
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
  private async listPage(listing: Listing): Promise<GmailPage> {
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
        return this.listPage(this.cursor.listing!);
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
    return { records: null, cursor: next, progress: (run) => this.progress(run) };
  }

  /** End of a full listing: the live threads it did not write are checked one by one. */
  private async queueUnlisted(listing: Listing): Promise<GmailPage> {
    const unlisted = await unlistedThreads(this.context.db, this.context.connection.id, listing.sweepSince!);
    if (unlisted.length > 0) {
      this.context.logger.info({ threads: unlisted.length }, 'gmail resync: checking threads the listing did not return');
    }
    return { records: null, cursor: { ...this.cursor, ...(unlisted.length ? { pending: unlisted } : {}), listing: { ...listing, swept: true } } };
  }

  private completeListing(listing: Listing): GmailPage {
    // A date range does not vouch for the rest of the mailbox: an existing position stays. Without one
    // the stream was never backfilled, and a later initial/incremental sync will backfill it.
    const historyId = listing.reason === 'date_range' ? this.cursor.historyId : listing.startHistoryId;
    this.context.logger.info({ reason: listing.reason, threads: listing.records, pages: listing.pages, historyId }, 'gmail listing complete');
    const cursor: GmailCursor = {
      v: 1,
      ...(historyId ? { historyId } : {}),
      completed: { jobId: listing.jobId, reason: listing.reason, at: new Date().toISOString() },
    };
    // Without a history position there is nothing to follow: the run is done.
    return historyId ? { records: null, cursor } : { records: null, cursor, last: true, progress: (run) => this.doneProgress(run) };
  }

  /**
   * One history.list page from `startHistoryId`: deletions and label changes applied, threads with new
   * mail made pending, the position moved past the page, in one transaction. A 404 (the id is older
   * than what Gmail keeps) starts a full resync.
   */
  private async historyPage(startHistoryId: string): Promise<GmailPage> {
    let page: gmail_v1.Schema$ListHistoryResponse;
    try {
      page = await listHistory(this.context, { startHistoryId, maxResults: this.historyPageSize });
    } catch (error) {
      if (error instanceof ProviderError && error.status === 404) {
        this.context.logger.warn(
          { historyId: startHistoryId },
          'gmail history.list answered 404: the stored historyId is older than the history Gmail keeps; full resync',
        );
        await this.startListing('history_expired');
        return this.listPage(this.cursor.listing!);
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
    if (records.length === 0 && nextHistoryId === startHistoryId) return this.caughtUpPage();

    this.caughtUp = !more;
    const last = !more && added.size === 0;
    return {
      records: { kind: 'history', changes, historyId: nextHistoryId, newMailThreads: added.size },
      cursor: { ...this.cursor, historyId: nextHistoryId, pending: union(this.cursor.pending, [...added]) },
      last,
      progress: (run) => (last ? this.doneProgress(run) : this.progress(run)),
    };
  }

  /** Nothing more to fetch: the run is done (nothing to save). */
  private caughtUpPage(): GmailPage {
    return { records: null, cursor: this.cursor, last: true, progress: (run) => this.doneProgress(run) };
  }

  /**
   * Fetches the pending threads in parallel (bounded) and hands them to the engine in batches as they
   * arrive, each batch with the cursor that no longer lists them. Stops starting fetches past the
   * deadline; after a failed fetch it hands over what was fetched, then rethrows; after a failed write
   * it starts no more fetches.
   */
  private async *drainPending(): AsyncGenerator<GmailPage> {
    const ids = [...(this.cursor.pending ?? [])];
    const limit = pLimit(this.concurrency);
    const ready: FetchedThread[] = [];
    let fetchFailure: { error: unknown } | null = null;
    let stopped = false;
    let outOfTime = false;
    let settled = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    // Fetches run at most one batch ahead of the one being stored: what is fetched and not yet stored
    // is fetched again after a crash, and held in memory until then.
    let roomWaiters: (() => void)[] = [];
    const freeRoom = () => {
      const waiters = roomWaiters;
      roomWaiters = [];
      for (const resume of waiters) resume();
    };
    const fetches = Promise.all(
      ids.map((id) =>
        limit(async () => {
          while (ready.length >= this.batchSize && !fetchFailure && !stopped) await new Promise<void>((resume) => roomWaiters.push(resume));
          if (fetchFailure || stopped || outOfTime) return;
          if (this.context.outOfTime()) {
            outOfTime = true;
            return;
          }
          try {
            ready.push(await this.fetchThread(id));
          } catch (error) {
            fetchFailure ??= { error };
          }
          notify();
        }),
      ),
    ).then(() => {
      settled = true;
      notify();
    });
    try {
      while (true) {
        if (ready.length >= this.batchSize || (settled && ready.length > 0)) {
          const batch = ready.splice(0, ready.length);
          freeRoom();
          yield this.batchPage(batch);
        } else if (settled) {
          break;
        } else {
          await new Promise<void>((resolve) => (wake = resolve));
        }
      }
    } finally {
      // The engine stopped taking batches (a write failed): no new fetches, and none left running.
      stopped = true;
      freeRoom();
      await fetches;
    }
    if (fetchFailure) throw (fetchFailure as { error: unknown }).error;
    if (this.caughtUp && !outOfTime) yield this.caughtUpPage();
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

  /** A batch of fetched threads, with the cursor (as it is once the previous batch is stored) that no longer lists them. */
  private batchPage(batch: FetchedThread[]): GmailPage {
    const stored = new Set(batch.map((t) => t.id));
    const rest = (this.cursor.pending ?? []).filter((id) => !stored.has(id));
    const { pending: _pending, ...base } = this.cursor;
    const listing = this.cursor.listing;
    return {
      records: { kind: 'threads', threads: batch, syncedBy: listing ? listing.reason : 'history' },
      cursor: {
        ...base,
        ...(rest.length ? { pending: rest } : {}),
        ...(listing ? { listing: { ...listing, records: listing.records + batch.length } } : {}),
      },
      progress: (run) => this.progress(run),
    };
  }

  private phase(): SyncProgress['phase'] {
    const listing = this.cursor.listing;
    if (!listing) return 'incremental';
    return listing.reason === 'backfill' || listing.reason === 'date_range' ? 'backfill' : 'full_resync';
  }

  private progress(run: RunTotals): SyncProgress {
    const listing = this.cursor.listing;
    return {
      phase: this.phase(),
      pages: listing?.pages ?? 0,
      records: listing?.records ?? run.records,
      estimatedTotal: listing?.estimatedTotal ?? null,
      detail: listing ? `${listing.reason}: ${listing.listed} threads listed, ${this.cursor.pending?.length ?? 0} to fetch` : `history at ${this.cursor.historyId}`,
    };
  }

  private doneProgress(run: RunTotals): SyncProgress {
    return { phase: 'done', pages: 0, records: run.records, estimatedTotal: null, detail: `history at ${this.cursor.historyId}` };
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
  if (after === undefined && before === undefined) throw new SyncError('a date_range sync needs startDate or endDate');
  return [
    ...(after !== undefined ? [`after:${Math.floor(after / 1000)}`] : []),
    ...(before !== undefined ? [`before:${Math.ceil(before / 1000)}`] : []),
  ].join(' ');
}
