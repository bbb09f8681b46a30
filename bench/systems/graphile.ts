import { EventEmitter } from 'node:events';
import pg from 'pg';
import { Logger, makeWorkerUtils, run, runMigrations, type Runner, type WorkerUtils } from 'graphile-worker';
import { forkDoomedWorker } from './child';
import { latencyProbe, recoveryTracker, startClock, type QueueSystem, type RecoveryResult } from './types';

/**
 * graphile-worker 0.18, configured as its performance page's benchmark: a worker is one run()
 * instance (its own pool) with concurrency 24 and maxPoolSize 25, a local queue (`localQueue.size`
 * jobs fetched and locked per round trip, handed to the 24 slots as they free up), completions and
 * failures batched (`completeJobBatchDelay` / `failJobBatchDelay` 0), prepared statements on (the
 * default), LISTEN/NOTIFY for new jobs (built in); bulk enqueue with the add_jobs() SQL function.
 */
export const GRAPHILE_CONCURRENCY = 24;
const POOL = GRAPHILE_CONCURRENCY + 1;
const silent = new Logger(() => () => {});

export interface GraphileOptions {
  name?: string;
  /** Jobs fetched (and locked) per round trip into the worker's local queue. */
  localQueueSize: number;
}

export function graphileSystem(options: GraphileOptions): QueueSystem {
  let url = '';
  let client: pg.Pool;
  let utils: WorkerUtils | undefined;
  const runners: Runner[] = [];
  const batching = {
    localQueue: { size: options.localQueueSize },
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  };
  const start = (taskList: Parameters<typeof run>[0]['taskList'], settings: Partial<Parameters<typeof run>[0]> = {}) =>
    run({
      connectionString: url,
      concurrency: GRAPHILE_CONCURRENCY,
      maxPoolSize: POOL,
      noHandleSignals: true,
      logger: silent,
      taskList,
      preset: { worker: batching },
      ...settings,
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
    name: options.name ?? `graphile-worker (local queue ${options.localQueueSize})`,
    jobsInFlight: `${GRAPHILE_CONCURRENCY} running + up to ${options.localQueueSize} locked in the local queue`,
    configuration: {
      version: '0.18.0',
      worker:
        `one run() instance per worker: concurrency ${GRAPHILE_CONCURRENCY}, maxPoolSize ${POOL}, localQueue { size: ${options.localQueueSize} }, ` +
        'completeJobBatchDelay 0, failJobBatchDelay 0, prepared statements on, LISTEN/NOTIFY, pollInterval 2000 (default)',
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
      events.once('localQueue:getJobs:complete', () => clock.begin());
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
      const probe = latencyProbe();
      utils ??= await makeWorkerUtils({ connectionString: url, logger: silent });
      const worker = await start({ timed: async (payload) => probe.started((payload as { enqueuedAt: number }).enqueuedAt) });
      const samples = await probe.trickle(count, perSecond, (enqueuedAt) => utils!.addJob('timed', { enqueuedAt }));
      await stop(worker);
      return samples;
    },
    async recovery(held, capMs): Promise<RecoveryResult> {
      await addJobs('slow', held);
      const doomed = await forkDoomedWorker('./graphile-child.ts', [url, String(held)], held);
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE locked_at IS NOT NULL`);
      const holding = rows[0].n as number;
      const killedAt = await doomed.kill();
      const tracker = recoveryTracker();
      // The survivor, in graphile-worker's default configuration.
      const survivor = await start(
        { slow: async (_payload, helpers) => tracker.ran(helpers.job.id) },
        { concurrency: 1, maxPoolSize: 10, preset: {} },
      );
      const result = await tracker.result(
        holding,
        killedAt,
        capMs,
        'a locked job stays locked until locked_at is 4 hours old (fixed in the open-source edition; ' +
          'Worker Pro adds heartbeats and a configurable sweep): ~4 h by design',
      );
      await stop(survivor);
      return result;
    },
    async teardown() {
      await Promise.all(runners.splice(0).map((runner) => runner.stop().catch(() => {})));
      await utils?.release();
      utils = undefined;
      await client?.end();
    },
  };
}
