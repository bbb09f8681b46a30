import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';

/**
 * A user's erasure, the queue's part: the user's finished jobs (their payloads name the user's
 * connections and streams) and the user's row of running counts. Live jobs are not deleted here:
 * `cancelMatching` stops them first (a running one at its next heartbeat), and a job still running
 * keeps its row until its runner settles it, after which retention removes it.
 */
export async function forgetUserJobs(db: DbOrTx, userId: string): Promise<number> {
  const result = await db.execute(sql`
    WITH finished AS (
      DELETE FROM jobs WHERE user_id = ${userId} AND status NOT IN ('queued', 'running') RETURNING 1
    ),
    slots AS (
      DELETE FROM job_users u WHERE u.user_id = ${userId} AND u.running = 0
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.user_id = ${userId} AND j.status = 'running')
    )
    SELECT count(*)::int AS deleted FROM finished
  `);
  return Number((result.rows[0] as { deleted: number }).deleted);
}
