import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { storableJson } from '../../../db/text';
import { ASYNC_COMMIT } from './async-commit';
import { param, rowCount, rows } from './result';
import { RERUN_AFTER_CANCEL, releaseSlots, toSettledJob, type SettledJob } from './settle';

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
    FROM unnest(${param(held.map((h) => h.id))}::bigint[], ${param(held.map((h) => h.attempt))}::int[]) AS h(id, attempt),
      ${ASYNC_COMMIT}
    WHERE j.id = h.id AND j.attempts = h.attempt AND j.locked_by = ${runnerId} AND j.status = 'running'
    RETURNING j.id, j.cancel_requested_at IS NOT NULL AS cancel_requested
  `);
  return rows(result).map((row) => ({ id: Number(row.id), cancelRequested: Boolean(row.cancel_requested) }));
}

/**
 * Replaces the job's progress document while this runner holds it (its strings made storable, as a
 * settlement's are). Returns false if the lease is gone.
 */
export async function setProgress(
  db: DbOrTx,
  runnerId: string,
  held: { id: number; attempt: number },
  progress: unknown,
): Promise<boolean> {
  const result = await db.execute(sql`
    UPDATE jobs SET progress = ${storableJson(progress)}::jsonb, updated_at = now()
    WHERE id = ${held.id} AND attempts = ${held.attempt} AND locked_by = ${runnerId} AND status = 'running'
  `);
  return rowCount(result) > 0;
}

/**
 * Makes jobs whose lease lapsed claimable again (their attempt stays spent). A lapsed job that had
 * used its last attempt is dead; one whose cancellation was requested is cancelled, unless a rerun was
 * asked for after it (then it is queued afresh, as settle does).
 */
const RERUN = sql.raw(RERUN_AFTER_CANCEL);

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
          WHEN ${RERUN} THEN 'queued'
          WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
          WHEN j.attempts >= j.max_attempts THEN 'dead'
          ELSE 'queued' END,
        attempts = CASE WHEN ${RERUN} THEN 0 ELSE j.attempts END,
        cancel_requested_at = CASE WHEN ${RERUN} THEN NULL ELSE j.cancel_requested_at END,
        rerun_requested_at = CASE WHEN ${RERUN} THEN NULL ELSE j.rerun_requested_at END,
        last_error = 'lease expired: runner ' || coalesce(j.locked_by, 'unknown') || ' stopped renewing it',
        locked_by = NULL,
        locked_until = NULL,
        run_at = now(),
        finished_at = CASE
          WHEN ${RERUN} THEN NULL
          WHEN j.cancel_requested_at IS NOT NULL OR j.attempts >= j.max_attempts THEN now() END,
        updated_at = now()
      FROM expired WHERE j.id = expired.id
      RETURNING j.id, j.user_id, j.status
    ),
    ${releaseSlots(sql`reclaimed`)}
    SELECT id, user_id, status FROM reclaimed, ${ASYNC_COMMIT}
  `);
  return rows(result).map(toSettledJob);
}

