import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';

/**
 * Read-only figures of the queue for /api/metrics and the alerts cron, read at scrape time so they
 * hold across every function instance. Each statement stays on the partial indexes of live and dead
 * jobs: finished rows (most of the table) are never scanned.
 */

export interface QueueDepth {
  kind: string;
  status: 'queued' | 'running';
  jobs: number;
}

export interface QueueMetrics {
  /** Live jobs by kind and status. */
  depth: QueueDepth[];
  dead: number;
  /** Seconds the oldest runnable job has waited; null when none is runnable. */
  oldestRunnableAgeSeconds: number | null;
  /** The most jobs one user has queued. */
  deepestUserQueued: number;
}

export async function queueMetrics(db: DbOrTx): Promise<QueueMetrics> {
  const result = await db.execute(sql`
    SELECT
      (SELECT coalesce(json_agg(d), '[]'::json) FROM (
         SELECT kind, status, count(*)::int AS jobs FROM jobs WHERE status IN ('queued', 'running') GROUP BY kind, status
       ) d) AS depth,
      (SELECT count(*) FROM jobs WHERE status = 'dead')::int AS dead,
      (SELECT extract(epoch FROM now() - min(run_at)) FROM jobs WHERE status = 'queued' AND run_at <= now())::float8
        AS oldest_runnable_age_seconds,
      (SELECT coalesce(max(n), 0) FROM (SELECT count(*)::int AS n FROM jobs WHERE status = 'queued' GROUP BY user_id) u)
        AS deepest_user_queued
  `);
  const row = result.rows[0] as {
    depth: QueueDepth[] | string;
    dead: number;
    oldest_runnable_age_seconds: number | null;
    deepest_user_queued: number;
  };
  return {
    depth: typeof row.depth === 'string' ? (JSON.parse(row.depth) as QueueDepth[]) : row.depth,
    dead: Number(row.dead),
    oldestRunnableAgeSeconds: row.oldest_runnable_age_seconds === null ? null : Number(row.oldest_runnable_age_seconds),
    deepestUserQueued: Number(row.deepest_user_queued),
  };
}

/** Users with more than `threshold` queued jobs, deepest first. */
export async function usersOverQueueDepth(
  db: DbOrTx,
  threshold: number,
  limit = 20,
): Promise<{ userId: string; queued: number }[]> {
  const result = await db.execute(sql`
    SELECT user_id, count(*)::int AS queued FROM jobs WHERE status = 'queued'
    GROUP BY user_id HAVING count(*) > ${threshold}
    ORDER BY queued DESC, user_id LIMIT ${limit}
  `);
  return (result.rows as { user_id: string; queued: number }[]).map((row) => ({ userId: row.user_id, queued: Number(row.queued) }));
}

/** Jobs that went dead in the last `minutes` minutes (the dead-letter queue growing). */
export async function deadJobsSince(db: DbOrTx, minutes: number): Promise<number> {
  const result = await db.execute(sql`
    SELECT count(*)::int AS dead FROM jobs
    WHERE status = 'dead' AND updated_at >= now() - make_interval(mins => ${minutes})
  `);
  return Number((result.rows[0] as { dead: number }).dead);
}
