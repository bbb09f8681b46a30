import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { z } from 'zod';
import { DeferJobError, PermanentJobError, RetryableJobError } from '../lib/jobs/errors';
import { cancel, enqueue, enqueueMany, getJob } from '../lib/jobs';
import { defineHandler, type HandlerRegistry } from '../lib/jobs/runner';
import { useQueueDatabase } from './helpers/queue';
import { testRunner } from './helpers/runner';

const database = useQueueDatabase();

const soon = (ms = 5_000) => Date.now() + ms;
const noop = defineHandler({ payload: z.unknown(), run: async () => undefined });

describe('runner', () => {
  it('runs registered handlers and reports what happened', async () => {
    const seen: number[] = [];
    const handlers: HandlerRegistry = {
      add: defineHandler({
        payload: z.object({ n: z.number() }),
        run: async ({ n }) => {
          seen.push(n);
          return { status: 'succeeded', result: { doubled: n * 2 } };
        },
      }),
    };
    const jobs = await enqueueMany(database.db, [1, 2, 3].map((n) => ({ kind: 'add', userId: 'u1', payload: { n } })));
    const summary = await testRunner(database.db, handlers).run({ deadline: soon() });
    expect(summary).toMatchObject({ claimed: 3, succeeded: 3, failed: 0, deferred: 0, dead: 0 });
    expect(seen.sort()).toEqual([1, 2, 3]);
    expect(await getJob(database.db, jobs[2]!.job.id)).toMatchObject({ status: 'succeeded', result: { doubled: 6 } });
  });

  it('sends an unknown kind, an invalid payload and a garbage result to dead with a clear error', async () => {
    const handlers: HandlerRegistry = {
      typed: defineHandler({ payload: z.object({ id: z.string() }), run: async () => undefined }),
      garbage: defineHandler({ payload: z.unknown(), run: async () => 42 as never }),
    };
    const [unknown, invalid, garbage] = await enqueueMany(database.db, [
      { kind: 'no-such-kind', userId: 'u1' },
      { kind: 'typed', userId: 'u1', payload: { id: 7 } },
      { kind: 'garbage', userId: 'u1' },
    ]);
    const summary = await testRunner(database.db, handlers).run({ deadline: soon() });
    expect(summary).toMatchObject({ claimed: 3, dead: 3 });
    expect((await getJob(database.db, unknown!.job.id))!.lastError).toBe('unknown job kind "no-such-kind": no handler is registered for it');
    expect((await getJob(database.db, invalid!.job.id))!.lastError).toMatch(/invalid payload for typed: .*id/s);
    expect((await getJob(database.db, garbage!.job.id))!.lastError).toBe('handler for garbage returned an invalid result');
  });

  it('turns thrown errors into retries with backoff, Retry-After winning, and permanent errors into failed', async () => {
    const handlers: HandlerRegistry = {
      flaky: defineHandler({ payload: z.unknown(), run: async () => { throw new Error('socket hang up'); } }),
      limited: defineHandler({ payload: z.unknown(), run: async () => { throw new RetryableJobError('429', 120_000); } }),
      broken: defineHandler({ payload: z.unknown(), run: async () => { throw new PermanentJobError('connection deleted'); } }),
      stringy: defineHandler({ payload: z.unknown(), run: async () => { throw 'not an error'; } }),
    };
    const [flaky, limited, broken, stringy] = await enqueueMany(
      database.db,
      ['flaky', 'limited', 'broken', 'stringy'].map((kind) => ({ kind, userId: 'u1' })),
    );
    const before = Date.now();
    const summary = await testRunner(database.db, handlers, { backoffBaseMs: 10_000 }).run({ deadline: soon() });
    expect(summary).toMatchObject({ claimed: 4, failed: 4, succeeded: 0 });
    const flakyJob = (await getJob(database.db, flaky!.job.id))!;
    expect(flakyJob).toMatchObject({ status: 'queued', attempts: 1, lastError: 'Error: socket hang up' });
    expect(flakyJob.runAt.getTime() - before).toBeGreaterThanOrEqual(5_000 - 50);
    expect(flakyJob.runAt.getTime() - before).toBeLessThanOrEqual(10_000 + 1_000);
    const limitedJob = (await getJob(database.db, limited!.job.id))!;
    expect(limitedJob.runAt.getTime() - before).toBeGreaterThanOrEqual(120_000 - 50);
    expect((await getJob(database.db, broken!.job.id))!.status).toBe('failed');
    expect((await getJob(database.db, stringy!.job.id))!.lastError).toBe('non-error thrown: "not an error"');
  });

  it('defers on DeferJobError or a deferred result without spending the attempt', async () => {
    const until = new Date(Date.now() + 30_000);
    const handlers: HandlerRegistry = {
      quota: defineHandler({ payload: z.unknown(), run: async () => { throw new DeferJobError(until, 'gmail quota'); } }),
      later: defineHandler({ payload: z.unknown(), run: async () => ({ status: 'deferred', until, reason: 'checkpoint' }) }),
    };
    const [quota, later] = await enqueueMany(database.db, [{ kind: 'quota', userId: 'u1' }, { kind: 'later', userId: 'u1' }]);
    const summary = await testRunner(database.db, handlers).run({ deadline: soon() });
    expect(summary).toMatchObject({ claimed: 2, deferred: 2 });
    expect(await getJob(database.db, quota!.job.id)).toMatchObject({ status: 'queued', attempts: 0, lastError: 'deferred: gmail quota' });
    expect((await getJob(database.db, later!.job.id))!.runAt.getTime()).toBe(until.getTime());
  });

  it('survives a handler that hangs: aborted at the deadline, abandoned after the grace, the attempt spent', async () => {
    const handlers: HandlerRegistry = {
      hang: defineHandler({ payload: z.unknown(), run: () => new Promise(() => {}) }),
      cooperative: defineHandler({
        payload: z.unknown(),
        run: (_, { signal }) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      }),
      quick: noop,
    };
    const [hang, cooperative] = await enqueueMany(
      database.db,
      ['hang', 'cooperative', 'quick'].map((kind) => ({ kind, userId: 'u1' })),
    );
    const summary = await testRunner(database.db, handlers, { abortGraceMs: 200 }).run({ deadline: soon(500) });
    expect(summary).toMatchObject({ claimed: 3, succeeded: 1, deferred: 1, failed: 1 });
    expect(await getJob(database.db, hang!.job.id)).toMatchObject({
      status: 'queued',
      attempts: 1,
      lastError: 'handler did not stop before the runner deadline',
    });
    // The one that stopped when asked keeps its attempt: it ran out of time, not of luck.
    expect(await getJob(database.db, cooperative!.job.id)).toMatchObject({ status: 'queued', attempts: 0 });
  });

  it('aborts a running job that is cancelled, and ends it cancelled', async () => {
    let aborted: unknown;
    const handlers: HandlerRegistry = {
      long: defineHandler({
        payload: z.unknown(),
        run: (_, { signal }) =>
          new Promise((resolve) =>
            signal.addEventListener('abort', () => {
              aborted = signal.reason;
              resolve(undefined);
            }),
          ),
      }),
    };
    const { job } = await enqueue(database.db, { kind: 'long', userId: 'u1' });
    const runner = testRunner(database.db, handlers, { leaseSeconds: 0.9 });
    const pass = runner.run({ deadline: soon(10_000) });
    await waitFor(async () => (await getJob(database.db, job.id))!.status === 'running');
    await cancel(database.db, job.id);
    await pass;
    expect(aborted).toBe('cancelled');
    expect((await getJob(database.db, job.id))!.status).toBe('cancelled');
  });

  it('settles again when its settlement is chosen as a deadlock victim, so the job does not run twice', async () => {
    // A real deadlock: the settlement has updated the job row and waits for the user's job_users row,
    // which this transaction holds; this transaction then waits for the job row. Its own deadlock
    // timeout is the longer one, so Postgres aborts the settlement.
    const [enqueued] = await enqueueMany(database.db, [{ kind: 'once', userId: 'u-deadlock' }]);
    const jobId = enqueued!.job.id;
    const blocker = await database.pool.connect();
    let runs = 0;
    let releaseHandler = () => {};
    const handlerMayReturn = new Promise<void>((resolve) => (releaseHandler = resolve));
    let handlerStarted = () => {};
    const started = new Promise<void>((resolve) => (handlerStarted = resolve));
    const warnings: { msg: string; code?: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(((entry) => ({ msg: entry.msg, code: entry.err?.code }))(JSON.parse(line))) });
    const handlers: HandlerRegistry = {
      once: defineHandler({
        payload: z.unknown(),
        run: async () => {
          runs += 1;
          handlerStarted();
          await handlerMayReturn;
        },
      }),
    };
    try {
      const pass = testRunner(database.db, handlers, { logger }).run({ deadline: soon(20_000) });
      await started;
      await blocker.query('BEGIN');
      await blocker.query(`SET LOCAL deadlock_timeout = '20s'`);
      await blocker.query(`SELECT 1 FROM job_users WHERE user_id = 'u-deadlock' FOR UPDATE`);
      releaseHandler();
      await until(async () => {
        const { rows } = await database.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%WITH input AS%' AND datname = current_database()`,
        );
        return rows.length > 0;
      });
      // Blocks until Postgres ends the settlement (after its 1 s deadlock_timeout).
      await blocker.query(`UPDATE jobs SET updated_at = updated_at WHERE id = $1`, [jobId]);
      await blocker.query('ROLLBACK');
      const summary = await pass;
      expect(summary).toMatchObject({ claimed: 1, succeeded: 1 });
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
    expect(runs).toBe(1);
    expect(await getJob(database.db, jobId)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(warnings).toContainEqual({ msg: 'settlement failed; trying again', code: '40P01' });
  });

  it('records progress from the handler', async () => {
    const handlers: HandlerRegistry = {
      pages: defineHandler({
        payload: z.unknown(),
        run: async (_, { progress }) => {
          await progress({ phase: 'backfill', pages: 1 });
          await progress({ phase: 'backfill', pages: 2 });
        },
      }),
    };
    const { job } = await enqueue(database.db, { kind: 'pages', userId: 'u1' });
    await testRunner(database.db, handlers).run({ deadline: soon() });
    expect((await getJob(database.db, job.id))!.progress).toEqual({ phase: 'backfill', pages: 2 });
  });

  it('kick() starts a pass, or nudges the pass under way instead of starting another', async () => {
    const runner = testRunner(database.db, { k: noop });
    const idlePass = runner.kick({ deadline: soon(), idleMs: 2_000, pollMs: 60_000 });
    await new Promise((r) => setTimeout(r, 100));
    const { job } = await enqueue(database.db, { kind: 'k', userId: 'u1' });
    const started = Date.now();
    const samePass = runner.kick({ deadline: soon() });
    expect(samePass).toBe(idlePass);
    await waitFor(async () => (await getJob(database.db, job.id))!.status === 'succeeded');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await idlePass).claimed).toBe(1);
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
}

async function until(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > giveUpAt) throw new Error('timed out waiting for the condition');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
