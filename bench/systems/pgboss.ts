import { PgBoss, type ConstructorOptions } from 'pg-boss';
import pg from 'pg';
import { forkDoomedWorker } from './child';
import { latencyProbe, recoveryTracker, startClock, type QueueSystem, type RecoveryResult } from './types';

/**
 * pg-boss 12, configured for throughput as its documentation describes: a worker is one PgBoss
 * instance (its own pool); `work()` with `localConcurrency` polling loops, each fetching `batchSize`
 * jobs and completing them in one statement, fetching again at once while batches come back full
 * (`burstWhenBatchFull`); LISTEN/NOTIFY on (`useListenNotify` and a `notify` queue), so an idle worker
 * wakes when a job is sent; bulk enqueue with insert().
 *
 * With `groupConcurrency`, each job's group is its user (`group: { id }`) and at most that many jobs
 * of a group are active at once across all workers: pg-boss's nearest thing to switchyard's per-user
 * cap, enforced by the fetch statement.
 */
const QUEUE = 'bench';
const POOL = 10; // pg-boss's default pool size
const USERS = 50;
export const PGBOSS_LOCAL_CONCURRENCY = Number(process.env.BENCH_PGBOSS_LOCAL_CONCURRENCY ?? 2);
export const PGBOSS_BATCH = Number(process.env.BENCH_PGBOSS_BATCH ?? 500);
const POLL_S = 0.5; // the minimum

export interface PgBossOptions {
  name?: string;
  /** Active jobs per group (user) across all workers; none by default. */
  groupConcurrency?: number;
}

export function pgbossSystem(options: PgBossOptions = {}): QueueSystem {
  let url = '';
  let producer: PgBoss;
  const bosses: PgBoss[] = [];
  const newBoss = async (settings: Partial<ConstructorOptions> = {}) => {
    const boss = new PgBoss({ connectionString: url, max: POOL, application_name: 'bench-pgboss', useListenNotify: true, ...settings });
    boss.on('error', (error) => console.error('pg-boss:', error.message));
    await boss.start();
    bosses.push(boss);
    return boss;
  };
  const groups = options.groupConcurrency;
  const workOptions = {
    batchSize: PGBOSS_BATCH,
    localConcurrency: PGBOSS_LOCAL_CONCURRENCY,
    burstWhenBatchFull: true,
    pollingIntervalSeconds: POLL_S,
    notifyPollingIntervalSeconds: POLL_S,
    ...(groups === undefined ? {} : { groupConcurrency: groups }),
  };
  const group = (i: number) => (groups === undefined ? {} : { group: { id: `user-${i % USERS}` } });
  const insert = async (count: number) => {
    const chunk = 5_000;
    for (let offset = 0; offset < count; offset += chunk) {
      const size = Math.min(chunk, count - offset);
      await producer.insert(QUEUE, Array.from({ length: size }, (_, i) => ({ data: {}, ...group(offset + i) })));
    }
  };

  return {
    name: options.name ?? 'pg-boss',
    jobsInFlight:
      `${PGBOSS_LOCAL_CONCURRENCY} x ${PGBOSS_BATCH} (localConcurrency x batchSize)` +
      (groups === undefined ? '' : `, at most ${groups} per group (user), ${groups * USERS} over the ${USERS} users`),
    configuration: {
      version: '12.38.1',
      worker:
        `one PgBoss instance (pool max ${POOL}, useListenNotify) per worker; work() with localConcurrency ${PGBOSS_LOCAL_CONCURRENCY}, ` +
        `batchSize ${PGBOSS_BATCH}, burstWhenBatchFull, pollingIntervalSeconds and notifyPollingIntervalSeconds ${POLL_S} (the minimum)` +
        (groups === undefined ? '' : `, groupConcurrency ${groups} (jobs grouped by user, ${USERS} users)`),
      enqueue: 'insert(): one statement per 5,000 jobs',
      queue: `createQueue('${QUEUE}', { notify: true }), policy standard; maintenance (supervise) only on the producer's instance`,
      latency: 'send() from the producer instance; the idle worker wakes on NOTIFY (no in-process notifyWorker)',
      recovery: 'defaults: expireIn 15 min, maintenance (expiry sweep) every 120 s, retryLimit 2',
    },
    async setup(databaseUrl) {
      url = databaseUrl;
      producer = await newBoss();
      await producer.createQueue(QUEUE, { notify: true });
    },
    async bulkEnqueue(count) {
      await insert(count);
    },
    async processAll(count, workers) {
      const clock = startClock(count);
      const started = await Promise.all(Array.from({ length: workers }, () => newBoss({ supervise: false, schedule: false })));
      clock.begin();
      for (const boss of started) await boss.work(QUEUE, workOptions, async (jobs) => clock.tick(jobs.length));
      const ms = await clock.finished(async () => {
        const { rows } = await producer
          .getDb()
          .executeSql(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state < 'completed'`, [QUEUE]);
        return rows[0].n as number;
      });
      await Promise.all(started.map((boss) => boss.stop({ graceful: true, timeout: 5_000 })));
      return ms;
    },
    async latency(count, perSecond) {
      const probe = latencyProbe();
      const worker = await newBoss({ supervise: false, schedule: false });
      await worker.work<{ enqueuedAt: number }>(QUEUE, workOptions, async (jobs) => {
        for (const job of jobs) probe.started(job.data.enqueuedAt);
      });
      const samples = await probe.trickle(count, perSecond, (enqueuedAt, i) => producer.send(QUEUE, { enqueuedAt }, group(i)));
      await worker.stop({ graceful: true, timeout: 5_000 });
      return samples;
    },
    async recovery(held, capMs): Promise<RecoveryResult> {
      await insert(held);
      const doomed = await forkDoomedWorker('./pgboss-child.ts', [url, QUEUE, String(held)], held);
      const holding = await countActive(url);
      const killedAt = await doomed.kill();
      // The survivor, in pg-boss's default configuration (supervise on: expiry and maintenance).
      const survivor = await newBoss();
      const tracker = recoveryTracker();
      await survivor.work(QUEUE, workOptions, async (jobs) => {
        for (const job of jobs) if (doomed.started.has(job.id)) tracker.ran(job.id);
      });
      const result = await tracker.result(
        holding,
        killedAt,
        capMs,
        'an active job is failed by timeout once started_on + expireIn (default 15 min) has passed, found by the ' +
          'maintenance sweep (default every 120 s), then retried (retryLimit 2): ~15-17 min by default',
      );
      await survivor.stop({ graceful: false });
      return result;
    },
    async teardown() {
      await Promise.all(bosses.splice(0).map((boss) => boss.stop({ graceful: false }).catch(() => {})));
    },
  };
}

async function countActive(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'active'`, [QUEUE]);
    return rows[0].n as number;
  } finally {
    await client.end();
  }
}
