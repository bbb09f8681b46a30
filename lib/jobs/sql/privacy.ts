import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { userJobsInIdOrder } from './by-user';

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

/**
 * A page of the user's jobs for their data export, after the job `afterId` in id order (`userJobsInIdOrder`):
 * each as Postgres' row_to_json writes it, the export's format. Read in the export's one snapshot, the
 * pages add up to the user's jobs at that instant.
 */
export async function userJobsForExport(db: DbOrTx, userId: string, afterId: number, limit: number): Promise<{ id: number; row: string }[]> {
  const result = await db.execute(
    userJobsInIdOrder(sql`id, row_to_json(jobs)::text AS row`, sql`user_id = ${userId} AND id > ${afterId}`, { order: 'asc', limit }),
  );
  return (result.rows as { id: number | string; row: string }[]).map((r) => ({ id: Number(r.id), row: r.row }));
}
