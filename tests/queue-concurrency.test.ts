import { fork } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { enqueueMany } from '../lib/jobs';
import { defineHandler } from '../lib/jobs/runner';
import { useTestDatabase } from './helpers/db';
import { slotDrift, testRunner } from './helpers/runner';

/** The queue under real concurrency against real Postgres. */
const database = useTestDatabase({ poolMax: 40 });

describe('queue under concurrency', () => {
  it('4 runner loops on 2,000 jobs run every handler exactly once', async () => {
    await database.pool.query('TRUNCATE jobs, job_users');
    const runs = new Map<number, number>();
    // The first handlers wait until 64 run at once: more than three runners of 16 can hold, so all four
    // are claiming together (on a loaded machine a runner that connects late could otherwise find the
    // 2,000 quick jobs already done, and the test would prove nothing about concurrent claims).
    let running = 0;
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const handlers = {
      count: defineHandler({
        payload: z.object({ i: z.number() }),
        run: async (_, { job }) => {
          runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
          running += 1;
          try {
            if (running >= 64) openGate();
            await Promise.race([gate, new Promise((r) => setTimeout(r, 10_000))]);
            if (job.id % 7 === 0) await new Promise((r) => setTimeout(r, 1));
          } finally {
            running -= 1;
          }
        },
      }),
    };
    const enqueued = await enqueueMany(
      database.db,
      Array.from({ length: 2_000 }, (_, i) => ({ kind: 'count', userId: `user-${i % 25}`, payload: { i } })),
    );
    const runners = Array.from({ length: 4 }, () => testRunner(database.db, handlers, { concurrency: 16, batchSize: 16 }));
    const summaries = await Promise.all(runners.map((r) => r.run({ deadline: Date.now() + 50_000 })));

    expect(summaries.reduce((n, s) => n + s.succeeded, 0)).toBe(2_000);
    expect(summaries.every((s) => s.claimed > 0)).toBe(true);
    expect(runs.size).toBe(2_000);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(enqueued.map((e) => e.job.id))).toEqual(new Set(runs.keys()));
    const { rows } = await database.pool.query(`SELECT status, count(*)::int AS n FROM jobs GROUP BY status`);
    expect(rows).toEqual([{ status: 'succeeded', n: 2_000 }]);
    expect(await slotDrift(database.db)).toEqual([]);
  });

  it('a runner killed with SIGKILL mid-job loses nothing: another finishes its jobs once the leases lapse', async () => {
    await database.pool.query('TRUNCATE jobs, job_users');
    const leaseSeconds = 2;
    await enqueueMany(database.db, Array.from({ length: 30 }, (_, i) => ({ kind: 'slow', userId: `u${i % 3}`, payload: { i } })));

    const child = fork(new URL('./fixtures/runner-child.ts', import.meta.url).pathname, ['slow', String(leaseSeconds)], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, DATABASE_URL: database.url },
      stdio: 'ignore',
    });
    let started = 0;
    child.on('message', () => (started += 1));
    await until(() => started >= 10, 20_000);
    const { rows: held } = await database.pool.query(`SELECT id FROM jobs WHERE status = 'running' AND locked_by = 'doomed'`);
    expect(held.length).toBeGreaterThanOrEqual(10);
    child.kill('SIGKILL');
    const killedAt = Date.now();

    const done = new Set<number>();
    const survivor = testRunner(database.db, {
      slow: defineHandler({ payload: z.unknown(), run: async (_, { job }) => void done.add(job.id) }),
    });
    while (done.size < 30 && Date.now() - killedAt < 30_000) {
      await survivor.run({ deadline: Date.now() + 2_000, idleMs: 500, pollMs: 200 });
    }
    const recoveredInMs = Date.now() - killedAt;
    const { rows } = await database.pool.query(`SELECT status, count(*)::int AS n FROM jobs GROUP BY status`);
    expect(rows).toEqual([{ status: 'succeeded', n: 30 }]);
    const { rows: retried } = await database.pool.query(`SELECT id FROM jobs WHERE attempts = 2 ORDER BY id`);
    expect(retried.map((r) => r.id).sort()).toEqual(held.map((r) => r.id).sort());
    expect(recoveredInMs).toBeLessThan(leaseSeconds * 1000 + 10_000);
    expect(await slotDrift(database.db)).toEqual([]);
  });

  it('8 runners claiming never run more than the per-user cap of 2 (sampled from the database)', async () => {
    await database.pool.query('TRUNCATE jobs, job_users');
    await enqueueMany(database.db, [
      ...Array.from({ length: 60 }, () => ({ kind: 'work', userId: 'capped' })),
      ...Array.from({ length: 60 }, (_, i) => ({ kind: 'work', userId: `other-${i % 6}` })),
    ]);
    const handlers = {
      work: defineHandler({ payload: z.unknown(), run: () => new Promise<void>((r) => setTimeout(r, 15)) }),
    };
    const runners = Array.from({ length: 8 }, () =>
      testRunner(database.db, handlers, { perUserCap: 2, concurrency: 4, batchSize: 4 }),
    );
    let sampling = true;
    const samples: number[] = [];
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await database.pool.query(
          `SELECT count(*)::int AS n FROM jobs WHERE user_id = 'capped' AND status = 'running'`,
        );
        samples.push(rows[0].n);
      }
    })();
    const summaries = await Promise.all(runners.map((r) => r.run({ deadline: Date.now() + 50_000 })));
    sampling = false;
    await sampler;

    expect(summaries.reduce((n, s) => n + s.succeeded, 0)).toBe(120);
    expect(samples.length).toBeGreaterThan(20);
    expect(Math.max(...samples)).toBe(2);
    expect(await slotDrift(database.db)).toEqual([]);
  });
});

async function until(condition: () => boolean, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
