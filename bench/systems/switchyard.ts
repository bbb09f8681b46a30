import { z } from 'zod';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { createDatabase, type Database, type Db } from '../../db/client';
import { runMigrations } from '../../db/migrate';
import { parseConfig } from '../../lib/config';
import { enqueue, enqueueMany, listenForJobs, type JobListener } from '../../lib/jobs';
import { Runner, defineHandler, type HandlerRegistry, type RunnerOptions } from '../../lib/jobs/runner';
import { forkDoomedWorker } from './child';
import { latencyProbe, recoveryTracker, startClock, type Clock, type QueueSystem, type RecoveryResult } from './types';

/**
 * switchyard's queue as the product runs it: each worker is a Runner with its own pool (as each
 * Vercel function instance has), claiming batches and settling them in one statement each. Jobs are
 * spread over `users` users: fairness and the per-user cap are enforced on every claim.
 */
const defaults = parseConfig({});

export interface SwitchyardOptions {
  name?: string;
  /** Handlers each runner runs at once (default: JOBS_RUNNER_CONCURRENCY). */
  concurrency?: number;
  /** Most jobs per claim (default: JOBS_RUNNER_BATCH_SIZE). */
  batchSize?: number;
  /** Running jobs per user (default: JOBS_PER_USER_RUNNING_CAP; the config allows 1 to 100). */
  perUserCap?: number;
  /** Users the jobs are spread over (default 50). */
  users?: number;
  /** Users in job_users without any work (default 0). */
  idleUsers?: number;
  /** Lease of the runner that gets killed in the recovery benchmark (default: JOBS_LEASE_S). */
  recoveryLeaseSeconds?: number;
}

/**
 * The knobs of the single-system queue benchmarks (bench:queue:profile, bench:queue:cost): BENCH_JOBS,
 * BENCH_USERS (50), BENCH_WORKERS, BENCH_SY_CONCURRENCY / BENCH_SY_BATCH / BENCH_SY_CAP (the config's defaults).
 */
export function runnerKnobs(fallback: { jobs: number; workers: number }) {
  return {
    jobs: Number(process.env.BENCH_JOBS ?? fallback.jobs),
    users: Number(process.env.BENCH_USERS ?? 50),
    workers: Number(process.env.BENCH_WORKERS ?? fallback.workers),
    concurrency: Number(process.env.BENCH_SY_CONCURRENCY ?? defaults.JOBS_RUNNER_CONCURRENCY),
    batchSize: Number(process.env.BENCH_SY_BATCH ?? defaults.JOBS_RUNNER_BATCH_SIZE),
    perUserCap: Number(process.env.BENCH_SY_CAP ?? defaults.JOBS_PER_USER_RUNNING_CAP),
  };
}

/** A silent Runner with the config's lease and backoff, and the given settings. */
export function benchRunner(
  db: Db,
  handlers: HandlerRegistry,
  settings: Partial<RunnerOptions> & Pick<RunnerOptions, 'concurrency' | 'batchSize' | 'perUserCap'>,
): Runner {
  return new Runner({
    db,
    handlers,
    logger: pino({ level: 'silent' }),
    leaseSeconds: defaults.JOBS_LEASE_S,
    backoffBaseMs: defaults.JOBS_BACKOFF_BASE_MS,
    backoffMaxMs: defaults.JOBS_BACKOFF_MAX_MS,
    ...settings,
  });
}

/** `count` no-op jobs over `users` users, in bulk (one statement per 5,000). */
export async function enqueueNoops(db: Db, count: number, users: number): Promise<void> {
  const chunk = 5_000;
  for (let offset = 0; offset < count; offset += chunk) {
    const size = Math.min(chunk, count - offset);
    await enqueueMany(db, Array.from({ length: size }, (_, i) => ({ kind: 'noop', userId: `user-${(offset + i) % users}` })));
  }
}

/** Runs the runners' passes until the database shows every job finished; ms from the start (see `startClock`). */
export async function runUntilDone(db: Db, runners: Runner[], clock: Clock): Promise<number> {
  clock.begin();
  const passes = runners.map((runner) => runner.run({ deadline: Date.now() + 600_000 }));
  const ms = await clock.finished(async () => {
    const { rows } = await db.execute(sql`SELECT count(*)::int AS n FROM jobs WHERE status IN ('queued', 'running')`);
    return (rows[0] as { n: number }).n;
  });
  await Promise.all(passes);
  return ms;
}

export function switchyardSystem(options: SwitchyardOptions = {}): QueueSystem {
  const concurrency = options.concurrency ?? defaults.JOBS_RUNNER_CONCURRENCY;
  const batchSize = options.batchSize ?? defaults.JOBS_RUNNER_BATCH_SIZE;
  const perUserCap = options.perUserCap ?? defaults.JOBS_PER_USER_RUNNING_CAP;
  const users = options.users ?? 50;
  const idleUsers = options.idleUsers ?? 0;
  const recoveryLease = options.recoveryLeaseSeconds ?? defaults.JOBS_LEASE_S;
  const poolMax = defaults.DATABASE_POOL_MAX;
  let url = '';
  let main: Database;
  const pools: Database[] = [];
  const listeners: JobListener[] = [];
  const newPool = (max = poolMax) => {
    const database = createDatabase({
      connectionString: url,
      max,
      connectionTimeoutMillis: 10_000,
      statementTimeoutMillis: 60_000,
      idleTimeoutMillis: 10_000,
      applicationName: 'bench-switchyard',
    });
    pools.push(database);
    return database;
  };
  const runnerFor = (database: Database, handlers: HandlerRegistry, settings: Partial<RunnerOptions> = {}) =>
    benchRunner(database.db, handlers, { concurrency, batchSize, perUserCap, ...settings });

  return {
    name: options.name ?? 'switchyard',
    jobsInFlight:
      `${concurrency} handlers at once, plus up to ${batchSize} claimed ahead while the handlers are quick ` +
      `(at most ${perUserCap} per user, ${perUserCap * users} over the ${users} users)`,
    configuration: {
      worker: `Runner with its own pg pool (max ${poolMax}): concurrency ${concurrency}, batchSize ${batchSize}, per-user cap ${perUserCap}, lease ${defaults.JOBS_LEASE_S} s`,
      enqueue: 'enqueueMany: one INSERT ... SELECT FROM unnest(...) per 5,000 jobs',
      users: `jobs spread over ${users} users${idleUsers ? `, plus ${idleUsers.toLocaleString('en-US')} users in job_users without work` : ''} (fairness and the per-user cap enforced on every claim)`,
      latency: 'enqueue() on the producer\'s pool; the idle runner is woken by LISTEN/NOTIFY (listenForJobs), no in-process kick',
      recovery: `lease ${recoveryLease} s; survivor: a Runner with the product defaults (lib/config.ts)`,
    },
    async setup(databaseUrl) {
      url = databaseUrl;
      await runMigrations(url);
      main = newPool();
      if (idleUsers > 0) {
        await main.db.execute(sql`INSERT INTO job_users (user_id) SELECT 'idle-' || g FROM generate_series(1, ${idleUsers}) g`);
      }
    },
    bulkEnqueue: (count) => enqueueNoops(main.db, count, users),
    async processAll(count, workers) {
      const clock = startClock(count);
      const handlers = {
        noop: defineHandler({ payload: z.unknown(), run: async () => clock.tick() }),
      };
      const runners = Array.from({ length: workers }, () => runnerFor(newPool(), handlers));
      return runUntilDone(main.db, runners, clock);
    },
    async latency(count, perSecond) {
      const probe = latencyProbe();
      const runner = runnerFor(newPool(), {
        timed: defineHandler({ payload: z.object({ enqueuedAt: z.number() }), run: async ({ enqueuedAt }) => probe.started(enqueuedAt) }),
      });
      // A long-lived runner (as the local server runs one), idle between jobs, woken by NOTIFY.
      const pass = () => void runner.kick({ deadline: Date.now() + 600_000, idleMs: 2_000, pollMs: 1_000 });
      const listener = listenForJobs({ connectionString: url, onJobs: pass, applicationName: 'bench-switchyard-listener' });
      listeners.push(listener);
      // As the peers' workers have started before their producer does.
      await listener.listening;
      const samples = await probe.trickle(count, perSecond, (enqueuedAt, i) =>
        enqueue(main.db, { kind: 'timed', userId: `user-${i % users}`, payload: { enqueuedAt } }),
      );
      await listener.close();
      await runner.run({ deadline: Date.now() });
      return samples;
    },
    async recovery(held, capMs): Promise<RecoveryResult> {
      await enqueueMany(
        main.db,
        Array.from({ length: held }, (_, i) => ({ kind: 'slow', userId: `user-${i % 10}` })),
      );
      const doomed = await forkDoomedWorker('./switchyard-child.ts', [url, 'doomed', String(recoveryLease), String(held)], held);
      const { rows } = await main.db.execute(
        sql`SELECT count(*)::int AS n FROM jobs WHERE status = 'running' AND locked_by = 'doomed'`,
      );
      const holding = (rows[0] as { n: number }).n;
      const killedAt = await doomed.kill();

      // The survivor: a warm runner with the product's defaults, as a function instance runs it.
      const tracker = recoveryTracker();
      const survivor = runnerFor(
        newPool(),
        { slow: defineHandler({ payload: z.unknown(), run: async (_, { job }) => tracker.ran(job.id) }) },
        {
          concurrency: defaults.JOBS_RUNNER_CONCURRENCY,
          batchSize: defaults.JOBS_RUNNER_BATCH_SIZE,
          perUserCap: defaults.JOBS_PER_USER_RUNNING_CAP,
        },
      );
      // A warm runner: each pass sweeps lapsed leases when it starts and every <=5 s while it runs,
      // and ends 5 s after the queue went idle; the next one starts at once (as kicks and crons do).
      const passes = (async () => {
        while (tracker.count < holding && performance.now() - killedAt < capMs) {
          const left = capMs - (performance.now() - killedAt);
          await survivor.run({ deadline: Date.now() + left, idleMs: Math.min(5_000, left), pollMs: 1_000 });
        }
      })();
      const result = await tracker.result(
        holding,
        killedAt,
        capMs,
        `lease ${recoveryLease} s, renewed by heartbeats; a running pass reclaims lapsed leases every <=5 s ` +
          '(the attempt counts), and every cron pass (each minute) does too',
      );
      await passes;
      return result;
    },
    async teardown() {
      await Promise.all(listeners.splice(0).map((listener) => listener.close()));
      await Promise.all(pools.splice(0).map((p) => p.close()));
    },
  };
}
