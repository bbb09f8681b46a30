import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Db, Tx } from '../../../db/client';
import type { Connection } from '../../../db/schema';
import type { JobContext } from '../../jobs/runner';
import type { ConnectionCredentials } from '../../providers/credentials';
import type { SyncPayload } from '../streams';

/**
 * What a provider's sync functions get for one run of one stream; built by the sync job handler
 * (./handler.ts). The engine owns the time budget, the cursor and the progress: a provider reads the
 * budget here and hands cursors and progress back in its pages.
 */
export interface SyncContext {
  /** The database of the job's runner. */
  db: Db;
  connection: Connection;
  stream: string;
  payload: SyncPayload;
  job: JobContext;
  logger: Logger;
  credentials: ConnectionCredentials;
  /** Epoch ms after which the run must checkpoint (a margin before the runner's deadline). */
  readonly deadline: number;
  /** The deadline has passed: start no more provider calls (the engine checkpoints after what is under way). */
  outOfTime(): boolean;
  /**
   * One provider request: paced (`units` of the user's budget), under the provider's timeout, retry
   * and breaker policy, and re-authenticated once on a 401 with a fresh token from Nango.
   */
  request<T>(units: number, call: (accessToken: string, signal: AbortSignal) => Promise<T>): Promise<T>;
}

export interface SyncProgress {
  phase: 'backfill' | 'incremental' | 'full_resync' | 'done';
  pages: number;
  records: number;
  /** Where the provider gives one. */
  estimatedTotal?: number | null;
  detail?: string;
}

/** What a run did: finished (the stream is caught up), or checkpointed (its cursor saved) to continue later. */
export type SyncOutcome = { status: 'done'; records: number } | { status: 'checkpoint'; records: number } | { status: 'too_late' };

/** Pages and records this run has stored so far (what `SyncPage.progress` is computed from). */
export interface RunTotals {
  pages: number;
  records: number;
}

/**
 * One page of a stream: fetched and mapped by the provider, stored by the engine together with the
 * cursor after it, in one transaction.
 */
export interface SyncPage<C, R> {
  /** What the provider's `store` writes; null when only the cursor moves (nothing to write). */
  records: R | null;
  /**
   * The cursor once this page is stored: saved with a compare-and-set in the page's transaction. A page
   * with no records whose cursor is the walk's own object changes nothing and is not saved.
   */
  cursor: C;
  /** The stream is caught up once this page is stored: the run ends. */
  last?: boolean;
  /** The job's progress once this page is stored, from the run's totals by then. */
  progress?(run: RunTotals): SyncProgress;
}

/**
 * One run's walk through a stream, made by `StreamSync.start`. The engine asks for the next page while
 * the run is within its time budget (at least once per run, so every run moves the stream on), stores
 * each page with its cursor, and writes `walk.cursor` after each.
 */
export interface Walk<C, R> {
  /** The cursor as this run has it: the stored one, what `start` planned, or the last page's. */
  cursor: C;
  /**
   * Fetches and maps the next page. Several pages at once (an async iterable, stored in order as they
   * come) when the provider fetches in parallel: each is computed from `walk.cursor` as it is when the
   * page is yielded, after the previous one was stored.
   */
  next(): Promise<SyncPage<C, R> | AsyncIterable<SyncPage<C, R>>>;
  /** What the walk does, for the logs. */
  describe(): Record<string, unknown>;
}

/**
 * A provider's sync of one stream, as the engine (./loop.ts) runs it: the cursor document, where a run
 * starts, and how a page's records are stored. The engine does everything else: the time budget, the
 * cursor's load and compare-and-set, the page loop, the transactions, progress and checkpoints.
 */
export interface StreamSync<C, R> {
  /** The stream's cursor document (sync_states.cursor). A stored one that fails it is dropped: the stream starts afresh. */
  cursor: z.ZodType<C>;
  /** The cursor of a stream never synced. */
  initialCursor: C;
  /** Where this run starts, from the job's mode and the stored cursor (it may ask the provider). */
  start(context: SyncContext, cursor: C): Promise<Walk<C, R>>;
  /** Writes a page's records in the page's transaction (before its cursor is saved); returns how many records they are. */
  store(tx: Tx, context: SyncContext, records: R): Promise<number>;
}

// Provider syncs are stored side by side whatever their cursor and record types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStreamSync = StreamSync<any, any>;
