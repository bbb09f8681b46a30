import { dateRangeBounds } from '../streams';
import { sql } from 'drizzle-orm';
import { config } from '../../config';
import type { CrmObject } from '../../../db/schema';
import { SyncError } from '../engine/errors';
import { ProviderError } from '../../providers/errors';
import { salesforceConnection, salesforceError } from '../../providers/salesforce';
import type { StreamSync, SyncContext, SyncPage, SyncProgress, Walk } from '../engine/types';
import { salesforceCursorSchema, type FullListing, type RangeListing, type SalesforceCursor } from './cursor';
import { crmObjectOf, toCrmRow } from './objects';
import { keysetQuery, remainingCountQuery, type KeysetPosition, type ModstampWindow } from './soql';
import { storePage, type PageWrite } from './store';

/** Rows per keyset query (SOQL LIMIT): Salesforce's largest query batch, so a query is one response. */
export const SALESFORCE_PAGE_SIZE = 2000;

export interface SalesforceSyncOptions {
  /** SOQL LIMIT of each keyset query (default 2000). */
  pageSize?: number;
  /**
   * Sforce-Query-Options batchSize (200..2000, default 2000): rows per response. Below pageSize, a
   * query's rows come in several responses, fetched through nextRecordsUrl (queryMore).
   */
  batchSize?: number;
  /** Seconds re-read before the cursor's second by an incremental run (default SALESFORCE_SYNC_LOOKBACK_SECONDS). */
  lookbackSeconds?: number;
}

interface QueryResponse {
  totalSize: number;
  done: boolean;
  records: Record<string, unknown>[];
  nextRecordsUrl?: string;
}

/** What this run walks: the stream's own keyset (incremental, backfill, full resync) or a date_range window. */
type Scan = { kind: 'main' } | { kind: 'range' };

/**
 * Salesforce sync of one object (the stream: Lead, Contact, Account or Opportunity), incremental by
 * SystemModstamp:
 *
 * - Every run walks keyset pages `SystemModstamp >= X AND (SystemModstamp > X OR Id > 'Y') ORDER BY
 *   SystemModstamp, Id LIMIT 2000` from the stored position (X, Y), so rows sharing a SystemModstamp
 *   across a page boundary are never skipped nor repeated. A response that does not hold the whole
 *   query (Salesforce may return smaller batches) is continued through its nextRecordsUrl (queryMore).
 * - Each response's rows are stored in one transaction together with the cursor at its last row, so
 *   the cursor never passes unsaved data, and a crash or a retry resumes right after the last stored row.
 * - Deletions come through the same walk: the queries run on queryAll, which also returns the recycle
 *   bin, and deleting a record bumps its SystemModstamp, so a deletion arrives in order with the record's
 *   other changes as a row with IsDeleted = true. The alternative, /sobjects/X/deleted, is a second
 *   feed with its own minute-granular window and cursor, an extra request on every sync, and no order
 *   relative to updates (a record deleted then restored between two syncs would be misplaced).
 *   Neither sees a record purged from the recycle bin (15 days) or hard-deleted: a 'full' resync does,
 *   by marking deleted what its listing did not return (the sweep).
 * - SystemModstamp has one-second resolution, and a transaction stamped at T can commit after rows
 *   stamped T+1 were read: a strict keyset would never see a record changed within the cursor's second
 *   with a lower Id, nor a late commit. So an incremental run's first query re-reads a window behind the
 *   cursor: from the start of the cursor's second minus `lookbackSeconds`, in the same order. What it
 *   re-reads unchanged (stored SystemModstamp and fields the same) is not written and emits nothing
 *   (see storePage), and the cursor never moves back: it is the later of the stored position and the
 *   last row read. Full listings walk from the start and do not re-read; the incremental runs after them do.
 * - Created vs updated is the upsert's `xmax = 0`: created means new to switchyard (so the backfill
 *   emits crm.<object>.created for every record it stores), and it stays right when a page is replayed.
 *
 * Modes: 'initial' backfills without a cursor and continues incrementally otherwise; 'incremental'
 * continues; 'full' discards the position and lists everything again, with the sweep at its end;
 * 'date_range' lists a SystemModstamp window (payload startDate/endDate) without moving the position.
 * The engine stores each response with its cursor, and past the run's deadline checkpoints (the cursor
 * is saved; an open query locator just expires) so that the job continues later.
 */
export function createSalesforceSync(options: SalesforceSyncOptions = {}): StreamSync<SalesforceCursor, SalesforcePageRecords> {
  const pageSize = options.pageSize ?? SALESFORCE_PAGE_SIZE;
  const batchSize = options.batchSize ?? SALESFORCE_PAGE_SIZE;
  return {
    cursor: salesforceCursorSchema,
    initialCursor: { v: 1 },
    async start(context, stored) {
      const object = crmObjectOf(context.stream);
      const planned = await plan(context, stored, context.job.job.id);
      const lookbackSeconds = options.lookbackSeconds ?? config().SALESFORCE_SYNC_LOOKBACK_SECONDS;
      return new SalesforceWalk(context, object, planned.cursor, planned.scan, pageSize, batchSize, lookbackSeconds);
    },
    async store(tx, context, records) {
      const result = await storePage(tx, { connection: context.connection, ...records });
      if (result.purged > 0) context.logger.info({ purged: result.purged }, 'salesforce records missing from a full listing: marked deleted');
      context.logger.debug({ ...result, rows: records.rows.length }, 'salesforce page stored');
      // A listing counts what it listed; an incremental walk what changed (not the window it re-read).
      return records.walk === 'incremental' ? result.created + result.updated + result.deleted : records.rows.length;
    },
  };
}

/** The sync the `sync.salesforce` job runs. */
export const syncSalesforce = createSalesforceSync();

/** What one query response stores: its rows, and at the end of a full listing the sweep. */
export type SalesforcePageRecords = Omit<PageWrite, 'connection'>;

/** One run's keyset walk: a query from the stored position, its further responses, then the next query. */
class SalesforceWalk implements Walk<SalesforceCursor, SalesforcePageRecords> {
  private readonly window: ModstampWindow;
  /** The open query's next response (its nextRecordsUrl), if it was split; else the next page is a new keyset query. */
  private continuation: string | undefined;
  /** Rows the open query has returned so far. */
  private fetched = 0;
  private estimatedTotal: number | null | undefined;
  /** Where the next keyset query starts: the last row read (the cursor itself may be later, see advance). */
  private from: KeysetPosition | undefined;
  /** The first query's re-read window start (an incremental run with a position); cleared once it is sent. */
  private rereadFrom: string | undefined;

  constructor(
    private readonly context: SyncContext,
    private readonly object: CrmObject,
    public cursor: SalesforceCursor,
    private readonly scan: Scan,
    private readonly pageSize: number,
    private readonly batchSize: number,
    lookbackSeconds: number,
  ) {
    this.window = windowOf(cursor, scan);
    this.from = positionOf(cursor, scan);
    if (scan.kind === 'main' && !cursor.listing && cursor.position) this.rereadFrom = rereadStart(cursor.position, lookbackSeconds);
  }

  describe() {
    return { object: this.object, scan: describe(this.cursor, this.scan), position: positionOf(this.cursor, this.scan) ?? null };
  }

  async next(): Promise<SyncPage<SalesforceCursor, SalesforcePageRecords>> {
    const { object, scan, cursor, pageSize } = this;
    const response = await this.fetchResponse();
    this.fetched += response.records.length;
    // The walk is over when a query had fewer rows than its LIMIT: nothing after them yet.
    const finished = response.done && this.fetched < pageSize;
    const rows = response.records.map((record) => toCrmRow(object, record));
    const lastRow = rows.at(-1);
    const last = lastRow ? { systemModstamp: lastRow.systemModstamp, id: lastRow.providerId } : undefined;
    if (last) this.from = last;
    const next = advance(cursor, scan, last, rows.length, finished);
    const sweepSince = finished && scan.kind === 'main' ? cursor.listing?.sweepSince : undefined;
    // The query reached its LIMIT (or, against the documentation, left no way on): the next query
    // starts after the last stored row.
    this.continuation = finished || response.done || !response.nextRecordsUrl ? undefined : response.nextRecordsUrl;

    const before = totalsOf(cursor, scan);
    const estimatedTotal = this.estimatedTotal;
    return {
      records:
        rows.length > 0 || next !== cursor
          ? { object, rows, walk: scan.kind === 'range' ? 'range' : cursor.listing ? 'listing' : 'incremental', ...(sweepSince !== undefined ? { sweepSince } : {}) }
          : null,
      cursor: next,
      last: finished,
      progress: (run) => {
        const totals = before ? { pages: before.pages + 1, records: before.records + rows.length } : { ...run };
        return finished
          ? { phase: 'done', ...totals, estimatedTotal: totals.records }
          : { phase: phaseOf(next, scan), ...totals, estimatedTotal: estimatedTotal ?? null, detail: describe(next, scan) };
      },
    };
  }

  /** The open query's next response, or the first response of a new keyset query from the position. */
  private async fetchResponse(): Promise<QueryResponse> {
    if (this.continuation) {
      try {
        return await query(this.context, this.continuation, this.batchSize);
      } catch (error) {
        // A locator Salesforce no longer knows (expired, or evicted by other open queries): every
        // response so far is stored with its position, so a fresh keyset query picks up from there.
        if (!(error instanceof ProviderError && error.options.reason === 'INVALID_QUERY_LOCATOR')) throw error;
        this.context.logger.warn('salesforce query locator no longer valid: querying again from the stored position');
      }
    }
    const { context, object, cursor, scan, pageSize } = this;
    // The re-read window replaces the position for the first query only: later ones go on from its last row.
    const from = this.rereadFrom ? undefined : this.from;
    const window: ModstampWindow = this.rereadFrom ? { ...this.window, start: this.rereadFrom } : this.window;
    this.rereadFrom = undefined;
    const response = await query(context, `/queryAll?q=${encodeURIComponent(keysetQuery(object, from, window, pageSize))}`, this.batchSize);
    this.fetched = 0;
    // Once per run; null (the count failed) is not asked again.
    if (this.estimatedTotal === undefined) {
      this.estimatedTotal = await estimate(context, object, from, window, response, pageSize, totalsOf(cursor, scan)?.records ?? 0);
    }
    return response;
  }
}

/**
 * One SOQL request (a query or its continuation): 1 request of the user's Salesforce budget. jsforce
 * takes no AbortSignal: when the job is aborted or the request times out, the resilience policy
 * rejects at once, and the HTTP request itself is cut by the transport's timeout (PROVIDER_TIMEOUT_MS).
 */
function query(context: SyncContext, url: string, batchSize: number): Promise<QueryResponse> {
  return context.request(1, async (accessToken) => {
    const { instanceUrl } = await context.credentials.get();
    if (!instanceUrl) throw new SyncError('the Nango connection has no instance_url: cannot reach the Salesforce org');
    const connection = salesforceConnection({ instanceUrl, accessToken });
    try {
      // conn.request with the URL Salesforce gave (jsforce's queryMore would rebuild it as /query/<locator>,
      // even for a queryAll locator).
      return await connection.request<QueryResponse>({ method: 'GET', url, headers: { 'Sforce-Query-Options': `batchSize=${batchSize}` } });
    } catch (error) {
      throw salesforceError(error, connection);
    }
  });
}

/**
 * The listing's expected size, for progress: what is done plus what is left. A first response that
 * holds its whole query says what is left; otherwise one COUNT() query does (once per run). Progress
 * is not worth failing for: a failed count leaves the estimate out.
 */
async function estimate(
  context: SyncContext,
  object: CrmObject,
  from: KeysetPosition | undefined,
  window: ModstampWindow,
  first: QueryResponse,
  pageSize: number,
  doneRecords: number,
): Promise<number | null> {
  if (first.totalSize < pageSize) return doneRecords + first.totalSize;
  try {
    const counted = await query(context, `/queryAll?q=${encodeURIComponent(remainingCountQuery(object, from, window))}`, SALESFORCE_PAGE_SIZE);
    return doneRecords + counted.totalSize;
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    context.logger.warn({ err: error }, 'salesforce COUNT() for progress failed; going on without an estimate');
    return null;
  }
}

/**
 * What this run walks, from the payload's mode and the stored cursor:
 * - 'date_range' lists the payload's window (a window this same job started is continued);
 * - 'full' discards the position and starts a listing (one this same job started is continued);
 * - 'initial' and 'incremental' continue a listing under way, else go on from the position, else
 *   start the backfill.
 */
async function plan(context: SyncContext, cursor: SalesforceCursor, jobId: number): Promise<{ cursor: SalesforceCursor; scan: Scan }> {
  const { payload } = context;
  if (payload.mode === 'date_range') {
    if (cursor.range?.jobId === jobId) return { cursor, scan: { kind: 'range' } };
    const range: RangeListing = { jobId, ...payloadWindow(payload.startDate, payload.endDate), pages: 0, records: 0 };
    return { cursor: { ...cursor, range }, scan: { kind: 'range' } };
  }
  if (payload.mode === 'full') {
    if (cursor.listing?.reason === 'full' && cursor.listing.jobId === jobId) return { cursor, scan: { kind: 'main' } };
    const { position: _discarded, ...rest } = cursor;
    return { cursor: { ...rest, listing: await newListing(context, jobId, 'full') }, scan: { kind: 'main' } };
  }
  // A finished backfill of an empty object leaves no position, only lastFullSync: it goes on from the start.
  if (cursor.listing || cursor.position || cursor.lastFullSync) return { cursor, scan: { kind: 'main' } };
  return { cursor: { ...cursor, listing: await newListing(context, jobId, 'backfill') }, scan: { kind: 'main' } };
}

async function newListing(context: SyncContext, jobId: number, reason: FullListing['reason']): Promise<FullListing> {
  // The database's clock, as text to keep its microseconds: rows this listing writes get a later
  // updated_at (their transactions start after this statement), rows it does not write keep an earlier one.
  const result = await context.db.execute(sql`SELECT now()::text AS now`);
  const sweepSince = (result.rows as { now: string }[])[0]!.now;
  return { kind: 'full', reason, jobId, sweepSince, pages: 0, records: 0 };
}

/** The start of the position's second, minus the lookback: where an incremental run's re-read begins. */
export function rereadStart(position: KeysetPosition, lookbackSeconds: number): string {
  const ms = Date.parse(position.systemModstamp);
  return new Date(Math.floor(ms / 1000) * 1000 - lookbackSeconds * 1000).toISOString();
}

/** The later of two keyset positions in (SystemModstamp, Id) order. */
function later(a: KeysetPosition | undefined, b: KeysetPosition | undefined): KeysetPosition | undefined {
  if (!a || !b) return a ?? b;
  const ta = Date.parse(a.systemModstamp);
  const tb = Date.parse(b.systemModstamp);
  return ta > tb || (ta === tb && a.id > b.id) ? a : b;
}

function positionOf(cursor: SalesforceCursor, scan: Scan): KeysetPosition | undefined {
  return scan.kind === 'range' ? cursor.range?.position : cursor.position;
}

function windowOf(cursor: SalesforceCursor, scan: Scan): ModstampWindow {
  if (scan.kind === 'main' || !cursor.range) return {};
  return { ...(cursor.range.start ? { start: cursor.range.start } : {}), ...(cursor.range.end ? { end: cursor.range.end } : {}) };
}

/**
 * The cursor after storing a response: the position moves to its last row; a finished listing gives
 * way to the plain position (and is recorded in lastFullSync); a finished date_range window is dropped.
 * Returns the same object when nothing changes (an incremental sync that found nothing new).
 */
function advance(cursor: SalesforceCursor, scan: Scan, last: KeysetPosition | undefined, rows: number, finished: boolean): SalesforceCursor {
  if (scan.kind === 'range') {
    const range = cursor.range!;
    if (finished) {
      const { range: _done, ...rest } = cursor;
      return rest;
    }
    return { ...cursor, range: { ...range, ...(last ? { position: last } : {}), pages: range.pages + 1, records: range.records + rows } };
  }
  const listing = cursor.listing;
  if (!listing) {
    // The re-read window lists rows behind the stored position: the cursor keeps the later of the two.
    const position = later(cursor.position, last);
    return position && position !== cursor.position ? { ...cursor, position } : cursor;
  }
  const { listing: _listing, ...rest } = cursor;
  const position = last ?? cursor.position;
  if (finished) {
    return { ...rest, ...(position ? { position } : {}), lastFullSync: { reason: listing.reason, completedAt: new Date().toISOString() } };
  }
  return { ...rest, ...(position ? { position } : {}), listing: { ...listing, pages: listing.pages + 1, records: listing.records + rows } };
}

/** Pages and records stored so far by the listing or window under way; undefined for an incremental walk. */
function totalsOf(cursor: SalesforceCursor, scan: Scan): { pages: number; records: number } | undefined {
  const base = scan.kind === 'range' ? cursor.range : cursor.listing;
  return base ? { pages: base.pages, records: base.records } : undefined;
}

function phaseOf(cursor: SalesforceCursor, scan: Scan): SyncProgress['phase'] {
  if (scan.kind === 'range') return 'backfill';
  if (!cursor.listing) return 'incremental';
  return cursor.listing.reason === 'backfill' ? 'backfill' : 'full_resync';
}

function describe(cursor: SalesforceCursor, scan: Scan): string {
  if (scan.kind === 'range') return `date_range ${cursor.range?.start ?? '-inf'}..${cursor.range?.end ?? '+inf'}`;
  return cursor.listing ? cursor.listing.reason : 'incremental';
}

/**
 * A 'date_range' SystemModstamp window: startDate/endDate as dates (YYYY-MM-DD, UTC, endDate
 * inclusive) or RFC 3339 instants; a missing bound is open.
 */
export function payloadWindow(startDate: string | undefined, endDate: string | undefined): { start?: string; end?: string } {
  const { start, end } = dateRangeBounds(startDate, endDate);
  return {
    ...(start !== undefined ? { start: new Date(start).toISOString() } : {}),
    ...(end !== undefined ? { end: new Date(end).toISOString() } : {}),
  };
}
