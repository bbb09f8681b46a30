import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { isUniqueViolation } from '../../../db/errors';
import { JobStateError } from '../errors';
import { JOB_COLUMNS, toJob, type QueuedJob } from '../job';
import { param, rows } from './result';

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
    if (isUniqueViolation(error)) {
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

/** The job, or null when there is none (or, with `userId`, when it is another user's). */
export async function getJob(db: DbOrTx, jobId: number, userId?: string): Promise<QueuedJob | null> {
  const result = await db.execute(sql`
    SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ${jobId}
      ${userId === undefined ? sql`` : sql`AND user_id = ${userId}`}
  `);
  const row = rows(result)[0];
  return row ? toJob(row) : null;
}


/** The jobs among `ids` (with `userId`, only that user's), in id order; unknown ids are left out. */
export async function getJobs(db: DbOrTx, ids: readonly number[], userId?: string): Promise<QueuedJob[]> {
  if (ids.length === 0) return [];
  const result = await db.execute(sql`
    SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ANY(${param([...ids])}::bigint[])
      ${userId === undefined ? sql`` : sql`AND user_id = ${userId}`}
    ORDER BY id
  `);
  return rows(result).map(toJob);
}
