import PgBoss from 'pg-boss';
import pg from 'pg';
import { forkDoomedWorker } from './child';
import { startClock, waitFor, type QueueSystem, type RecoveryResult } from './types';

/**
 * pg-boss 10, configured for throughput as its documentation and its author recommend: a worker is
 * one PgBoss instance (its own pool); concurrency comes from calling work() several times (v10 removed
 * teamSize: "each call to work() adds a new polling worker"), each fetching `batchSize` jobs per poll
 * and completing them in one statement; the minimum polling interval (0.5 s); bulk enqueue with
 * insert(). A work() loop waits out its polling interval after every batch, so a worker's rate is at
 * most work() calls x batchSize per 0.5 s: 4 x 1,000 gives it 4,000 jobs in flight (8x switchyard's
 * 500 in this comparison), which is what it takes to keep up. For latency, the producer calls
 * notifyWorker() after send(), pg-boss's in-process nudge (the equivalent of switchyard's kick()).
 */
const QUEUE = 'bench';
const POOL = 10; // pg-boss's default pool size
export const PGBOSS_WORK_CALLS = Number(process.env.BENCH_PGBOSS_WORK_CALLS ?? 4);
export const PGBOSS_BATCH = Number(process.env.BENCH_PGBOSS_BATCH ?? 1_000);
const POLL_S = 0.5;

export function pgbossSystem(): QueueSystem {
  let url = '';
  let producer: PgBoss;
  const bosses: PgBoss[] = [];
  const newBoss = async (options: Partial<PgBoss.ConstructorOptions> = {}) => {
    const boss = new PgBoss({ connectionString: url, max: POOL, application_name: 'bench-pgboss', ...options });
    boss.on('error', (error) => console.error('pg-boss:', error.message));
    await boss.start();
    bosses.push(boss);
    return boss;
  };
  const workOptions = { batchSize: PGBOSS_BATCH, pollingIntervalSeconds: POLL_S };

  return {
    name: 'pg-boss',
    configuration: {
      version: '10.4.2',
      worker: `one PgBoss instance (pool max ${POOL}) with ${PGBOSS_WORK_CALLS} work() calls, batchSize ${PGBOSS_BATCH}, pollingIntervalSeconds ${POLL_S} (the minimum)`,
      enqueue: 'insert(): one INSERT ... FROM json_to_recordset per 5,000 jobs',
      queue: `createQueue('${QUEUE}'), policy standard, defaults otherwise; maintenance (supervise) runs on the producer's instance, not on every worker`,
      latency: 'send(), then notifyWorker(id) (in-process nudge of the idle worker)',
      recovery: 'defaults: expireIn 15 min, maintenance (expiry sweep) every 120 s, retryLimit 2',
    },
    async setup(databaseUrl) {
      url = databaseUrl;
      producer = await newBoss();
      await producer.createQueue(QUEUE);
    },
    async bulkEnqueue(count) {
      const chunk = 5_000;
      for (let offset = 0; offset < count; offset += chunk) {
        const size = Math.min(chunk, count - offset);
        await producer.insert(Array.from({ length: size }, () => ({ name: QUEUE, data: {} })));
      }
    },
    async processAll(count, workers) {
      const clock = startClock(count);
      const started = await Promise.all(Array.from({ length: workers }, () => newBoss({ supervise: false })));
      clock.begin();
      for (const boss of started) {
        for (let i = 0; i < PGBOSS_WORK_CALLS; i++) {
          await boss.work(QUEUE, workOptions, async (jobs) => clock.tick(jobs.length));
        }
      }
      const ms = await clock.finished(async () => {
        const { rows } = await producer
          .getDb()
          .executeSql(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state < 'completed'`, [QUEUE]);
        return rows[0].n as number;
      });
      await Promise.all(started.map((boss) => boss.stop({ graceful: true, wait: true, timeout: 5_000 })));
      return ms;
    },
    async latency(count, perSecond) {
      const samples: number[] = [];
      const worker = await newBoss({ supervise: false });
      const id = await worker.work<{ enqueuedAt: number }>(QUEUE, workOptions, async (jobs) => {
        for (const job of jobs) samples.push(performance.timeOrigin + performance.now() - job.data.enqueuedAt);
      });
      const interval = 1_000 / perSecond;
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        const due = start + i * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const enqueuedAt = performance.timeOrigin + performance.now();
        void producer.send(QUEUE, { enqueuedAt }).then(() => worker.notifyWorker(id));
      }
      while (samples.length < count) await new Promise((r) => setTimeout(r, 10));
      await worker.stop({ graceful: true, wait: true, timeout: 5_000 });
      return samples;
    },
    async recovery(held, capMs): Promise<RecoveryResult> {
      await producer.insert(Array.from({ length: held }, () => ({ name: QUEUE, data: {} })));
      const doomed = await forkDoomedWorker('./pgboss-child.ts', [url, QUEUE, String(held)], held);
      const holding = await countActive(url);
      const killedAt = await doomed.kill();
      // The survivor, in pg-boss's default configuration (supervise on: expiry and maintenance).
      const survivor = await newBoss();
      const done = new Set<string>();
      let lastAt = 0;
      await survivor.work(QUEUE, workOptions, async (jobs) => {
        for (const job of jobs) if (doomed.started.has(job.id) && !done.has(job.id)) (done.add(job.id), (lastAt = performance.now()));
      });
      const all = await waitFor(() => done.size >= holding, capMs - (performance.now() - killedAt), 100);
      await survivor.stop({ graceful: false, wait: true });
      return {
        held: holding,
        recovered: done.size,
        seconds: all ? (lastAt - killedAt) / 1000 : null,
        capSeconds: capMs / 1000,
        mechanism:
          'an active job is failed by timeout once started_on + expireIn (default 15 min) has passed, found by the ' +
          'maintenance sweep (default every 120 s), then retried (retryLimit 2): ~15-17 min by default',
      };
    },
    async teardown() {
      await Promise.all(bosses.splice(0).map((boss) => boss.stop({ graceful: false, wait: true }).catch(() => {})));
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
