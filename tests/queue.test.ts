import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  cancel,
  cancelMatching,
  claim,
  enqueue,
  enqueueMany,
  getJob,
  getJobs,
  heartbeat,
  pruneFinishedJobs,
  queueStats,
  reclaimExpired,
  retryJob,
  setProgress,
  settle,
  userJobsForExport,
} from '../lib/jobs';
import { cancelJobs, listJobs } from '../lib/jobs/sql/operator';
import { JobStateError } from '../lib/jobs/errors';
import { claimable } from '../lib/jobs/sql/claim';
import { settleAndHandOff } from '../lib/jobs/sql/settle';
import { useQueueDatabase } from './helpers/queue';

const database = useQueueDatabase();

const claimOptions = { runnerId: 'r1', limit: 10, leaseSeconds: 30, perUserCap: 100 };

describe('enqueue', () => {
  it('inserts one job with defaults', async () => {
    const { job, created } = await enqueue(database.db, { kind: 'k', userId: 'u1', payload: { a: 1 } });
    expect(created).toBe(true);
    expect(job).toMatchObject({ kind: 'k', userId: 'u1', payload: { a: 1 }, status: 'queued', attempts: 0, priority: 0 });
  });

  it('inserts many in one call, keeping their order', async () => {
    const results = await enqueueMany(
      database.db,
      Array.from({ length: 50 }, (_, i) => ({ kind: 'k', userId: `u${i % 3}`, payload: { i } })),
    );
    expect(results.map((r) => (r.job.payload as { i: number }).i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(results.every((r) => r.created)).toBe(true);
  });

  it('returns the queued job for a second enqueue with the same dedupe key', async () => {
    const first = await enqueue(database.db, { kind: 'k', userId: 'u1', dedupeKey: 'sync:1' });
    const second = await enqueue(database.db, { kind: 'k', userId: 'u1', dedupeKey: 'sync:1' });
    expect(second).toEqual({ job: expect.objectContaining({ id: first.job.id }), created: false });
    const bulk = await enqueueMany(database.db, [
      { kind: 'k', userId: 'u1', dedupeKey: 'sync:2' },
      { kind: 'k', userId: 'u1', dedupeKey: 'sync:2' },
      { kind: 'k', userId: 'u1', dedupeKey: 'sync:1' },
    ]);
    expect(bulk.map((r) => r.created)).toEqual([true, false, false]);
    expect(bulk[1]!.job.id).toBe(bulk[0]!.job.id);
    expect(bulk[2]!.job.id).toBe(first.job.id);
    expect((await queueStats(database.db)).queued).toBe(2);
  });

  it('returns the running job, marks it for a rerun when asked, and frees the key once it is done', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1', dedupeKey: 'key' });
    const [claimed] = await claim(database.db, claimOptions);
    const again = await enqueue(database.db, { kind: 'k', userId: 'u1', dedupeKey: 'key', rerunIfRunning: true });
    expect(again.created).toBe(false);
    expect(again.job.id).toBe(job.id);
    await settle(database.db, 'r1', [{ id: job.id, attempt: claimed!.attempts, outcome: 'succeeded' }]);
    const rerun = await getJob(database.db, job.id);
    expect(rerun).toMatchObject({ status: 'queued', attempts: 0, rerunRequestedAt: null });
    const [second] = await claim(database.db, claimOptions);
    await settle(database.db, 'r1', [{ id: job.id, attempt: second!.attempts, outcome: 'succeeded' }]);
    expect((await getJob(database.db, job.id))!.status).toBe('succeeded');
    const fresh = await enqueue(database.db, { kind: 'k', userId: 'u1', dedupeKey: 'key' });
    expect(fresh.created).toBe(true);
    expect(fresh.job.id).not.toBe(job.id);
  });
});

describe('claim', () => {
  it('takes jobs by priority, then run_at, then id, and not before run_at', async () => {
    const now = Date.now();
    await enqueueMany(database.db, [
      { kind: 'k', userId: 'u1', payload: { n: 'late' }, runAt: new Date(now - 1_000) },
      { kind: 'k', userId: 'u1', payload: { n: 'early' }, runAt: new Date(now - 5_000) },
      { kind: 'k', userId: 'u1', payload: { n: 'urgent' }, priority: -1 },
      { kind: 'k', userId: 'u1', payload: { n: 'future' }, runAt: new Date(now + 60_000) },
    ]);
    const jobs = await claim(database.db, { ...claimOptions, limit: 1 });
    const rest = await claim(database.db, claimOptions);
    expect([...jobs, ...rest].map((j) => (j.payload as { n: string }).n)).toEqual(['urgent', 'early', 'late']);
    expect(jobs[0]).toMatchObject({ status: 'running', attempts: 1, lockedBy: 'r1' });
  });

  it('is fair across users: every user gets a turn before anyone gets a second', async () => {
    await enqueueMany(database.db, [
      ...Array.from({ length: 10 }, () => ({ kind: 'k', userId: 'heavy' })),
      { kind: 'k', userId: 'light-1' },
      { kind: 'k', userId: 'light-2' },
    ]);
    const jobs = await claim(database.db, { ...claimOptions, limit: 3 });
    expect(jobs.map((j) => j.userId).sort()).toEqual(['heavy', 'light-1', 'light-2']);
  });

  it('takes only the users a batch needs (a quantum each), leaving the others to the next claimer', async () => {
    // 20 users, 10 jobs each, interleaved: user-0 has the oldest head, then user-1, ...
    await enqueueMany(
      database.db,
      Array.from({ length: 200 }, (_, i) => ({ kind: 'k', userId: `user-${String(i % 20).padStart(2, '0')}` })),
    );
    const perUser = (jobs: { userId: string }[]) =>
      Object.fromEntries([...new Set(jobs.map((j) => j.userId))].sort().map((u) => [u, jobs.filter((j) => j.userId === u).length]));
    // A batch of 20: a quantum of 2 jobs, so 10 users, the 10 whose most urgent job is oldest.
    const first = await claim(database.db, { ...claimOptions, limit: 20 });
    expect(perUser(first)).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, u) => [`user-${String(u).padStart(2, '0')}`, 2])));
    // The next claimer gets the next 10 users (whose heads are now the oldest), not the same ones.
    const second = await claim(database.db, { ...claimOptions, runnerId: 'r2', limit: 20 });
    expect(perUser(second)).toEqual(Object.fromEntries(Array.from({ length: 10 }, (_, u) => [`user-${String(u + 10).padStart(2, '0')}`, 2])));
    // When the users a batch would take have fewer jobs than the quantum, it takes more users.
    const sparse = await claim(database.db, { ...claimOptions, limit: 200, quantum: 50 });
    expect(sparse).toHaveLength(160);
    expect(Object.keys(perUser(sparse))).toHaveLength(20);
  });

  it('claimers running at once each get jobs, never the same one, never over a cap', async () => {
    await enqueueMany(
      database.db,
      Array.from({ length: 400 }, (_, i) => ({ kind: 'k', userId: `user-${i % 40}` })),
    );
    const batches = await Promise.all(
      Array.from({ length: 6 }, (_, r) => claim(database.db, { ...claimOptions, runnerId: `r${r}`, limit: 40, perUserCap: 3 })),
    );
    expect(batches.filter((batch) => batch.length > 0).length).toBeGreaterThanOrEqual(2);
    // Then one at a time until nothing is claimable: exactly the caps' worth, never more.
    for (let more = await claim(database.db, { ...claimOptions, limit: 40, perUserCap: 3 }); more.length > 0; ) {
      batches.push(more);
      more = await claim(database.db, { ...claimOptions, limit: 40, perUserCap: 3 });
    }
    const all = batches.flat();
    expect(new Set(all.map((j) => j.id)).size).toBe(all.length);
    const byUser = new Map<string, number>();
    for (const job of all) byUser.set(job.userId, (byUser.get(job.userId) ?? 0) + 1);
    expect([...byUser.values()].every((n) => n === 3)).toBe(true);
    expect(all).toHaveLength(120);
  });

  it('never runs more than the per-user cap, and the cap can be set per user', async () => {
    await enqueueMany(database.db, Array.from({ length: 6 }, () => ({ kind: 'k', userId: 'u1' })));
    await enqueueMany(database.db, Array.from({ length: 6 }, () => ({ kind: 'k', userId: 'vip' })));
    await database.pool.query(`UPDATE job_users SET running_cap = 5 WHERE user_id = 'vip'`);
    const first = await claim(database.db, { ...claimOptions, perUserCap: 2 });
    const second = await claim(database.db, { ...claimOptions, perUserCap: 2 });
    const count = (jobs: { userId: string }[], user: string) => jobs.filter((j) => j.userId === user).length;
    expect(count(first, 'u1')).toBe(2);
    expect(count(first, 'vip')).toBe(5);
    expect(second).toHaveLength(0);
  });

  it('claimable: some user has a runnable job and a free slot (what an empty claim asks before the pass ends)', async () => {
    expect(await claimable(database.db, 1)).toBe(false);
    await enqueue(database.db, { kind: 'k', userId: 'later', runAt: new Date(Date.now() + 60_000) });
    expect(await claimable(database.db, 1)).toBe(false);
    await enqueueMany(database.db, [{ kind: 'k', userId: 'u1' }, { kind: 'k', userId: 'u1' }]);
    expect(await claimable(database.db, 1)).toBe(true);
    expect(await claim(database.db, { ...claimOptions, perUserCap: 1 })).toHaveLength(1);
    // u1's second job waits for its slot: nothing is claimable at a cap of 1, something is at 2.
    expect(await claimable(database.db, 1)).toBe(false);
    expect(await claimable(database.db, 2)).toBe(true);
  });
});

describe('settle', () => {
  it('completes a job and frees the slot', async () => {
    await enqueue(database.db, { kind: 'k', userId: 'u1' });
    const [job] = await claim(database.db, claimOptions);
    const settled = await settle(database.db, 'r1', [{ id: job!.id, attempt: 1, outcome: 'succeeded', result: { n: 3 } }]);
    expect(settled).toEqual([{ id: job!.id, userId: 'u1', status: 'succeeded' }]);
    expect(await getJob(database.db, job!.id)).toMatchObject({ status: 'succeeded', result: { n: 3 }, lockedBy: null });
  });

  it('is fenced: a runner that lost its lease changes nothing', async () => {
    await enqueue(database.db, { kind: 'k', userId: 'u1' });
    const [job] = await claim(database.db, { ...claimOptions, runnerId: 'old', leaseSeconds: 0.05 });
    await new Promise((r) => setTimeout(r, 100));
    expect(await reclaimExpired(database.db)).toHaveLength(1);
    const [taken] = await claim(database.db, { ...claimOptions, runnerId: 'new' });
    expect(taken!.attempts).toBe(2);
    expect(await settle(database.db, 'old', [{ id: job!.id, attempt: 1, outcome: 'succeeded' }])).toEqual([]);
    expect(await heartbeat(database.db, 'old', [{ id: job!.id, attempt: 1 }], 30)).toEqual([]);
    expect(await setProgress(database.db, 'old', { id: job!.id, attempt: 1 }, { page: 9 })).toBe(false);
    expect(await getJob(database.db, job!.id)).toMatchObject({ status: 'running', lockedBy: 'new', progress: null });
  });

  it('retries at the given time, then goes dead after max attempts with the last error', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1', maxAttempts: 2 });
    await claim(database.db, claimOptions);
    const retryAt = new Date(Date.now() + 45_000);
    await settle(database.db, 'r1', [{ id: job.id, attempt: 1, outcome: 'retry', error: 'boom 1', retryAt }]);
    const queued = await getJob(database.db, job.id);
    expect(queued).toMatchObject({ status: 'queued', attempts: 1, lastError: 'boom 1' });
    expect(Math.abs(queued!.runAt.getTime() - retryAt.getTime())).toBeLessThan(5);
    expect(await claim(database.db, claimOptions)).toHaveLength(0);
    await database.pool.query('UPDATE jobs SET run_at = now()');
    await claim(database.db, claimOptions);
    await settle(database.db, 'r1', [{ id: job.id, attempt: 2, outcome: 'retry', error: 'boom 2', retryAt }]);
    expect(await getJob(database.db, job.id)).toMatchObject({ status: 'dead', attempts: 2, lastError: 'boom 2 (gave up after 2 attempts)' });
    expect((await queueStats(database.db)).dead).toBe(1);
  });

  it('defers without spending an attempt', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1', maxAttempts: 1 });
    await claim(database.db, claimOptions);
    const until = new Date(Date.now() + 60_000);
    await settle(database.db, 'r1', [{ id: job.id, attempt: 1, outcome: 'deferred', until, reason: 'quota' }]);
    expect(await getJob(database.db, job.id)).toMatchObject({ status: 'queued', attempts: 0, runAt: until, lastError: 'deferred: quota' });
  });

  it('ends a job as failed when retrying cannot help', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1' });
    await claim(database.db, claimOptions);
    await settle(database.db, 'r1', [{ id: job.id, attempt: 1, outcome: 'failed', error: 'connection deleted' }]);
    expect(await getJob(database.db, job.id)).toMatchObject({ status: 'failed', lastError: 'connection deleted' });
  });

  it('stores any error message and result: NUL and a surrogate pair cut in half become U+FFFD, the batch settles', async () => {
    const jobs = await enqueueMany(database.db, Array.from({ length: 4 }, () => ({ kind: 'k', userId: 'u1' })));
    await claim(database.db, claimOptions);
    const [failed, retried, succeeded, nothing] = jobs.map((r) => r.job.id) as [number, number, number, number];
    const cut = 'subject 😀'.slice(0, -1); // ends in a lone high surrogate, as a message cut at a length does
    const settled = await settle(database.db, 'r1', [
      { id: failed, attempt: 1, outcome: 'failed', error: `bad\u0000byte ${cut}` },
      { id: retried, attempt: 1, outcome: 'retry', error: '\udc00 lone low', retryAt: new Date(Date.now() + 60_000) },
      { id: succeeded, attempt: 1, outcome: 'succeeded', result: { text: 'a\u0000b', list: ['\ud800'], n: 1 } },
      { id: nothing, attempt: 1, outcome: 'succeeded', result: null },
    ]);
    expect(settled).toHaveLength(4);
    expect(await getJob(database.db, failed)).toMatchObject({ status: 'failed', lastError: 'bad\uFFFDbyte subject \uFFFD' });
    expect(await getJob(database.db, retried)).toMatchObject({ status: 'queued', lastError: '\uFFFD lone low' });
    expect(await getJob(database.db, succeeded)).toMatchObject({ status: 'succeeded', result: { text: 'a\uFFFDb', list: ['\uFFFD'], n: 1 } });
    // A null result is stored as JSON null, not taken for "no result".
    const { rows: stored } = await database.pool.query(`SELECT result IS NULL AS sql_null, jsonb_typeof(result) AS type FROM jobs WHERE id = $1`, [nothing]);
    expect(stored).toEqual([{ sql_null: false, type: 'null' }]);
  });
});

describe('settle and hand off', () => {
  const runningOf = async (userId: string) =>
    (await database.pool.query(`SELECT running FROM job_users WHERE user_id = $1`, [userId])).rows[0]?.running;

  it("hands each freed slot to the same user's next job, in order, and releases what no successor took", async () => {
    const many = await enqueueMany(database.db, Array.from({ length: 6 }, (_, i) => ({ kind: 'k', userId: 'u1', payload: { i } })));
    await enqueueMany(database.db, Array.from({ length: 3 }, () => ({ kind: 'k', userId: 'u2' })));
    const held = await claim(database.db, { ...claimOptions, perUserCap: 2 });
    expect(held).toHaveLength(4);
    const { settled, handedOff } = await settleAndHandOff(
      database.db,
      'r1',
      held.map((job) => ({ id: job.id, attempt: job.attempts, outcome: 'succeeded' as const })),
      { limit: 10, leaseSeconds: 30, perUserCap: 2 },
    );
    expect(settled.map((job) => job.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    // u1's next two in queue order; u2 had one job left, so one of its slots is released.
    expect(handedOff.filter((job) => job.userId === 'u1').map((job) => job.id)).toEqual([many[2]!.job.id, many[3]!.job.id]);
    expect(handedOff.filter((job) => job.userId === 'u2')).toHaveLength(1);
    expect(handedOff.every((job) => job.status === 'running' && job.lockedBy === 'r1' && job.attempts === 1)).toBe(true);
    expect(await runningOf('u1')).toBe(2);
    expect(await runningOf('u2')).toBe(1);
    // A handed-off job is held like a claimed one: fenced by its attempt, settled like any other.
    expect(await settle(database.db, 'other', [{ id: handedOff[0]!.id, attempt: 1, outcome: 'succeeded' }])).toEqual([]);
    await settle(database.db, 'r1', handedOff.map((job) => ({ id: job.id, attempt: job.attempts, outcome: 'succeeded' as const })));
    expect(await runningOf('u1')).toBe(0);
  });

  it('takes no more than its limit, never over a cap lowered meanwhile, and none with a limit of 0', async () => {
    await enqueueMany(database.db, Array.from({ length: 10 }, () => ({ kind: 'k', userId: 'u1' })));
    await enqueueMany(database.db, Array.from({ length: 10 }, () => ({ kind: 'k', userId: 'u2' })));
    const held = await claim(database.db, { ...claimOptions, perUserCap: 3 });
    expect(held).toHaveLength(6);
    await database.pool.query(`UPDATE job_users SET running_cap = 1 WHERE user_id = 'u2'`);
    const settlements = (jobs: typeof held) => jobs.map((job) => ({ id: job.id, attempt: job.attempts, outcome: 'succeeded' as const }));
    const u1 = held.filter((job) => job.userId === 'u1');
    const u2 = held.filter((job) => job.userId === 'u2');
    const first = await settleAndHandOff(database.db, 'r1', settlements(u1), { limit: 2, leaseSeconds: 30, perUserCap: 3 });
    expect(first.handedOff).toHaveLength(2);
    expect(await runningOf('u1')).toBe(2);
    // u2 ran 3 under a cap now 1: its 3 slots pass to 1 successor.
    const second = await settleAndHandOff(database.db, 'r1', settlements(u2), { limit: 10, leaseSeconds: 30, perUserCap: 3 });
    expect(second.handedOff).toHaveLength(1);
    expect(await runningOf('u2')).toBe(1);
    const third = await settleAndHandOff(database.db, 'r1', settlements(first.handedOff), { limit: 0, leaseSeconds: 30, perUserCap: 3 });
    expect(third).toEqual({ settled: first.handedOff.map((job) => ({ id: job.id, userId: 'u1', status: 'succeeded' })), handedOff: [] });
    expect(await runningOf('u1')).toBe(0);
  });
});

describe('leases', () => {
  it('heartbeats extend the lease; a lapsed lease is claimable again with its attempt spent', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1' });
    await claim(database.db, { ...claimOptions, leaseSeconds: 1 });
    const before = (await getJob(database.db, job.id))!.lockedUntil!;
    expect(await heartbeat(database.db, 'r1', [{ id: job.id, attempt: 1 }], 30)).toEqual([{ id: job.id, cancelRequested: false }]);
    expect((await getJob(database.db, job.id))!.lockedUntil!.getTime()).toBeGreaterThan(before.getTime() + 20_000);
    await database.pool.query(`UPDATE jobs SET locked_until = now() - interval '1 second'`);
    expect(await reclaimExpired(database.db)).toEqual([{ id: job.id, userId: 'u1', status: 'queued' }]);
    const [again] = await claim(database.db, claimOptions);
    expect(again).toMatchObject({ id: job.id, attempts: 2 });
    expect((await getJob(database.db, job.id))!.lastError).toMatch(/lease expired: runner r1/);
  });

  it('a lapsed job on its last attempt is dead', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1', maxAttempts: 1 });
    await claim(database.db, claimOptions);
    await database.pool.query(`UPDATE jobs SET locked_until = now() - interval '1 second'`);
    await reclaimExpired(database.db);
    expect((await getJob(database.db, job.id))!.status).toBe('dead');
  });

  it('progress is stored while the lease is held', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1' });
    await claim(database.db, claimOptions);
    expect(await setProgress(database.db, 'r1', { id: job.id, attempt: 1 }, { phase: 'backfill', pages: 3 })).toBe(true);
    expect((await getJob(database.db, job.id))!.progress).toEqual({ phase: 'backfill', pages: 3 });
  });
});

describe('cancel and retry', () => {
  it('cancels a queued job at once, and only for its owner', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1' });
    expect(await cancel(database.db, job.id, 'someone-else')).toBeNull();
    expect(await cancel(database.db, job.id, 'u1')).toMatchObject({ status: 'cancelled' });
    expect(await claim(database.db, claimOptions)).toHaveLength(0);
  });

  it('marks a running job; its heartbeat reports it and its settlement ends it cancelled', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1' });
    await claim(database.db, claimOptions);
    expect(await cancel(database.db, job.id)).toMatchObject({ status: 'running' });
    expect(await heartbeat(database.db, 'r1', [{ id: job.id, attempt: 1 }], 30)).toEqual([{ id: job.id, cancelRequested: true }]);
    await settle(database.db, 'r1', [{ id: job.id, attempt: 1, outcome: 'succeeded' }]);
    expect((await getJob(database.db, job.id))!.status).toBe('cancelled');
  });

  it('retries a dead job with fresh attempts, and refuses other states', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1', maxAttempts: 1 });
    await expect(retryJob(database.db, job.id)).rejects.toBeInstanceOf(JobStateError);
    await claim(database.db, claimOptions);
    await settle(database.db, 'r1', [{ id: job.id, attempt: 1, outcome: 'retry', error: 'x', retryAt: new Date() }]);
    expect((await retryJob(database.db, job.id))).toMatchObject({ status: 'queued', attempts: 0 });
    await expect(retryJob(database.db, 999_999)).rejects.toMatchObject({ code: 'job_not_found' });
  });

  it('refuses to retry a dead job whose dedupe key another job now holds', async () => {
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1', maxAttempts: 1, dedupeKey: 'd' });
    await claim(database.db, claimOptions);
    await settle(database.db, 'r1', [{ id: job.id, attempt: 1, outcome: 'dead', error: 'x' }]);
    await enqueue(database.db, { kind: 'k', userId: 'u1', dedupeKey: 'd' });
    await expect(retryJob(database.db, job.id)).rejects.toMatchObject({ code: 'job_conflict' });
  });
});

describe('what other modules ask of the queue', () => {
  it('cancels the live jobs of a user that match a payload, a kind and dedupe keys', async () => {
    const [a, b, other, elsewhere, keyed, otherKind] = (
      await enqueueMany(database.db, [
        { kind: 'sync', userId: 'u1', payload: { connectionId: 7, stream: 'a' } },
        { kind: 'sync', userId: 'u1', payload: { connectionId: 7, stream: 'b' } },
        { kind: 'sync', userId: 'u2', payload: { connectionId: 7 } },
        { kind: 'sync', userId: 'u1', payload: { connectionId: 8 } },
        { kind: 'sync', userId: 'u1', dedupeKey: 'sync:9:x' },
        { kind: 'other', userId: 'u1', dedupeKey: 'sync:9:y' },
      ])
    ).map((r) => r.job);
    await claim(database.db, { ...claimOptions, limit: 1 }); // a is running
    expect(await cancelMatching(database.db, 'u1', { payload: { connectionId: 7 } })).toBe(2);
    expect((await getJob(database.db, a!.id))!).toMatchObject({ status: 'running', cancelRequestedAt: expect.any(Date) });
    expect((await getJob(database.db, b!.id))!).toMatchObject({ status: 'cancelled', finishedAt: expect.any(Date) });
    expect((await getJob(database.db, other!.id))!.status).toBe('queued');
    expect((await getJob(database.db, elsewhere!.id))!.status).toBe('queued');

    expect(await cancelMatching(database.db, 'u1', { kind: 'sync', dedupeKeys: ['sync:9:x', 'sync:9:y'] })).toBe(1);
    expect((await getJob(database.db, keyed!.id))!.status).toBe('cancelled');
    expect((await getJob(database.db, otherKind!.id))!.status).toBe('queued');
    // Finished jobs are not touched again: the count is of live jobs only.
    expect(await cancelMatching(database.db, 'u1', { dedupeKeys: ['sync:9:x'] })).toBe(0);
    await settle(database.db, 'r1', [{ id: a!.id, attempt: 1, outcome: 'succeeded' }]);
    expect((await getJob(database.db, a!.id))!.status).toBe('cancelled');
  });

  it("reads a user's jobs of every status in id order, the running ones too (they are in no by-user index), page by page", async () => {
    // u1: ids 1-6 in turn finished, running, queued; u2's interleaved jobs must never show up.
    const ids = (
      await enqueueMany(
        database.db,
        Array.from({ length: 12 }, (_, i) => ({ kind: 'k', userId: i % 2 === 0 ? 'u1' : 'u2', payload: { i } })),
      )
    ).map((r) => r.job.id);
    const mine = ids.filter((_, i) => i % 2 === 0);
    const running = await claim(database.db, { ...claimOptions, limit: 4 });
    const ran = running.filter((job) => job.userId === 'u1');
    await settle(database.db, 'r1', ran.slice(0, 1).map((job) => ({ id: job.id, attempt: 1, outcome: 'succeeded' as const })));
    const statuses = async () => (await getJobs(database.db, mine)).map((job) => job.status).sort();
    expect(await statuses()).toEqual(['queued', 'queued', 'queued', 'queued', 'running', 'succeeded']);

    const newestFirst = [...mine].sort((x, y) => y - x);
    const pages: number[][] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await listJobs(database.db, { userId: 'u1' }, { limit: 4, ...(beforeId === undefined ? {} : { beforeId }) });
      if (page.length === 0) break;
      pages.push(page.map((job) => job.id));
      beforeId = page.at(-1)!.id;
    }
    expect(pages.flat()).toEqual(newestFirst);
    expect(pages[0]).toHaveLength(4);
    expect((await listJobs(database.db, { userId: 'u1', status: 'running' }, { limit: 10 })).map((job) => job.id)).toEqual([ran[1]!.id]);
    expect((await listJobs(database.db, { userId: 'u1', status: 'queued' }, { limit: 10 })).map((job) => job.id)).toEqual(
      newestFirst.filter((id) => id !== ran[0]!.id && id !== ran[1]!.id),
    );

    const exported: number[] = [];
    for (let afterId = 0; ; ) {
      const page = await userJobsForExport(database.db, 'u1', afterId, 4);
      if (page.length === 0) break;
      for (const row of page) expect(JSON.parse(row.row)).toMatchObject({ id: row.id, user_id: 'u1' });
      exported.push(...page.map((row) => row.id));
      afterId = page.at(-1)!.id;
    }
    expect(exported).toEqual(mine);

    // A bulk cancel by user reaches the running job as well as the queued ones, and no one else's.
    const cancelled = await cancelJobs(database.db, { filter: { userId: 'u1' }, limit: 100 });
    expect(cancelled).toEqual(newestFirst.filter((id) => id !== ran[0]!.id));
    expect(await cancelJobs(database.db, { filter: { userId: 'u1', status: 'dead' }, limit: 100 })).toEqual([]);
    expect((await getJobs(database.db, ids.filter((_, i) => i % 2 === 1))).every((job) => job.cancelRequestedAt === null)).toBe(true);
  });

  it("lists a user's jobs by id, in id order, leaving out others' and unknown ids", async () => {
    const [first, second, theirs] = (
      await enqueueMany(database.db, [
        { kind: 'k', userId: 'u1', payload: { n: 1 } },
        { kind: 'k', userId: 'u1', payload: { n: 2 } },
        { kind: 'k', userId: 'u2', payload: { n: 3 } },
      ])
    ).map((r) => r.job);
    const mine = await getJobs(database.db, [second!.id, theirs!.id, first!.id, 999_999], 'u1');
    expect(mine.map((job) => job.id)).toEqual([first!.id, second!.id]);
    expect(mine[1]).toEqual(second);
    expect((await getJobs(database.db, [theirs!.id, first!.id])).map((job) => job.id)).toEqual([first!.id, theirs!.id]);
    expect(await getJobs(database.db, [])).toEqual([]);
  });

  it('prunes finished jobs past retention and keeps dead, live and recent ones', async () => {
    const jobs = (
      await enqueueMany(
        database.db,
        ['succeeded', 'cancelled', 'failed', 'dead', 'succeeded', 'queued'].map((status) => ({ kind: 'k', userId: 'u1', payload: { status } })),
      )
    ).map((r) => r.job);
    const ages = [8, 9, 30, 30, 1];
    for (const [k, days] of ages.entries()) {
      await database.pool.query(`UPDATE jobs SET status = $2, finished_at = now() - make_interval(days => $3) WHERE id = $1`, [
        jobs[k]!.id,
        (jobs[k]!.payload as { status: string }).status,
        days,
      ]);
    }
    expect(await pruneFinishedJobs(database.db, 7)).toBe(3);
    const left = await getJobs(database.db, jobs.map((job) => job.id));
    expect(left.map((job) => job.status)).toEqual(['dead', 'succeeded', 'queued']);
    expect(await pruneFinishedJobs(database.db, 7)).toBe(0);
  });

  it('counts jobs by status and reports the age of the oldest runnable one', async () => {
    expect(await queueStats(database.db)).toEqual({ queued: 0, runnable: 0, running: 0, dead: 0, oldestRunnableAgeSeconds: null });
    const now = Date.now();
    await enqueueMany(database.db, [
      { kind: 'k', userId: 'u1', runAt: new Date(now - 120_000) },
      { kind: 'k', userId: 'u1', runAt: new Date(now - 1_000) },
      { kind: 'k', userId: 'u2', runAt: new Date(now + 600_000) },
      { kind: 'k', userId: 'u3', runAt: new Date(now - 60_000), maxAttempts: 1 },
    ]);
    const [oldest, dying] = await claim(database.db, { ...claimOptions, limit: 2 });
    expect(oldest!.userId).toBe('u1');
    expect(dying!.userId).toBe('u3');
    await settle(database.db, 'r1', [{ id: dying!.id, attempt: 1, outcome: 'dead', error: 'x' }]);
    const stats = await queueStats(database.db);
    expect(stats).toMatchObject({ queued: 2, runnable: 1, running: 1, dead: 1 });
    expect(stats.oldestRunnableAgeSeconds).toBeGreaterThan(0.5);
    expect(stats.oldestRunnableAgeSeconds).toBeLessThan(60);
  });
});

describe('the claim path', () => {
  it('uses the partial claim index (EXPLAIN)', async () => {
    await enqueueMany(
      database.db,
      Array.from({ length: 2_000 }, (_, i) => ({ kind: 'k', userId: `u${i % 20}` })),
    );
    await database.pool.query('ANALYZE jobs; ANALYZE job_users');
    const { rows } = await database.pool.query(`EXPLAIN
      SELECT j.id FROM jobs j WHERE j.user_id = 'u1' AND j.status = 'queued' AND j.run_at <= now()
      ORDER BY j.priority, j.run_at, j.id LIMIT 5`);
    expect(rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/jobs_claim_idx/);
    z.array(z.unknown()).parse(await claim(database.db, claimOptions));
  });
});
