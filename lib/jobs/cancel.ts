import { sql } from 'drizzle-orm';
import type { DbOrTx } from './queue';

/**
 * Cancels a user's queued jobs whose payload contains `payloadSubset` at once and asks the running
 * ones to stop (their runner aborts them at the next heartbeat). Returns how many were touched.
 */
export async function cancelJobsMatching(db: DbOrTx, userId: string, payloadSubset: Record<string, unknown>): Promise<number> {
  const result = await db.execute(sql`
    UPDATE jobs SET
      status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
      cancel_requested_at = coalesce(cancel_requested_at, now()),
      finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
      updated_at = now()
    WHERE user_id = ${userId} AND status IN ('queued', 'running') AND payload @> ${JSON.stringify(payloadSubset)}::jsonb
  `);
  return (result as { rowCount?: number | null }).rowCount ?? 0;
}
