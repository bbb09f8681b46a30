/**
 * npm run bench:queue:profile: where a switchyard claim's time goes, under concurrency.
 *
 * Enqueues BENCH_JOBS no-op jobs over BENCH_USERS users (plus BENCH_IDLE_USERS users in job_users
 * without work), runs BENCH_WORKERS runners with the given settings and, while they run:
 * - samples pg_stat_activity every 5 ms (the runners' backends: what they wait on) and pg_locks
 *   (ungranted locks: on which relation or tuple, of which kind);
 * - EXPLAIN (ANALYZE, BUFFERS)s the claim a few times, in a transaction rolled back;
 * and reports transactions (= round trips: every queue statement is its own) per job, tuple updates
 * per job on jobs and job_users, and the wait-event histogram.
 *
 * Knobs: BENCH_JOBS (20000), BENCH_USERS (50), BENCH_IDLE_USERS (0), BENCH_WORKERS (4),
 * BENCH_SY_CONCURRENCY / BENCH_SY_BATCH / BENCH_SY_CAP (the config defaults).
 */
import pg from 'pg';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { createDatabase, type Database } from '../db/client';
import { runMigrations } from '../db/migrate';
import { claim } from '../lib/jobs';
import { defineHandler } from '../lib/jobs/runner';
import { startBenchServer } from './harness';
import { benchRunner, enqueueNoops, runUntilDone, runnerKnobs } from './systems/switchyard';
import { startClock } from './systems/types';

const knobs = runnerKnobs({ jobs: 20_000, workers: 4 });
const [JOBS, USERS, WORKERS, CONCURRENCY, BATCH, CAP] = [knobs.jobs, knobs.users, knobs.workers, knobs.concurrency, knobs.batchSize, knobs.perUserCap];
const IDLE_USERS = Number(process.env.BENCH_IDLE_USERS ?? 0);
const APP = 'bench-claim-profile';

async function main() {
  const server = await startBenchServer();
  const pools: Database[] = [];
  let statements = 0;
  const open = (max: number, applicationName = APP) => {
    const database = createDatabase({
      connectionString: url,
      max,
      connectionTimeoutMillis: 10_000,
      statementTimeoutMillis: 60_000,
      idleTimeoutMillis: 10_000,
      applicationName,
    });
    pools.push(database);
    if (applicationName === APP) {
      // Round trips of the runners: every statement they send.
      const query = database.pool.query.bind(database.pool) as (...args: unknown[]) => unknown;
      (database.pool as unknown as { query: unknown }).query = (...args: unknown[]) => ((statements += 1), query(...args));
    }
    return database;
  };
  const url = await server.freshDatabase('claim_profile');
  try {
    await runMigrations(url);
    const main = open(2, 'bench-claim-profile-main');
    if (IDLE_USERS > 0) {
      await main.db.execute(sql`INSERT INTO job_users (user_id) SELECT 'idle-' || g FROM generate_series(1, ${IDLE_USERS}) g`);
    }
    await enqueueNoops(main.db, JOBS, USERS);
    await main.db.execute(sql`ANALYZE`);
    console.log(
      `${JOBS} jobs over ${USERS} users (+${IDLE_USERS} idle), ${WORKERS} runner(s), concurrency ${CONCURRENCY}, batch ${BATCH}, cap ${CAP}`,
    );

    const stats = async () => {
      const { rows } = await main.db.execute(sql`
        SELECT ${statements}::float8 AS statements,
               (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'jobs')::float8 AS jobs_upd,
               (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'job_users')::float8 AS users_upd,
               (SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'job_users')::float8 AS users_hot`);
      return rows[0] as Record<string, number>;
    };
    await main.db.execute(sql`SELECT pg_stat_clear_snapshot()`);
    const before = await stats();

    const clock = startClock(JOBS);
    const handlers = { noop: defineHandler({ payload: z.unknown(), run: async () => clock.tick() }) };
    const runners = Array.from({ length: WORKERS }, () =>
      benchRunner(open(4).db, handlers, { concurrency: CONCURRENCY, batchSize: BATCH, perUserCap: CAP }),
    );

    // Sampler: its own connection, so that it never waits for a pool.
    const sampler = new pg.Client({ connectionString: url, application_name: 'bench-claim-profile-sampler' });
    await sampler.connect();
    const waits = new Map<string, number>();
    const lockWaits = new Map<string, number>();
    let samples = 0;
    let sampling = true;
    const sampling$ = (async () => {
      while (sampling) {
        const activity = await sampler.query(
          `SELECT coalesce(wait_event_type || ':' || wait_event, CASE WHEN state = 'active' THEN 'CPU (active)' ELSE state END) AS what,
                  CASE WHEN query LIKE '%WITH heads%' OR query LIKE '%claimed AS%' THEN 'claim'
                       WHEN query LIKE '%settled AS%' THEN 'settle'
                       WHEN query LIKE '%reclaimed AS%' THEN 'reclaim'
                       WHEN query LIKE '%locked_until = now() + make_interval%' THEN 'heartbeat'
                       ELSE 'other' END AS statement
           FROM pg_stat_activity WHERE application_name = $1`,
          [APP],
        );
        for (const row of activity.rows) waits.set(`${row.statement} ${row.what}`, (waits.get(`${row.statement} ${row.what}`) ?? 0) + 1);
        const locks = await sampler.query(
          `SELECT l.locktype, l.mode, coalesce(c.relname, l.relation::text, '') AS rel
           FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
           JOIN pg_stat_activity a ON a.pid = l.pid
           WHERE NOT l.granted AND a.application_name = $1`,
          [APP],
        );
        for (const row of locks.rows) {
          const key = `${row.locktype} ${row.mode} ${row.rel}`;
          lockWaits.set(key, (lockWaits.get(key) ?? 0) + 1);
        }
        samples += 1;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    // A few claims EXPLAINed mid-run, each in a transaction that is rolled back.
    const explains: string[] = [];
    const explainer = open(1, 'bench-claim-profile-explain');
    const explaining = (async () => {
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 150 + i * 200));
        if (clock.seen >= JOBS) break;
        const plan: string[] = [];
        await explainer.db
          .transaction(async (tx) => {
            const explaining = {
              execute: async (query: Parameters<typeof tx.execute>[0]) => {
                const result = await tx.execute(sql`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${query as never}`);
                plan.push(...(result.rows as { 'QUERY PLAN': string }[]).map((row) => row['QUERY PLAN']));
                return { rows: [] };
              },
            };
            await claim(explaining as never, {
              runnerId: 'explain',
              limit: Math.min(CONCURRENCY, BATCH),
              leaseSeconds: 30,
              perUserCap: CAP,
            });
            throw new Rollback();
          })
          .catch((error) => {
            if (!(error instanceof Rollback)) throw error;
          });
        explains.push(plan.join('\n'));
      }
    })();

    const cpuBefore = process.cpuUsage();
    const ms = await runUntilDone(main.db, runners, clock);
    const cpu = process.cpuUsage(cpuBefore);
    sampling = false;
    await sampling$;
    await explaining;
    await sampler.end();
    await new Promise((r) => setTimeout(r, 600)); // the statistics collector's flush
    await main.db.execute(sql`SELECT pg_stat_clear_snapshot()`);
    const after = await stats();

    const perJob = (key: string) => ((after[key]! - before[key]!) / JOBS).toFixed(2);
    console.log(`\n${Math.round(JOBS / (ms / 1000)).toLocaleString('en-US')} jobs/s (${Math.round(ms)} ms)`);
    console.log(`this process (runners, sampler, explains): ${Math.round((cpu.user + cpu.system) / 1000)} ms of CPU, ${(((cpu.user + cpu.system) / 1000 / ms) * 100).toFixed(0)}% of one core`);
    console.log(
      `per job: ${perJob('statements')} statements (round trips, each its own transaction), ${perJob('jobs_upd')} jobs updates, ` +
        `${perJob('users_upd')} job_users updates (${perJob('users_hot')} HOT)`,
    );
    console.log(`\nbackend states over ${samples} samples (5 ms apart), per statement:`);
    for (const [key, n] of [...waits].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${String(n).padStart(6)}  ${key}`);
    console.log('\nungranted locks (sample counts):');
    for (const [key, n] of [...lockWaits].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${String(n).padStart(6)}  ${key}`);
    for (const [i, plan] of explains.entries()) console.log(`\nclaim plan ${i + 1} (mid-run):\n${plan}`);
  } finally {
    await Promise.all(pools.map((p) => p.close().catch(() => {})));
    await server.stop();
  }
}

class Rollback extends Error {}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
