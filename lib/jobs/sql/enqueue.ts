import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { executePrepared } from '../../../db/prepared';
import { JobStateError } from '../errors';
import { JOB_COLUMNS, toJob, type QueuedJob } from '../job';
import { JOBS_CHANNEL } from '../listen';
import { param, rows } from './result';

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

const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * The steps that enqueue the rows of a CTE the caller names `enqueue_input` (kind text, user_id text,
 * payload jsonb, priority int, run_at timestamptz, max_attempts int, dedupe_key text, rerun boolean: rerunIfRunning,
 * ord: the order to insert in; NULL takes the default), for a statement that enqueues together with
 * its own writes in one round trip. They end in `enqueued` (`JOB_COLUMNS` and `created`: the new jobs,
 * and the live jobs that already held a key as of the statement's snapshot), which the statement must
 * read: the runners' wake-up is sent from there. A key taken by a job committed after the snapshot returns
 * no row for that input (its job is queued and sees what the caller wrote).
 */
export function enqueueSteps(): SQL {
  return sql`
      new_users AS (
        INSERT INTO job_users (user_id) SELECT DISTINCT user_id FROM enqueue_input
        ON CONFLICT (user_id) DO NOTHING
      ),
      inserted AS (
        INSERT INTO jobs (kind, user_id, payload, priority, run_at, max_attempts, dedupe_key)
        SELECT kind, user_id, payload, coalesce(priority, 0), coalesce(run_at, now()),
          coalesce(max_attempts, ${DEFAULT_MAX_ATTEMPTS}), dedupe_key
        FROM enqueue_input ORDER BY ord
        ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL AND status IN ('queued', 'running') DO NOTHING
        RETURNING ${JOB_COLUMNS}
      ),
      rerun AS (
        UPDATE jobs SET rerun_requested_at = now(), updated_at = now()
        WHERE dedupe_key IN (SELECT dedupe_key FROM enqueue_input WHERE rerun IS TRUE AND dedupe_key IS NOT NULL)
          AND status = 'running' AND rerun_requested_at IS NULL
          AND dedupe_key NOT IN (SELECT dedupe_key FROM inserted WHERE dedupe_key IS NOT NULL)
        RETURNING id
      ),
      -- Wakes the runners that LISTEN (see listen.ts), on commit, when a job is runnable now: one
      -- notification per statement.
      wake AS (
        SELECT count(pg_notify(${JOBS_CHANNEL}, '')) AS notified
        FROM (SELECT 1 FROM inserted WHERE run_at <= now() LIMIT 1) runnable
      ),
      enqueued AS (
        SELECT ${JOB_COLUMNS}, true AS created FROM inserted, wake
        UNION ALL
        SELECT ${JOB_COLUMNS}, false AS created FROM jobs
        WHERE dedupe_key IN (SELECT dedupe_key FROM enqueue_input WHERE dedupe_key IS NOT NULL)
          AND status IN ('queued', 'running')
          AND dedupe_key NOT IN (SELECT dedupe_key FROM inserted WHERE dedupe_key IS NOT NULL)
      )`;
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
  // Prepared: planning this statement took four times as long as running it for a single job.
  const answered = rows(
    await executePrepared(db, 'enqueue', sql`
      WITH enqueue_input AS (
        SELECT * FROM unnest(
          ${param(inputs.map((i) => i.kind))}::text[],
          ${param(inputs.map((i) => i.userId))}::text[],
          ${param(inputs.map((i) => JSON.stringify(i.payload ?? {})))}::jsonb[],
          ${param(inputs.map((i) => i.priority ?? 0))}::int[],
          ${param(inputs.map((i) => i.runAt?.toISOString() ?? null))}::timestamptz[],
          ${param(inputs.map((i) => i.maxAttempts ?? DEFAULT_MAX_ATTEMPTS))}::int[],
          ${param(inputs.map((i) => i.dedupeKey ?? null))}::text[],
          ${param(inputs.map((i) => Boolean(i.rerunIfRunning)))}::boolean[]
        ) WITH ORDINALITY AS i(kind, user_id, payload, priority, run_at, max_attempts, dedupe_key, rerun, ord)
      ),
      ${enqueueSteps()}
      SELECT * FROM enqueued
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

