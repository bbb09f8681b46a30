import { z } from 'zod';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { createDatabase, type Database } from '../../db/client';
import { runMigrations } from '../../db/migrate';
import { parseConfig } from '../../lib/config';
import { enqueue, enqueueMany } from '../../lib/jobs';
import { Runner, defineHandler, type HandlerRegistry } from '../../lib/jobs/runner';
import { forkDoomedWorker } from './child';
import { startClock, type QueueSystem, type RecoveryResult } from './types';

/**
 * switchyard's queue as the product runs it: each worker is a Runner with its own pool (as each
 * Vercel function instance has), claiming batches and settling them in one statement each.
 */
const USERS = 50;
const POOL = 4;

export interface SwitchyardOptions {
  /** Jobs each runner runs at once (default 50). */
  concurrency?: number;
  /** Jobs per claim (default 50). */
  batchSize?: number;
  /** Lease of the runner that gets killed in the recovery benchmark (default: the product's, JOBS_LEASE_S). */
  recoveryLeaseSeconds?: number;
  name?: string;
}

export function switchyardSystem(options: SwitchyardOptions = {}): QueueSystem {
  const defaults = parseConfig({});
  const CONCURRENCY = options.concurrency ?? 50;
  const BATCH = options.batchSize ?? 50;
  const recoveryLease = options.recoveryLeaseSeconds ?? defaults.JOBS_LEASE_S;
  let url = '';
  let main: Database;
  const pools: Database[] = [];
  const newPool = (max: number) => {
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
  const runnerFor = (database: Database, handlers: HandlerRegistry) =>
    new Runner({
      db: database.db,
      handlers,
      logger: pino({ level: 'silent' }),
      concurrency: CONCURRENCY,
      batchSize: BATCH,
      leaseSeconds: defaults.JOBS_LEASE_S,
      perUserCap: CONCURRENCY * 8,
      backoffBaseMs: 1_000,
      backoffMaxMs: 60_000,
    });

  return {
    name: options.name ?? 'switchyard',
    configuration: {
      worker: `Runner with its own pg pool (max ${POOL}), concurrency ${CONCURRENCY}, batchSize ${BATCH}`,
      enqueue: 'enqueueMany: one INSERT ... SELECT FROM unnest(...) per 5,000 jobs',
      users: `jobs spread over ${USERS} users (fairness and per-user cap enforced on every claim)`,
      latency: 'enqueue(), then runner.kick() (the webhook path) on an idle, warm runner',
      recovery: `lease ${recoveryLease} s; survivor: a Runner with the product defaults (lib/config.ts)`,
    },
    async setup(databaseUrl) {
      url = databaseUrl;
      await runMigrations(url);
      main = newPool(POOL);
    },
    async bulkEnqueue(count) {
      const chunk = 5_000;
      for (let offset = 0; offset < count; offset += chunk) {
        const size = Math.min(chunk, count - offset);
        await enqueueMany(
          main.db,
          Array.from({ length: size }, (_, i) => ({ kind: 'noop', userId: `user-${(offset + i) % USERS}` })),
        );
      }
    },
    async processAll(count, workers) {
      const clock = startClock(count);
      const handlers = {
        noop: defineHandler({ payload: z.unknown(), run: async () => clock.tick() }),
      };
      const runners = Array.from({ length: workers }, () => runnerFor(newPool(POOL), handlers));
      clock.begin();
      const passes = runners.map((runner) => runner.run({ deadline: Date.now() + 600_000 }));
      const ms = await clock.finished(async () => {
        const { rows } = await main.db.execute(sql`SELECT count(*)::int AS n FROM jobs WHERE status IN ('queued', 'running')`);
        return (rows[0] as { n: number }).n;
      });
      await Promise.all(passes);
      return ms;
    },
    async latency(count, perSecond) {
      const samples: number[] = [];
      const database = newPool(POOL);
      const handlers = {
        timed: defineHandler({
          payload: z.object({ enqueuedAt: z.number() }),
          run: async ({ enqueuedAt }) => void samples.push(performance.timeOrigin + performance.now() - enqueuedAt),
        }),
      };
      const runner = runnerFor(database, handlers);
      // An idle runner, as a warm function instance would be; the producer's kick() wakes it.
      const pass = runner.kick({ deadline: Date.now() + 600_000, idleMs: 2_000, pollMs: 1_000 });
      const interval = 1_000 / perSecond;
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        const due = start + i * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const enqueuedAt = performance.timeOrigin + performance.now();
        void enqueue(main.db, { kind: 'timed', userId: `user-${i % USERS}`, payload: { enqueuedAt } }).then(() =>
          runner.kick({ deadline: Date.now() + 600_000, idleMs: 2_000 }),
        );
      }
      while (samples.length < count) await new Promise((r) => setTimeout(r, 10));
      await pass;
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
      const done = new Set<number>();
      let lastAt = 0;
      const survivor = new Runner({
        db: newPool(defaults.DATABASE_POOL_MAX).db,
        handlers: {
          slow: defineHandler({
            payload: z.unknown(),
            run: async (_, { job }) => {
              if (!done.has(job.id)) lastAt = performance.now();
              done.add(job.id);
            },
          }),
        },
        logger: pino({ level: 'silent' }),
        concurrency: defaults.JOBS_RUNNER_CONCURRENCY,
        batchSize: defaults.JOBS_RUNNER_BATCH_SIZE,
        leaseSeconds: defaults.JOBS_LEASE_S,
        perUserCap: defaults.JOBS_PER_USER_RUNNING_CAP,
        backoffBaseMs: defaults.JOBS_BACKOFF_BASE_MS,
        backoffMaxMs: defaults.JOBS_BACKOFF_MAX_MS,
      });
      // A warm runner: each pass sweeps lapsed leases when it starts and every <=5 s while it runs,
      // and ends 5 s after the queue went idle; the next one starts at once (as kicks and crons do).
      while (done.size < holding && performance.now() - killedAt < capMs) {
        const left = capMs - (performance.now() - killedAt);
        await survivor.run({ deadline: Date.now() + left, idleMs: Math.min(5_000, left), pollMs: 1_000 });
      }
      const all = done.size >= holding;
      return {
        held: holding,
        recovered: done.size,
        seconds: all ? (lastAt - killedAt) / 1000 : null,
        capSeconds: capMs / 1000,
        mechanism:
          `lease ${recoveryLease} s, renewed by heartbeats; a running pass reclaims lapsed leases every <=5 s ` +
          '(the attempt counts), and every cron pass (each minute) does too',
      };
    },
    async teardown() {
      await Promise.all(pools.splice(0).map((p) => p.close()));
    },
  };
}
