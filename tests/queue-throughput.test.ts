import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { claim, enqueue, enqueueMany, getJobs, listenForJobs } from '../lib/jobs';
import { defineHandler } from '../lib/jobs/runner';
import { createDatabase } from '../db/client';
import { useQueueDatabase } from './helpers/queue';
import { testRunner } from './helpers/runner';

/** What the queue does to go fast: claiming ahead, waking on NOTIFY, ignoring idle users. */
const database = useQueueDatabase();
// Registered after the database's own check, so it runs before it (after-hooks run last-registered first).
afterEach(() => {
  for (const undo of restore.splice(0)) undo();
});

/** The number of jobs each claim statement took, from now on (until the test's end). */
function watchClaims(): number[] {
  const sizes: number[] = [];
  const pool = database.pool as unknown as { query: (...args: unknown[]) => Promise<{ rowCount: number | null }> };
  const query = pool.query.bind(pool);
  pool.query = async (...args: unknown[]) => {
    const result = await query(...args);
    if ((args[0] as { name?: string } | undefined)?.name === 'switchyard_claim') sizes.push(result.rowCount ?? 0);
    return result;
  };
  restore.push(() => (pool.query = query));
  return sizes;
}
const restore: (() => void)[] = [];

const statuses = async () => {
  const { rows } = await database.db.execute(sql`SELECT status, count(*)::int AS n, max(attempts)::int AS attempts FROM jobs GROUP BY status`);
  return Object.fromEntries(rows.map((row) => [row.status, { n: row.n, attempts: row.attempts }]));
};

describe('claiming ahead', () => {
  it('claims quick jobs a batch ahead of free slots, never running more than its concurrency', async () => {
    await enqueueMany(database.db, Array.from({ length: 400 }, (_, i) => ({ kind: 'quick', userId: `u${i % 4}` })));
    let running = 0;
    let most = 0;
    const claimSizes = watchClaims();
    const runner = testRunner(
      database.db,
      {
        quick: defineHandler({
          payload: z.unknown(),
          run: async () => {
            running += 1;
            most = Math.max(most, running);
            await new Promise((resolve) => setImmediate(resolve));
            running -= 1;
          },
        }),
      },
      { concurrency: 2, batchSize: 50, perUserCap: 20 },
    );
    const summary = await runner.run({ deadline: Date.now() + 10_000 });
    expect(summary).toMatchObject({ claimed: 400, succeeded: 400 });
    expect(most).toBeLessThanOrEqual(2);
    // The first claim is for the free slots; once the handlers proved quick, a batch at a time.
    expect(claimSizes[0]).toBe(2);
    expect(Math.max(...claimSizes)).toBeGreaterThan(20);
  });

  it('hands back the jobs it claimed ahead and never started, with their attempt unspent, at the deadline', async () => {
    await enqueueMany(database.db, Array.from({ length: 60 }, () => ({ kind: 'quick', userId: 'u1' })));
    let ran = 0;
    const runner = testRunner(
      database.db,
      {
        quick: defineHandler({
          payload: z.unknown(),
          run: async () => {
            ran += 1;
            // The first jobs are quick (the runner learns to claim ahead), then they take a while.
            if (ran > 8) await new Promise((resolve) => setTimeout(resolve, 150));
          },
        }),
      },
      { concurrency: 2, batchSize: 50, perUserCap: 100 },
    );
    await runner.run({ deadline: Date.now() + 400 });
    const after = await statuses();
    expect(after.running).toBeUndefined();
    // What ran succeeded; what was claimed but not started is queued again, attempts back to 0.
    expect(after.succeeded!.n).toBe(ran);
    expect(after.queued!.n).toBe(60 - ran);
    expect(after.queued!.attempts).toBe(0);
  });

  it('at the deadline, jobs handed off by settlements still under way go back too: nothing is left running', async () => {
    // Quick jobs of a few users under a small cap: slots pass from job to job in the settlements.
    await enqueueMany(database.db, Array.from({ length: 6_000 }, (_, i) => ({ kind: 'quick', userId: `u${i % 5}` })));
    const claimSizes = watchClaims();
    const runner = testRunner(
      database.db,
      { quick: defineHandler({ payload: z.unknown(), run: async () => undefined }) },
      { concurrency: 8, batchSize: 500, perUserCap: 4 },
    );
    const summary = await runner.run({ deadline: Date.now() + 300 });
    const after = await statuses();
    expect(after.running).toBeUndefined();
    expect(after.succeeded!.n).toBe(summary.succeeded);
    expect(after.succeeded!.n + after.queued!.n).toBe(6_000);
    expect(after.queued!.attempts).toBe(0);
    // Most jobs were taken by hand-off, not by claims (which took only the first slots).
    expect(claimSizes.reduce((sum, size) => sum + size, 0)).toBeLessThan(summary.claimed / 2);
  });
});

describe('waking on NOTIFY', () => {
  it('an enqueue from another connection wakes a listening runner at once', async () => {
    const started: number[] = [];
    const runner = testRunner(database.db, {
      ping: defineHandler({ payload: z.object({ at: z.number() }), run: async ({ at }) => void started.push(Date.now() - at) }),
    });
    const woken: number[] = [];
    const listener = listenForJobs({
      connectionString: database.url,
      onJobs: () => {
        woken.push(Date.now());
        void runner.kick({ deadline: Date.now() + 10_000, idleMs: 5_000, pollMs: 60_000 });
      },
    });
    const producer = createDatabase({
      connectionString: database.url,
      max: 1,
      connectionTimeoutMillis: 5_000,
      statementTimeoutMillis: 5_000,
      idleTimeoutMillis: 1_000,
    });
    try {
      // The listener looks once when it connects; let that pass go idle (it polls only each minute).
      await listener.listening;
      expect(woken.length).toBeGreaterThan(0);
      const before = woken.length;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await enqueue(producer.db, { kind: 'ping', userId: 'u1', payload: { at: Date.now() } });
      await expect.poll(() => started.length, { timeout: 5_000 }).toBe(1);
      expect(woken.length).toBeGreaterThan(before);
      // Woken by the notification, not by a poll a minute away.
      expect(started[0]).toBeLessThan(1_000);
      // A job for later notifies nobody.
      const notified = woken.length;
      await enqueue(producer.db, { kind: 'ping', userId: 'u1', payload: { at: 0 }, runAt: new Date(Date.now() + 60_000) });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(woken.length).toBe(notified);
      await database.pool.query(`UPDATE jobs SET status = 'cancelled', finished_at = now() WHERE status = 'queued'`);
    } finally {
      await listener.close();
      await producer.close();
      await runner.run({ deadline: Date.now() });
    }
  });
});

describe('idle users', () => {
  it('claims only among users with queued jobs, whatever job_users holds', async () => {
    await database.db.execute(sql`INSERT INTO job_users (user_id) SELECT 'idle-' || g FROM generate_series(1, 20000) g`);
    await enqueueMany(database.db, Array.from({ length: 20 }, (_, i) => ({ kind: 'k', userId: `busy-${i % 5}` })));
    await database.db.execute(sql`ANALYZE jobs, job_users`);
    // The claim visits job_users only by key, for the 5 users with work: never a scan of 20,000 rows.
    const plan: string[] = [];
    const explaining = {
      execute: async (query: never) => {
        const result = await database.db.execute(sql`EXPLAIN (COSTS OFF) ${query}`);
        plan.push(...result.rows.map((row) => String(row['QUERY PLAN'])));
        return { rows: [] };
      },
    };
    await claim(explaining as never, { runnerId: 'r', limit: 8, leaseSeconds: 30, perUserCap: 4 });
    expect(plan.join('\n')).not.toMatch(/Seq Scan on job_users/);
    const claimed = await claim(database.db, { runnerId: 'r', limit: 8, leaseSeconds: 30, perUserCap: 4 });
    expect(new Set(claimed.map((job) => job.userId)).size).toBe(5);
    const jobs = await getJobs(database.db, claimed.map((job) => job.id));
    expect(jobs.every((job) => job.status === 'running')).toBe(true);
    await database.pool.query(`UPDATE job_users SET running = 0; UPDATE jobs SET status = 'cancelled', locked_by = NULL, locked_until = NULL`);
  });
});
