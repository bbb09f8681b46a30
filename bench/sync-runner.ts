/**
 * The job runner for bench/sync.ts, in its own process so its peak RSS is the sync's and not the
 * sandbox's. On 'drain' it runs passes (each as long as the cron's, from the config) until no job is
 * queued or running, and answers with the wall time and the process's peak RSS.
 */
import { sql } from 'drizzle-orm';
import { closeDb, db } from '../lib/database';
import { passDeadline, runner } from '../lib/worker/runner';

async function live(): Promise<{ live: number; runnable: number }> {
  const result = await db().execute(sql`
    SELECT count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS live,
           count(*) FILTER (WHERE status = 'queued' AND run_at <= now())::int AS runnable
    FROM jobs`);
  return result.rows[0] as { live: number; runnable: number };
}

async function drain(): Promise<{ wallMs: number; passes: number; maxRssKb: number }> {
  const started = performance.now();
  let passes = 0;
  while (true) {
    const state = await live();
    if (state.live === 0) break;
    if (state.runnable === 0) {
      // A checkpointed job waits for the next pass (its run_at): the cron's next tick, here at once.
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    await runner().run({ deadline: passDeadline() });
    passes += 1;
  }
  return { wallMs: performance.now() - started, passes, maxRssKb: process.resourceUsage().maxRSS };
}

process.on('message', async (message) => {
  if (message === 'drain') {
    process.send?.(await drain());
  } else if (message === 'stop') {
    await closeDb();
    process.exit(0);
  }
});
process.send?.('ready');
