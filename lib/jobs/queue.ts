import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client';
import type { JobStatus } from '../../db/schema';
import { JobStateError } from './errors';

/**
 * The Postgres job queue. Every operation is one SQL statement; functions take the database (or
 * a transaction) as their first argument so callers can enqueue inside their own transaction.
 *
 * Invariants:
 * - a job is `running` only while some runner holds its lease (`locked_by`, `locked_until`);
 * - `attempts` is incremented by each claim and is the fencing token: settle, heartbeat and
 *   progress change a row only if `locked_by` and `attempts` still match the caller's claim;
 * - `job_users.running` equals the number of the user's `running` jobs, because every statement
 *   that moves jobs into or out of `running` adjusts it in the same statement.
 */

export type DbOrTx = Pick<Db, 'execute'>;

export interface QueuedJob {
  id: number;
  kind: string;
  userId: string;
  payload: unknown;
  status: JobStatus;
  priority: number;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  lockedBy: string | null;
  lockedUntil: Date | null;
  lastError: string | null;
  dedupeKey: string | null;
  progress: unknown;
  result: unknown;
  cancelRequestedAt: Date | null;
  rerunRequestedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface EnqueueInput {
  kind: string;
  userId: string;
  payload?: unknown;
  /** Lower runs first. Default 0. */
  priority?: number;
  runAt?: Date;
  maxAttempts?: number;
  /** While a job with this key is queued or running, enqueueing again returns that job. */
  dedupeKey?: string;
  /**
   * When the existing job with the dedupe key is already running, mark it to run once more after it
   * finishes, so that work which arrived while it ran is not lost (incremental syncs want this).
   */
  rerunIfRunning?: boolean;
}

export interface EnqueueResult {
  job: QueuedJob;
  /** False when an existing job with the same dedupe key was returned instead. */
  created: boolean;
}

const JOB_COLUMNS = sql.raw(`id, kind, user_id, payload, status, priority, run_at, attempts, max_attempts,
  locked_by, locked_until, last_error, dedupe_key, progress, result, cancel_requested_at, rerun_requested_at,
  started_at, finished_at, created_at, updated_at`);

const DEFAULT_MAX_ATTEMPTS = 8;

function rows<T = Record<string, unknown>>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

function param(value: unknown): SQL {
  return sql`${sql.param(value)}`;
}

/**
 * Drizzle's node-postgres driver hands timestamptz to raw queries as text, e.g.
 * `2026-11-24 08:16:01.123456+00`. Parsed by hand on the common shape (a claim reads thousands of
 * them a second; `new Date(string)` was a hot spot), falling back to `Date` for anything else.
 */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return parseIsoTimestamp(text) ?? new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
}

function parseIsoTimestamp(text: string): Date | null {
  const length = text.length;
  if (
    length < 22 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 32 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return null;
  }
  let i = 19;
  let ms = 0;
  if (text.charCodeAt(i) === 46) {
    let places = 0;
    for (i = 20; i < length; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (places < 3) {
        ms = ms * 10 + d;
        places += 1;
      }
    }
    if (places === 0) return null;
    if (places === 1) ms *= 100;
    else if (places === 2) ms *= 10;
  }
  const sign = text.charCodeAt(i);
  const rest = length - i - 1;
  if ((sign !== 43 && sign !== 45) || (rest !== 2 && !(rest === 5 && text.charCodeAt(i + 3) === 58))) return null;
  const year = two(text, 0) * 100 + two(text, 2);
  if (!(year >= 100)) return null; // Date.UTC reads years 0-99 as 1900-1999
  const offsetMinutes = two(text, i + 1) * 60 + (rest === 5 ? two(text, i + 4) : 0);
  const time =
    Date.UTC(
      year,
      two(text, 5) - 1,
      two(text, 8),
      two(text, 11),
      two(text, 14),
      two(text, 17),
      ms,
    ) - (sign === 43 ? offsetMinutes : -offsetMinutes) * 60_000;
  return time === time ? new Date(time) : null; // NaN when a digit was not one
}

/** The two-digit number at `at`, NaN if either is not a digit. */
function two(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const units = text.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && units >= 0 && units <= 9 ? tens * 10 + units : NaN;
}

export function toJob(row: Record<string, unknown>): QueuedJob {
  return {
    id: Number(row.id),
    kind: row.kind as string,
    userId: row.user_id as string,
    payload: row.payload,
    status: row.status as JobStatus,
    priority: row.priority as number,
    runAt: toDate(row.run_at)!,
    attempts: row.attempts as number,
    maxAttempts: row.max_attempts as number,
    lockedBy: (row.locked_by as string | null) ?? null,
    lockedUntil: toDate(row.locked_until),
    lastError: (row.last_error as string | null) ?? null,
    dedupeKey: (row.dedupe_key as string | null) ?? null,
    progress: row.progress ?? null,
    result: row.result ?? null,
    cancelRequestedAt: toDate(row.cancel_requested_at),
    rerunRequestedAt: toDate(row.rerun_requested_at),
    startedAt: toDate(row.started_at),
    finishedAt: toDate(row.finished_at),
    createdAt: toDate(row.created_at)!,
    updatedAt: toDate(row.updated_at)!,
  };
}

export async function enqueue(db: DbOrTx, input: EnqueueInput): Promise<EnqueueResult> {
  const [result] = await enqueueMany(db, [input]);
  return result!;
}

/**
 * Inserts many jobs in one statement. Inputs whose dedupe key is taken by a queued or running job
 * (or by an earlier input of the same call) return that job with `created: false`.
 */
export async function enqueueMany(db: DbOrTx, inputs: EnqueueInput[]): Promise<EnqueueResult[]> {
  if (inputs.length === 0) return [];
  for (const input of inputs) {
    if (!input.kind || !input.userId) throw new TypeError('a job needs a kind and a user id');
  }
  const keys = inputs.map((i) => i.dedupeKey).filter((key): key is string => key !== undefined);
  const rerunKeys = inputs.filter((i) => i.rerunIfRunning && i.dedupeKey).map((i) => i.dedupeKey!);
  // One round trip in the common cases: the new rows, and the live jobs that already hold a key (seen
  // as of the statement's snapshot; one committed just after it is looked up below).
  const answered = rows(
    await db.execute(sql`
      WITH input AS (
        SELECT * FROM unnest(
          ${param(inputs.map((i) => i.kind))}::text[],
          ${param(inputs.map((i) => i.userId))}::text[],
          ${param(inputs.map((i) => JSON.stringify(i.payload ?? {})))}::jsonb[],
          ${param(inputs.map((i) => i.priority ?? 0))}::int[],
          ${param(inputs.map((i) => i.runAt?.toISOString() ?? null))}::timestamptz[],
          ${param(inputs.map((i) => i.maxAttempts ?? DEFAULT_MAX_ATTEMPTS))}::int[],
          ${param(inputs.map((i) => i.dedupeKey ?? null))}::text[]
        ) WITH ORDINALITY AS i(kind, user_id, payload, priority, run_at, max_attempts, dedupe_key, ord)
      ),
      new_users AS (
        INSERT INTO job_users (user_id) SELECT DISTINCT user_id FROM input
        ON CONFLICT (user_id) DO NOTHING
      ),
      inserted AS (
        INSERT INTO jobs (kind, user_id, payload, priority, run_at, max_attempts, dedupe_key)
        SELECT kind, user_id, payload, priority, coalesce(run_at, now()), max_attempts, dedupe_key
        FROM input ORDER BY ord
        ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running') DO NOTHING
        RETURNING ${JOB_COLUMNS}
      ),
      rerun AS (
        UPDATE jobs SET rerun_requested_at = now(), updated_at = now()
        WHERE dedupe_key = ANY(${param(rerunKeys)}::text[]) AND status = 'running' AND rerun_requested_at IS NULL
          AND dedupe_key NOT IN (SELECT dedupe_key FROM inserted WHERE dedupe_key IS NOT NULL)
        RETURNING id
      )
      SELECT ${JOB_COLUMNS}, true AS created FROM inserted
      UNION ALL
      SELECT ${JOB_COLUMNS}, false AS created FROM jobs
      WHERE dedupe_key = ANY(${param(keys)}::text[]) AND status IN ('queued', 'running')
        AND dedupe_key NOT IN (SELECT dedupe_key FROM inserted WHERE dedupe_key IS NOT NULL)
    `),
  );

  const insertedByKey = new Map<string, QueuedJob>();
  const insertedWithoutKey: QueuedJob[] = [];
  const existingByKey = new Map<string, QueuedJob>();
  for (const row of answered) {
    const job = toJob(row);
    if (!row.created) existingByKey.set(job.dedupeKey!, job);
    else if (job.dedupeKey) insertedByKey.set(job.dedupeKey, job);
    else insertedWithoutKey.push(job);
  }

  const missingKeys = keys.filter((key) => !insertedByKey.has(key) && !existingByKey.has(key));
  if (missingKeys.length > 0) {
    const missingReruns = rerunKeys.filter((key) => missingKeys.includes(key));
    const existing = rows(
      await db.execute(sql`
        WITH rerun AS (
          UPDATE jobs SET rerun_requested_at = now(), updated_at = now()
          WHERE dedupe_key = ANY(${param(missingReruns)}::text[]) AND status = 'running' AND rerun_requested_at IS NULL
          RETURNING id
        )
        SELECT ${JOB_COLUMNS} FROM jobs
        WHERE dedupe_key = ANY(${param(missingKeys)}::text[]) AND status IN ('queued', 'running')
      `),
    ).map(toJob);
    for (const job of existing) existingByKey.set(job.dedupeKey!, job);
  }

  // Walk the inputs in order: the first input with a key got the inserted row, later ones share it.
  const claimedKeys = new Set<string>();
  let withoutKeyIndex = 0;
  return inputs.map((input) => {
    if (!input.dedupeKey) return { job: insertedWithoutKey[withoutKeyIndex++]!, created: true };
    const fresh = insertedByKey.get(input.dedupeKey);
    if (fresh && !claimedKeys.has(input.dedupeKey)) {
      claimedKeys.add(input.dedupeKey);
      return { job: fresh, created: true };
    }
    const job = fresh ?? existingByKey.get(input.dedupeKey);
    if (!job) {
      // The conflicting job finished between the insert and the read: extremely rare; the caller retries.
      throw new JobStateError('job_conflict', `job with dedupe key ${input.dedupeKey} changed while enqueueing; retry`);
    }
    return { job, created: false };
  });
}

export interface ClaimOptions {
  runnerId: string;
  limit: number;
  leaseSeconds: number;
  /** Running jobs allowed per user unless job_users.running_cap says otherwise. */
  perUserCap: number;
  /**
   * How many of its jobs a user counts for when the claim decides how many users it needs to fill
   * `limit` (a fair-queueing quantum). Default: ceil(limit / 10), so 1 (pure round-robin) for
   * batches of up to 10. See `claim`.
   */
  quantum?: number;
}

/** Default quantum: pure round-robin for small batches; at most ~10 users per claim for big ones. */
export function defaultQuantum(limit: number): number {
  return Math.max(1, Math.ceil(limit / 10));
}

/**
 * Claims up to `limit` runnable jobs in one statement.
 *
 * Fairness: users are taken in the order of their most urgent runnable job, and the batch is spread
 * round-robin across the users taken (every taken user's first job before anyone's second). A claim
 * takes only as many users as it needs: in that order, each user counting for up to `quantum` of its
 * runnable jobs (and no more than its free slots), until `limit` is reached. A claimer therefore locks
 * a few users, not every user with work, and concurrent runners claim (and settle) disjoint users
 * instead of skipping each other's; a user that got its quantum goes back in line behind the users
 * whose most urgent job is older.
 * Cap: the user rows are locked FOR UPDATE SKIP LOCKED (in that order, skipping rows another
 * claimer or a settlement holds); a locked row is re-read at its latest version, so `running` is
 * exact even when many runners claim at once.
 * Cost: only the chosen job rows are locked (FOR UPDATE SKIP LOCKED, re-checked at their latest
 * version), not every candidate of every user.
 */
export async function claim(db: DbOrTx, options: ClaimOptions): Promise<QueuedJob[]> {
  if (options.limit <= 0) return [];
  const limit = Math.floor(options.limit);
  const quantum = Math.max(1, Math.floor(options.quantum ?? defaultQuantum(limit)));
  const cap = options.perUserCap;
  const result = await db.execute(sql`
    WITH heads AS (
      SELECT u.user_id, head.priority, head.run_at, head.id,
             coalesce(u.running_cap, ${cap}) - u.running AS free
      FROM job_users u
      CROSS JOIN LATERAL (
        SELECT j.priority, j.run_at, j.id FROM jobs j
        WHERE j.user_id = u.user_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT 1
      ) head
      WHERE u.running < coalesce(u.running_cap, ${cap})
      ORDER BY head.priority, head.run_at, head.id
      LIMIT ${limit}
    ),
    -- In line, each user counts for its runnable jobs up to the quantum (and its free slots): the
    -- claim takes the users it needs to reach the limit (the stream stops there), and when they have
    -- enough, the quantum of each suffices (the round-robin would not reach a deeper turn).
    stream AS (
      SELECT h.user_id
      FROM heads h
      CROSS JOIN LATERAL (
        SELECT 1 FROM jobs j
        WHERE j.user_id = h.user_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT least(h.free, ${quantum})
      ) q
      ORDER BY h.priority, h.run_at, h.id
      LIMIT ${limit}
    ),
    need AS (
      SELECT count(DISTINCT user_id) AS users, count(*) >= ${limit} AS enough FROM stream
    ),
    slots AS (
      SELECT u.user_id, coalesce(u.running_cap, ${cap}) - u.running AS free
      FROM job_users u JOIN heads h ON h.user_id = u.user_id
      WHERE u.running < coalesce(u.running_cap, ${cap})
      ORDER BY h.priority, h.run_at, h.id
      LIMIT (SELECT users FROM need)
      FOR UPDATE OF u SKIP LOCKED
    ),
    candidates AS (
      SELECT c.id, c.priority, c.run_at,
             row_number() OVER (PARTITION BY s.user_id ORDER BY c.priority, c.run_at, c.id) AS turn
      FROM slots s
      CROSS JOIN LATERAL (
        SELECT j.id, j.priority, j.run_at FROM jobs j
        WHERE j.user_id = s.user_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT least(s.free, CASE WHEN (SELECT enough FROM need) THEN ${quantum}::int ELSE ${limit}::int END)
      ) c
    ),
    chosen AS (
      SELECT id FROM candidates ORDER BY turn, priority, run_at, id LIMIT ${limit}
    ),
    locked AS (
      SELECT j.id FROM jobs j
      WHERE j.id = ANY (ARRAY(SELECT id FROM chosen)) AND j.status = 'queued' AND j.run_at <= now()
      FOR UPDATE OF j SKIP LOCKED
    ),
    claimed AS (
      UPDATE jobs j SET
        status = 'running',
        attempts = j.attempts + 1,
        locked_by = ${options.runnerId},
        locked_until = now() + make_interval(secs => ${options.leaseSeconds}),
        started_at = now(),
        updated_at = now()
      FROM locked WHERE j.id = locked.id
      RETURNING j.*
    ),
    counted AS (
      UPDATE job_users u SET running = u.running + c.n, updated_at = now()
      FROM (SELECT user_id, count(*)::int AS n FROM claimed GROUP BY user_id) c
      WHERE u.user_id = c.user_id
    )
    SELECT ${JOB_COLUMNS} FROM claimed ORDER BY priority, run_at, id
  `);
  return rows(result).map(toJob);
}

export type Settlement =
  | { id: number; attempt: number; outcome: 'succeeded'; result?: unknown }
  /** Retry after `retryAt`, or `dead` when attempts are used up. */
  | { id: number; attempt: number; outcome: 'retry'; error: string; retryAt: Date }
  /** Runs again at `until` without spending the attempt. */
  | { id: number; attempt: number; outcome: 'deferred'; until: Date; reason: string }
  /** Ends the job: `failed` (retrying can't help) or `dead` (needs an operator). */
  | { id: number; attempt: number; outcome: 'failed' | 'dead'; error: string };

export interface SettledJob {
  id: number;
  userId: string;
  status: JobStatus;
}

/**
 * Settles a batch of jobs this runner holds, in one statement. Rows whose lease this runner no
 * longer holds (lapsed and reclaimed, or cancelled and swept) are left alone and not returned.
 */
/** Where a settled job goes, from its outcome (`i`) and its row as it is now (`j`). */
const NEXT_STATUS = sql.raw(`(CASE
  WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
  WHEN i.outcome = 'succeeded' AND j.rerun_requested_at IS NOT NULL THEN 'queued'
  WHEN i.outcome = 'succeeded' THEN 'succeeded'
  WHEN i.outcome = 'deferred' THEN 'queued'
  WHEN i.outcome = 'retry' AND j.attempts >= j.max_attempts THEN 'dead'
  WHEN i.outcome = 'retry' THEN 'queued'
  ELSE i.outcome
END)`);

export async function settle(db: DbOrTx, runnerId: string, settlements: Settlement[]): Promise<SettledJob[]> {
  if (settlements.length === 0) return [];
  const result = await db.execute(sql`
    WITH input AS (
      SELECT * FROM unnest(
        ${param(settlements.map((s) => s.id))}::bigint[],
        ${param(settlements.map((s) => s.attempt))}::int[],
        ${param(settlements.map((s) => s.outcome))}::text[],
        ${param(settlements.map((s) => runAtOf(s)))}::timestamptz[],
        ${param(settlements.map((s) => messageOf(s)))}::text[],
        ${param(settlements.map((s) => (s.outcome === 'succeeded' && s.result !== undefined ? JSON.stringify(s.result) : null)))}::jsonb[]
      ) AS i(id, attempt, outcome, run_at, message, result)
    ),
    -- One UPDATE, no separate locking read: its SET is computed on the row's latest version (a
    -- cancellation or rerun request that committed meanwhile is seen), and its WHERE is re-checked
    -- there too, so a lease that lapsed and was taken over is left alone (fencing).
    settled AS (
      UPDATE jobs j SET
        status = ${NEXT_STATUS},
        run_at = CASE WHEN ${NEXT_STATUS} = 'queued' THEN coalesce(i.run_at, now()) ELSE j.run_at END,
        attempts = CASE
          WHEN i.outcome = 'deferred' THEN j.attempts - 1
          WHEN i.outcome = 'succeeded' AND ${NEXT_STATUS} = 'queued' THEN 0
          ELSE j.attempts END,
        rerun_requested_at = CASE WHEN i.outcome = 'succeeded' THEN NULL ELSE j.rerun_requested_at END,
        last_error = CASE
          WHEN i.outcome = 'succeeded' THEN j.last_error
          WHEN i.outcome = 'deferred' THEN 'deferred: ' || i.message
          WHEN ${NEXT_STATUS} = 'dead' AND i.outcome = 'retry' THEN i.message || ' (gave up after ' || j.attempts || ' attempts)'
          ELSE i.message END,
        result = coalesce(i.result, j.result),
        locked_by = NULL,
        locked_until = NULL,
        finished_at = CASE WHEN ${NEXT_STATUS} = 'queued' THEN NULL ELSE now() END,
        updated_at = now()
      FROM input i
      WHERE j.id = i.id AND j.status = 'running' AND j.locked_by = ${runnerId} AND j.attempts = i.attempt
      RETURNING j.id, j.user_id, j.status
    ),
    ${releaseSlots(sql`settled`)}
    SELECT id, user_id, status FROM settled
  `);
  return rows(result).map((row) => ({
    id: Number(row.id),
    userId: row.user_id as string,
    status: row.status as JobStatus,
  }));
}

/**
 * CTEs that decrement job_users.running for the rows of `left` (jobs that just left `running`).
 * The user rows are locked in user_id order so two batches never deadlock on them.
 */
function releaseSlots(left: SQL): SQL {
  return sql`
    released AS (
      SELECT user_id, count(*)::int AS n FROM ${left} GROUP BY user_id
    ),
    slot_locks AS (
      SELECT u.user_id FROM job_users u
      WHERE u.user_id IN (SELECT user_id FROM released)
      ORDER BY u.user_id
      FOR UPDATE
    ),
    slots_released AS (
      UPDATE job_users u SET running = u.running - r.n, updated_at = now()
      FROM released r, slot_locks l
      WHERE u.user_id = r.user_id AND l.user_id = r.user_id
    )`;
}

function runAtOf(settlement: Settlement): string | null {
  if (settlement.outcome === 'retry') return settlement.retryAt.toISOString();
  if (settlement.outcome === 'deferred') return settlement.until.toISOString();
  return null;
}

function messageOf(settlement: Settlement): string | null {
  if (settlement.outcome === 'succeeded') return null;
  if (settlement.outcome === 'deferred') return settlement.reason;
  return settlement.error;
}

export interface LeaseState {
  id: number;
  cancelRequested: boolean;
}

/** Extends the leases of jobs this runner holds; a job missing from the answer has been lost. */
export async function heartbeat(
  db: DbOrTx,
  runnerId: string,
  held: { id: number; attempt: number }[],
  leaseSeconds: number,
): Promise<LeaseState[]> {
  if (held.length === 0) return [];
  const result = await db.execute(sql`
    UPDATE jobs j SET locked_until = now() + make_interval(secs => ${leaseSeconds}), updated_at = now()
    FROM unnest(${param(held.map((h) => h.id))}::bigint[], ${param(held.map((h) => h.attempt))}::int[]) AS h(id, attempt)
    WHERE j.id = h.id AND j.attempts = h.attempt AND j.locked_by = ${runnerId} AND j.status = 'running'
    RETURNING j.id, j.cancel_requested_at IS NOT NULL AS cancel_requested
  `);
  return rows(result).map((row) => ({ id: Number(row.id), cancelRequested: Boolean(row.cancel_requested) }));
}

/** Replaces the job's progress document while this runner holds it. Returns false if the lease is gone. */
export async function setProgress(
  db: DbOrTx,
  runnerId: string,
  held: { id: number; attempt: number },
  progress: unknown,
): Promise<boolean> {
  const result = await db.execute(sql`
    UPDATE jobs SET progress = ${JSON.stringify(progress)}::jsonb, updated_at = now()
    WHERE id = ${held.id} AND attempts = ${held.attempt} AND locked_by = ${runnerId} AND status = 'running'
  `);
  return ((result as { rowCount?: number | null }).rowCount ?? 0) > 0;
}

/**
 * Makes jobs whose lease lapsed claimable again (their attempt stays spent). A lapsed job that had
 * used its last attempt is dead; one whose cancellation was requested is cancelled.
 */
export async function reclaimExpired(db: DbOrTx, limit = 500): Promise<SettledJob[]> {
  const result = await db.execute(sql`
    WITH expired AS (
      SELECT id FROM jobs
      WHERE status = 'running' AND locked_until < now()
      ORDER BY locked_until
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ),
    reclaimed AS (
      UPDATE jobs j SET
        status = CASE
          WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
          WHEN j.attempts >= j.max_attempts THEN 'dead'
          ELSE 'queued' END,
        last_error = 'lease expired: runner ' || coalesce(j.locked_by, 'unknown') || ' stopped renewing it',
        locked_by = NULL,
        locked_until = NULL,
        run_at = now(),
        finished_at = CASE WHEN j.cancel_requested_at IS NOT NULL OR j.attempts >= j.max_attempts THEN now() END,
        updated_at = now()
      FROM expired WHERE j.id = expired.id
      RETURNING j.id, j.user_id, j.status
    ),
    ${releaseSlots(sql`reclaimed`)}
    SELECT id, user_id, status FROM reclaimed
  `);
  return rows(result).map((row) => ({
    id: Number(row.id),
    userId: row.user_id as string,
    status: row.status as JobStatus,
  }));
}

/** A queued job ends cancelled at once; a running one is asked to stop (its runner aborts it). */
const CANCEL = sql`
  status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
  cancel_requested_at = coalesce(cancel_requested_at, now()),
  finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
  updated_at = now()`;

/**
 * Cancels a job: a queued one at once; a running one is marked and its runner aborts it at the next
 * heartbeat. `userId` scopes the call to one tenant. Returns the job, or null when there is none.
 */
export async function cancel(db: DbOrTx, jobId: number, userId?: string): Promise<QueuedJob | null> {
  const result = await db.execute(sql`
    UPDATE jobs SET ${CANCEL} WHERE id = ${jobId} AND status IN ('queued', 'running')
      ${userId === undefined ? sql`` : sql`AND user_id = ${userId}`}
    RETURNING ${JOB_COLUMNS}
  `);
  const row = rows(result)[0];
  if (row) return toJob(row);
  return getJob(db, jobId, userId);
}

/**
 * Cancels a user's live jobs whose payload contains `payloadSubset` (e.g. every job of a connection).
 * Returns how many were touched.
 */
export async function cancelMatching(db: DbOrTx, userId: string, payloadSubset: Record<string, unknown>): Promise<number> {
  const result = await db.execute(sql`
    UPDATE jobs SET ${CANCEL}
    WHERE user_id = ${userId} AND status IN ('queued', 'running') AND payload @> ${JSON.stringify(payloadSubset)}::jsonb
  `);
  return (result as { rowCount?: number | null }).rowCount ?? 0;
}

/** Puts a dead or failed job back in the queue with fresh attempts (the admin's retry). */
export async function retryJob(db: DbOrTx, jobId: number): Promise<QueuedJob> {
  let result;
  try {
    result = await db.execute(sql`
      UPDATE jobs SET status = 'queued', attempts = 0, run_at = now(), locked_by = NULL, locked_until = NULL,
        cancel_requested_at = NULL, finished_at = NULL, updated_at = now()
      WHERE id = ${jobId} AND status IN ('dead', 'failed')
      RETURNING ${JOB_COLUMNS}
    `);
  } catch (error) {
    if ((error as { code?: string }).code === '23505' || (error as { cause?: { code?: string } }).cause?.code === '23505') {
      throw new JobStateError('job_conflict', `job ${jobId} has a dedupe key that another queued or running job holds`);
    }
    throw error;
  }
  const row = rows(result)[0];
  if (row) return toJob(row);
  const existing = await getJob(db, jobId);
  if (!existing) throw new JobStateError('job_not_found', `job ${jobId} does not exist`);
  throw new JobStateError('job_conflict', `job ${jobId} is ${existing.status}; only dead or failed jobs can be retried`);
}

export async function getJob(db: DbOrTx, jobId: number, userId?: string): Promise<QueuedJob | null> {
  const result = await db.execute(sql`
    SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ${jobId}
      ${userId === undefined ? sql`` : sql`AND user_id = ${userId}`}
  `);
  const row = rows(result)[0];
  return row ? toJob(row) : null;
}

export interface QueueStats {
  queued: number;
  runnable: number;
  running: number;
  dead: number;
  oldestRunnableAgeSeconds: number | null;
}

export async function queueStats(db: DbOrTx): Promise<QueueStats> {
  const [row] = rows(
    await db.execute(sql`
      SELECT
        (SELECT count(*) FROM jobs WHERE status = 'queued')::int AS queued,
        (SELECT count(*) FROM jobs WHERE status = 'queued' AND run_at <= now())::int AS runnable,
        (SELECT count(*) FROM jobs WHERE status = 'running')::int AS running,
        (SELECT count(*) FROM jobs WHERE status = 'dead')::int AS dead,
        (SELECT extract(epoch FROM now() - min(run_at)) FROM jobs WHERE status = 'queued' AND run_at <= now())::float8
          AS oldest_runnable_age_seconds
    `),
  );
  return {
    queued: row!.queued as number,
    runnable: row!.runnable as number,
    running: row!.running as number,
    dead: row!.dead as number,
    oldestRunnableAgeSeconds: (row!.oldest_runnable_age_seconds as number | null) ?? null,
  };
}
