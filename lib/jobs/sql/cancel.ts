import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { JOB_COLUMNS, toJob, type QueuedJob } from '../job';
import { getJob } from './admin';
import { param, rowCount, rows } from './result';

/**
 * A queued job ends cancelled at once; a running one is asked to stop (its runner aborts it). A rerun
 * asked for before the cancellation is void; one asked for after it wins (see settle).
 */
export const CANCEL = sql`
  status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
  cancel_requested_at = coalesce(cancel_requested_at, now()),
  rerun_requested_at = NULL,
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

/** Which of a user's live jobs `cancelMatching` cancels: every condition given must hold. */
export interface JobMatch {
  kind?: string;
  /** Jobs whose payload contains this document (`payload @> match.payload`), e.g. `{ connectionId: 7 }`. */
  payload?: Record<string, unknown>;
  /** Jobs holding one of these dedupe keys (found through jobs_dedupe_key_idx). */
  dedupeKeys?: readonly string[];
}

/**
 * Cancels the user's queued and running jobs that match, in one statement (queued ones at once,
 * running ones at their next heartbeat). Returns how many were touched.
 */
export async function cancelMatching(db: DbOrTx, userId: string, match: JobMatch): Promise<number> {
  const result = await db.execute(sql`
    UPDATE jobs SET ${CANCEL}
    -- Two arms rather than an IN list: each is one index's predicate (jobs_claim_idx by user, and the
    -- few running jobs through jobs_lease_idx), which the planner combines in a bitmap OR.
    WHERE user_id = ${userId} AND (status = 'queued' OR status = 'running')
      ${match.kind === undefined ? sql`` : sql`AND kind = ${match.kind}`}
      ${match.payload === undefined ? sql`` : sql`AND payload @> ${JSON.stringify(match.payload)}::jsonb`}
      ${match.dedupeKeys === undefined ? sql`` : sql`AND dedupe_key = ANY(${param([...match.dedupeKeys])}::text[])`}
  `);
  return rowCount(result);
}
