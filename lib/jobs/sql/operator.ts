import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { isUniqueViolation } from '../../../db/errors';
import { JobStateError } from '../errors';
import { JOB_COLUMNS, toJob, type JobStatus, type QueuedJob } from '../job';
import { CANCEL } from './cancel';
import { userJobsInIdOrder } from './by-user';
import { param, rows } from './result';

/**
 * What an operator reads and does across every user's jobs (the admin API): lists with filters, bulk
 * retry and cancel, and the queue's last hour. Newest first is id order: the primary key serves the
 * unfiltered list, jobs_user_not_running_idx and jobs_lease_idx a user's (`userJobsInIdOrder`), and
 * jobs_unsettled_idx the rare outcomes (failed, dead, cancelled) that a backward scan of the primary
 * key would have to walk the whole table to find.
 */

export interface JobFilter {
  status?: JobStatus;
  kind?: string;
  userId?: string;
}

function filterSql(filter: JobFilter): SQL {
  return sql`TRUE
    ${filter.status === undefined ? sql`` : sql`AND status = ${filter.status}`}
    ${filter.kind === undefined ? sql`` : sql`AND kind = ${filter.kind}`}
    ${filter.userId === undefined ? sql`` : sql`AND user_id = ${filter.userId}`}`;
}

/** Jobs matching `filter` with ids below `beforeId` (the keyset), newest first, at most `limit`. */
export async function listJobs(db: DbOrTx, filter: JobFilter, page: { limit: number; beforeId?: number }): Promise<QueuedJob[]> {
  const where = sql`${filterSql(filter)} ${page.beforeId === undefined ? sql`` : sql`AND id < ${page.beforeId}`}`;
  const result = await db.execute(
    filter.userId === undefined
      ? sql`SELECT ${JOB_COLUMNS} FROM jobs WHERE ${where} ORDER BY id DESC LIMIT ${page.limit}`
      : userJobsInIdOrder(JOB_COLUMNS, where, {
          statuses: filter.status === undefined ? undefined : [filter.status],
          order: 'desc',
          limit: page.limit,
        }),
  );
  return rows(result).map(toJob);
}

/** Which jobs a bulk action touches: these ids, or (bounded by `limit`, newest first) those matching a filter. */
export type JobSelection = { ids: readonly number[] } | { filter: JobFilter; limit: number };

function selectionSql(selection: JobSelection, statuses: readonly JobStatus[]): SQL {
  const wanted = sql`status = ANY(${param([...statuses])}::text[])`;
  if ('ids' in selection) {
    return sql`SELECT id, dedupe_key FROM jobs WHERE id = ANY(${param([...selection.ids])}::bigint[]) AND ${wanted}`;
  }
  const { filter, limit } = selection;
  if (filter.userId !== undefined) {
    return userJobsInIdOrder(sql`id, dedupe_key`, filterSql(filter), {
      statuses: filter.status === undefined ? statuses : statuses.filter((status) => status === filter.status),
      order: 'desc',
      limit,
    });
  }
  return sql`SELECT id, dedupe_key FROM jobs WHERE ${filterSql(filter)} AND ${wanted} ORDER BY id DESC LIMIT ${limit}`;
}

/**
 * Puts the selected dead or failed jobs back in the queue with fresh attempts, in one statement.
 * A job whose dedupe key a live job holds is left as it is (that job does the same work), and of
 * several selected with one key only the newest is retried. Returns the ids retried.
 */
export async function retryJobs(db: DbOrTx, selection: JobSelection): Promise<number[]> {
  try {
    const result = await db.execute(sql`
      WITH selected AS (${selectionSql(selection, ['dead', 'failed'])}),
      picked AS (
        SELECT DISTINCT ON (coalesce(s.dedupe_key, s.id::text)) s.id FROM selected s
        WHERE s.dedupe_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM jobs live WHERE live.dedupe_key = s.dedupe_key AND live.status IN ('queued', 'running'))
        ORDER BY coalesce(s.dedupe_key, s.id::text), s.id DESC
      )
      UPDATE jobs SET status = 'queued', attempts = 0, run_at = now(), locked_by = NULL, locked_until = NULL,
        cancel_requested_at = NULL, finished_at = NULL, updated_at = now()
      FROM picked WHERE jobs.id = picked.id AND jobs.status IN ('dead', 'failed')
      RETURNING jobs.id
    `);
    return rows<{ id: number }>(result).map((row) => Number(row.id)).sort((a, b) => b - a);
  } catch (error) {
    // A job with the same key was enqueued between the check and the update: nothing changed.
    if (isUniqueViolation(error)) {
      throw new JobStateError('job_conflict', 'a job with the same dedupe key was queued meanwhile; try again');
    }
    throw error;
  }
}

/**
 * Cancels the selected queued and running jobs in one statement (queued ones at once, running ones
 * at their next heartbeat). Returns the ids touched.
 */
export async function cancelJobs(db: DbOrTx, selection: JobSelection): Promise<number[]> {
  const result = await db.execute(sql`
    WITH selected AS (${selectionSql(selection, ['queued', 'running'])})
    UPDATE jobs SET ${CANCEL} FROM selected WHERE jobs.id = selected.id AND jobs.status IN ('queued', 'running')
    RETURNING jobs.id
  `);
  return rows<{ id: number }>(result).map((row) => Number(row.id)).sort((a, b) => b - a);
}

/** Cancels one job of any user: a queued one at once, a running one at its next heartbeat. */
export async function cancelJob(db: DbOrTx, jobId: number): Promise<QueuedJob> {
  const result = await db.execute(sql`
    UPDATE jobs SET ${CANCEL} WHERE id = ${jobId} AND status IN ('queued', 'running')
    RETURNING ${JOB_COLUMNS}
  `);
  const row = rows(result)[0];
  if (row) return toJob(row);
  const existing = (await db.execute(sql`SELECT status FROM jobs WHERE id = ${jobId}`)).rows[0] as { status: string } | undefined;
  if (!existing) throw new JobStateError('job_not_found', `job ${jobId} does not exist`);
  throw new JobStateError('job_conflict', `job ${jobId} is ${existing.status}; only queued or running jobs can be cancelled`);
}

/** The live (queued or running) jobs holding these dedupe keys, through jobs_dedupe_key_idx. */
export async function liveJobsByDedupeKey(db: DbOrTx, keys: readonly string[]): Promise<QueuedJob[]> {
  if (keys.length === 0) return [];
  const result = await db.execute(sql`
    SELECT ${JOB_COLUMNS} FROM jobs
    WHERE dedupe_key = ANY(${param([...keys])}::text[]) AND status IN ('queued', 'running')
  `);
  return rows(result).map(toJob);
}

export interface QueueActivity {
  /** Jobs that finished in the last hour, by how (jobs_finished_idx). */
  lastHour: { succeeded: number; failed: number; dead: number; cancelled: number };
  /** Users with jobs running now, most first (job_users keeps the count). */
  runningByUser: { userId: string; running: number }[];
}

export async function queueActivity(db: DbOrTx, topUsers = 20): Promise<QueueActivity> {
  const result = await db.execute(sql`
    SELECT
      (SELECT coalesce(json_object_agg(status, n), '{}'::json) FROM (
         SELECT status, count(*)::int AS n FROM jobs
         WHERE finished_at >= now() - interval '1 hour' AND finished_at IS NOT NULL GROUP BY status) f) AS last_hour,
      (SELECT coalesce(json_agg(json_build_object('userId', user_id, 'running', running) ORDER BY running DESC, user_id), '[]'::json)
       FROM (SELECT user_id, running FROM job_users WHERE running > 0 ORDER BY running DESC, user_id LIMIT ${topUsers}) u) AS running_by_user
  `);
  const row = rows<{ last_hour: Record<string, number>; running_by_user: { userId: string; running: number }[] }>(result)[0]!;
  const count = (status: string) => Number(row.last_hour[status] ?? 0);
  return {
    lastHour: { succeeded: count('succeeded'), failed: count('failed'), dead: count('dead'), cancelled: count('cancelled') },
    runningByUser: row.running_by_user,
  };
}
