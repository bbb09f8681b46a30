import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { rows } from './result';

/** What the health check reports of the queue. */
export interface QueueStats {
  queued: number;
  runnable: number;
  running: number;
  dead: number;
  oldestRunnableAgeSeconds: number | null;
}

/** Counts by status and the age of the oldest runnable job, in one statement (the partial indexes serve each). */
export async function queueStats(db: DbOrTx): Promise<QueueStats> {
  const [row] = rows(
    await db.execute(sql`
      SELECT
        (SELECT count(*) FROM jobs WHERE status = 'queued')::int AS queued,
        (SELECT count(*) FROM jobs WHERE status = 'queued' AND run_at <= now())::int AS runnable,
        (SELECT count(*) FROM jobs WHERE status = 'running')::int AS running,
        (SELECT count(*) FROM jobs WHERE status = 'dead')::int AS dead,
        (SELECT extract(epoch FROM now() - min(run_at)) FROM jobs WHERE status = 'queued' AND run_at <= now())::float8
          AS oldest_runnable_age_seconds
    `),
  );
  return {
    queued: row!.queued as number,
    runnable: row!.runnable as number,
    running: row!.running as number,
    dead: row!.dead as number,
    oldestRunnableAgeSeconds: (row!.oldest_runnable_age_seconds as number | null) ?? null,
  };
}
