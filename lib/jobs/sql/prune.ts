import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { rowCount } from './result';

/**
 * Deletes jobs that finished (succeeded, cancelled or failed) more than `retentionDays` ago, in one
 * statement; returns how many. Dead jobs stay: they wait for an operator's retry. A finished job is
 * not running, so job_users.running is unaffected.
 */
export async function pruneFinishedJobs(db: DbOrTx, retentionDays: number): Promise<number> {
  const result = await db.execute(sql`
    DELETE FROM jobs
    WHERE status IN ('succeeded', 'cancelled', 'failed')
      AND finished_at < now() - make_interval(days => ${retentionDays})
  `);
  return rowCount(result);
}
