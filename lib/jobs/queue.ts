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

/** Drizzle's node-postgres driver hands timestamptz to raw queries as text. */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value).replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
  return new Date(text);
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
}

/**
 * Claims up to `limit` runnable jobs in one statement.
 *
 * Fairness: users are taken in the order of their most urgent runnable job, and jobs are spread
 * round-robin across them (every user's first job before anyone's second).
 * Cap: the user rows are locked FOR UPDATE SKIP LOCKED; a locked row is re-read at its latest
 * version, so `running` is exact even when many runners claim at once, and a user whose row another
 * claimer holds is simply skipped by this one.
 */
export async function claim(db: DbOrTx, options: ClaimOptions): Promise<QueuedJob[]> {
  if (options.limit <= 0) return [];
  const result = await db.execute(sql`
    WITH heads AS (
      SELECT u.user_id, head.priority, head.run_at, head.id
      FROM job_users u
      CROSS JOIN LATERAL (
        SELECT j.priority, j.run_at, j.id FROM jobs j
        WHERE j.user_id = u.user_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT 1
      ) head
      WHERE u.running < coalesce(u.running_cap, ${options.perUserCap})
      ORDER BY head.priority, head.run_at, head.id
      LIMIT ${options.limit}
    ),
    slots AS (
      SELECT u.user_id, coalesce(u.running_cap, ${options.perUserCap}) - u.running AS free
      FROM job_users u JOIN heads h ON h.user_id = u.user_id
      WHERE u.running < coalesce(u.running_cap, ${options.perUserCap})
      FOR UPDATE OF u SKIP LOCKED
    ),
    candidates AS (
      SELECT c.id, c.user_id, c.priority, c.run_at,
             row_number() OVER (PARTITION BY c.user_id ORDER BY c.priority, c.run_at, c.id) AS turn
      FROM slots s
      CROSS JOIN LATERAL (
        SELECT j.id, j.user_id, j.priority, j.run_at FROM jobs j
        WHERE j.user_id = s.user_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT least(s.free, ${options.limit})
        FOR UPDATE OF j SKIP LOCKED
      ) c
    ),
    chosen AS (
      SELECT id FROM candidates ORDER BY turn, priority, run_at, id LIMIT ${options.limit}
    ),
    claimed AS (
      UPDATE jobs j SET
        status = 'running',
        attempts = j.attempts + 1,
        locked_by = ${options.runnerId},
        locked_until = now() + make_interval(secs => ${options.leaseSeconds}),
        started_at = now(),
        updated_at = now()
      FROM chosen WHERE j.id = chosen.id
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
    target AS (
      SELECT j.id, i.outcome, i.run_at, i.message, i.result,
        CASE
          WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
          WHEN i.outcome = 'succeeded' AND j.rerun_requested_at IS NOT NULL THEN 'queued'
          WHEN i.outcome = 'succeeded' THEN 'succeeded'
          WHEN i.outcome = 'deferred' THEN 'queued'
          WHEN i.outcome = 'retry' AND j.attempts >= j.max_attempts THEN 'dead'
          WHEN i.outcome = 'retry' THEN 'queued'
          ELSE i.outcome
        END AS next_status
      FROM jobs j JOIN input i ON i.id = j.id
      WHERE j.status = 'running' AND j.locked_by = ${runnerId} AND j.attempts = i.attempt
      FOR UPDATE OF j
    ),
    settled AS (
      UPDATE jobs j SET
        status = t.next_status,
        run_at = CASE WHEN t.next_status = 'queued' THEN coalesce(t.run_at, now()) ELSE j.run_at END,
        attempts = CASE
          WHEN t.outcome = 'deferred' THEN j.attempts - 1
          WHEN t.outcome = 'succeeded' AND t.next_status = 'queued' THEN 0
          ELSE j.attempts END,
        rerun_requested_at = CASE WHEN t.outcome = 'succeeded' THEN NULL ELSE j.rerun_requested_at END,
        last_error = CASE
          WHEN t.outcome = 'succeeded' THEN j.last_error
          WHEN t.outcome = 'deferred' THEN 'deferred: ' || t.message
          WHEN t.next_status = 'dead' AND t.outcome = 'retry' THEN t.message || ' (gave up after ' || j.attempts || ' attempts)'
          ELSE t.message END,
        result = coalesce(t.result, j.result),
        locked_by = NULL,
        locked_until = NULL,
        finished_at = CASE WHEN t.next_status = 'queued' THEN NULL ELSE now() END,
        updated_at = now()
      FROM target t WHERE j.id = t.id
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
