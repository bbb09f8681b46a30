import { EventEmitter } from 'node:events';
import pg from 'pg';
import { Logger, makeWorkerUtils, run, runMigrations, type Runner, type WorkerUtils } from 'graphile-worker';
import { forkDoomedWorker } from './child';
import { startClock, waitFor, type QueueSystem, type RecoveryResult } from './types';

/**
 * graphile-worker 0.16, configured for throughput as its performance page recommends: a worker is one
 * run() instance (its own pool) with concurrency 24 and maxPoolSize 25 (the page's perfTest settings;
 * localQueue and completeJobBatchDelay only exist from 0.17, which needs Node 22), prepared statements
 * on (the default), LISTEN/NOTIFY for new jobs (built in); bulk enqueue with the add_jobs() SQL function.
 * On this 2-CPU machine concurrency 24 also processed faster than 8 or 64.
 */
export const GRAPHILE_CONCURRENCY = Number(process.env.BENCH_GRAPHILE_CONCURRENCY ?? 24);
const POOL = GRAPHILE_CONCURRENCY + 1;
const silent = new Logger(() => () => {});

export function graphileSystem(): QueueSystem {
  let url = '';
  let client: pg.Pool;
  let utils: WorkerUtils | undefined;
  const runners: Runner[] = [];
  const start = (taskList: Parameters<typeof run>[0]['taskList'], options: Partial<Parameters<typeof run>[0]> = {}) =>
    run({
      connectionString: url,
      concurrency: GRAPHILE_CONCURRENCY,
      maxPoolSize: POOL,
      noHandleSignals: true,
      logger: silent,
      taskList,
      ...options,
    }).then((runner) => (runners.push(runner), runner));
  const addJobs = async (identifier: string, count: number) => {
    const chunk = 5_000;
    for (let offset = 0; offset < count; offset += chunk) {
      const size = Math.min(chunk, count - offset);
      const specs = JSON.stringify(Array.from({ length: size }, () => ({ identifier, payload: {} })));
      await client.query(
        `SELECT count(*) FROM graphile_worker.add_jobs(
           (SELECT array_agg(json_populate_record(null::graphile_worker.job_spec, spec)) FROM json_array_elements($1::json) spec))`,
        [specs],
      );
    }
  };
  const stop = async (runner: Runner) => {
    runners.splice(runners.indexOf(runner), 1);
    await runner.stop();
  };

  return {
    name: 'graphile-worker',
    configuration: {
      version: '0.16.6',
      worker: `one run() instance, concurrency ${GRAPHILE_CONCURRENCY}, maxPoolSize ${POOL}, prepared statements on, LISTEN/NOTIFY, pollInterval 2000 (default)`,
      enqueue: 'SELECT graphile_worker.add_jobs(specs) per 5,000 jobs',
      latency: 'WorkerUtils.addJob() (add_job); the worker wakes on NOTIFY jobs:insert',
      recovery: 'defaults (open source): a locked job is released only after 4 hours',
    },
    async setup(databaseUrl) {
      url = databaseUrl;
      await runMigrations({ connectionString: url, logger: silent });
      client = new pg.Pool({ connectionString: url, max: 2, application_name: 'bench-graphile' });
    },
    async bulkEnqueue(count) {
      await addJobs('noop', count);
    },
    async processAll(count, workers) {
      const clock = startClock(count);
      // The clock starts at the first job fetch (run() also checks migrations and sets up LISTEN first).
      const events = new EventEmitter();
      events.once('worker:getJob:start', () => clock.begin());
      const started = await Promise.all(
        Array.from({ length: workers }, () => start({ noop: async () => void clock.tick() }, { events: events as never })),
      );
      const ms = await clock.finished(async () => {
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM graphile_worker._private_jobs`);
        return rows[0].n as number;
      });
      await Promise.all(started.map(stop));
      return ms;
    },
    async latency(count, perSecond) {
      const samples: number[] = [];
      utils ??= await makeWorkerUtils({ connectionString: url, logger: silent });
      const worker = await start({
        timed: async (payload) => {
          samples.push(performance.timeOrigin + performance.now() - (payload as { enqueuedAt: number }).enqueuedAt);
        },
      });
      const interval = 1_000 / perSecond;
      const begin = performance.now();
      for (let i = 0; i < count; i++) {
        const due = begin + i * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const enqueuedAt = performance.timeOrigin + performance.now();
        void utils.addJob('timed', { enqueuedAt });
      }
      while (samples.length < count) await new Promise((r) => setTimeout(r, 10));
      await stop(worker);
      return samples;
    },
    async recovery(held, capMs): Promise<RecoveryResult> {
      await addJobs('slow', held);
      const doomed = await forkDoomedWorker('./graphile-child.ts', [url, String(held)], held);
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_at IS NOT NULL`);
      const holding = rows[0].n as number;
      const killedAt = await doomed.kill();
      const done = new Set<string>();
      let lastAt = 0;
      // The survivor, in graphile-worker's default configuration.
      const survivor = await start(
        {
          slow: async (_payload, helpers) => {
            const id = String(helpers.job.id);
            if (!done.has(id)) (done.add(id), (lastAt = performance.now()));
          },
        },
        { concurrency: 1, maxPoolSize: 10 },
      );
      const all = await waitFor(() => done.size >= holding, capMs - (performance.now() - killedAt), 100);
      await stop(survivor);
      return {
        held: holding,
        recovered: done.size,
        seconds: all ? (lastAt - killedAt) / 1000 : null,
        capSeconds: capMs / 1000,
        mechanism:
          'a locked job stays locked until locked_at is 4 hours old (fixed in the open-source edition; ' +
          'Worker Pro adds heartbeats and a configurable sweep): ~4 h by design',
      };
    },
    async teardown() {
      await Promise.all(runners.splice(0).map((runner) => runner.stop().catch(() => {})));
      await utils?.release();
      utils = undefined;
      await client?.end();
    },
  };
}
