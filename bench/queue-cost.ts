/**
 * npm run bench:queue:cost: what a job costs switchyard's queue, in counts a loaded machine does not
 * distort (the figure of merit for changes to the claim, the settlement and the jobs indexes).
 *
 * Enqueues BENCH_JOBS no-op jobs over BENCH_USERS users, ANALYZEs, then runs BENCH_WORKERS runners
 * until every job finished, and reports per job:
 * - round trips (statements the runners sent) and, from pg_stat_statements, each statement's calls,
 *   rows, WAL records and bytes, buffers dirtied and execution time;
 * - jobs / job_users tuples updated (and how many of those were HOT), inserted, deleted; the jobs
 *   indexes' growth in bytes;
 * - CPU time of the runners' Postgres backends (from /proc/<pid>/schedstat) and of this process.
 * The wall-clock rate is printed too, but only the counts compare across loads.
 *
 * Knobs: BENCH_JOBS (10000), BENCH_USERS (50), BENCH_WORKERS (1), BENCH_SY_CONCURRENCY /
 * BENCH_SY_BATCH / BENCH_SY_CAP (the config defaults).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { createDatabase, type Database } from '../db/client';
import { runMigrations } from '../db/migrate';
import { parseConfig } from '../lib/config';
import { defineHandler } from '../lib/jobs/runner';
import { startBenchServer } from './harness';
import { benchRunner, enqueueNoops, runUntilDone, runnerKnobs } from './systems/switchyard';
import { startClock } from './systems/types';

const defaults = parseConfig({});
const knobs = runnerKnobs({ jobs: 10_000, workers: 1 });
const [JOBS, USERS, WORKERS, CONCURRENCY, BATCH, CAP] = [knobs.jobs, knobs.users, knobs.workers, knobs.concurrency, knobs.batchSize, knobs.perUserCap];
const APP = 'bench-queue-cost';

/** CPU time (ms) a process has spent, from the scheduler's own count. */
function cpuMsOf(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return 0;
  }
}

interface TupleCounts {
  upd: number;
  hot: number;
  ins: number;
  del: number;
}

async function main() {
  const server = await startBenchServer({
    shared_preload_libraries: 'pg_stat_statements',
    'pg_stat_statements.track': 'all',
    'pg_stat_statements.track_planning': 'on',
  });
  const pools: Database[] = [];
  let statements = 0;
  const url = await server.freshDatabase('queue_cost');
  const open = (max: number, applicationName: string) => {
    const database = createDatabase({
      connectionString: url,
      max,
      connectionTimeoutMillis: 10_000,
      statementTimeoutMillis: 60_000,
      idleTimeoutMillis: 60_000,
      applicationName,
    });
    pools.push(database);
    return database;
  };
  try {
    await runMigrations(url);
    const main = open(2, `${APP}-main`);
    await main.db.execute(sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
    await enqueueNoops(main.db, JOBS, USERS);
    await main.db.execute(sql`ANALYZE`);
    console.log(
      `${JOBS} jobs over ${USERS} users, ${WORKERS} runner(s), concurrency ${CONCURRENCY}, batch ${BATCH}, cap ${CAP}; ` +
        `load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    );

    const counters = async () => {
      await main.db.execute(sql`SELECT pg_stat_force_next_flush()`);
      await new Promise((r) => setTimeout(r, 100));
      await main.db.execute(sql`SELECT pg_stat_clear_snapshot()`);
      const { rows } = await main.db.execute(sql`
        SELECT relname, n_tup_upd::float8 AS upd, n_tup_hot_upd::float8 AS hot, n_tup_ins::float8 AS ins,
               n_tup_del::float8 AS del
        FROM pg_stat_user_tables WHERE relname IN ('jobs', 'job_users')`);
      const { rows: indexes } = await main.db.execute(sql`
        SELECT c.relname, pg_relation_size(c.oid)::float8 AS bytes
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'jobs'::regclass ORDER BY 1`);
      return {
        tables: Object.fromEntries((rows as unknown as (TupleCounts & { relname: string })[]).map((r) => [r.relname, r])),
        indexes: Object.fromEntries((indexes as { relname: string; bytes: number }[]).map((r) => [r.relname, r.bytes])),
      };
    };
    const before = await counters();
    await main.db.execute(sql`SELECT pg_stat_statements_reset()`);

    const clock = startClock(JOBS);
    const handlers = { noop: defineHandler({ payload: z.unknown(), run: async () => clock.tick() }) };
    const runnerPools = Array.from({ length: WORKERS }, () => open(defaults.DATABASE_POOL_MAX, APP));
    for (const database of runnerPools) {
      const query = database.pool.query.bind(database.pool) as (...args: unknown[]) => unknown;
      (database.pool as unknown as { query: unknown }).query = (...args: unknown[]) => ((statements += 1), query(...args));
    }
    const runners = runnerPools.map((database) =>
      benchRunner(database.db, handlers, { concurrency: CONCURRENCY, batchSize: BATCH, perUserCap: CAP }),
    );

    const cpuBefore = process.cpuUsage();
    const ms = await runUntilDone(main.db, runners, clock);
    const cpu = process.cpuUsage(cpuBefore);
    const { rows: backends } = await main.db.execute(sql`SELECT pid FROM pg_stat_activity WHERE application_name = ${APP}`);
    const backendMs = (backends as { pid: number }[]).reduce((sum, { pid }) => sum + cpuMsOf(pid), 0);
    // Their backends report their tuple counts when they exit.
    await Promise.all(runnerPools.map((database) => database.close()));
    const after = await counters();
    const { rows: perStatement } = await main.db.execute(sql`
      SELECT CASE WHEN query LIKE '%AS claimable%' THEN 'claimable'
                  WHEN query LIKE '%WITH RECURSIVE waiting%' THEN 'claim'
                  WHEN query LIKE '%settled AS%' THEN 'settle'
                  WHEN query LIKE '%reclaimed AS%' THEN 'reclaim'
                  WHEN query LIKE '%locked_until = now() + make_interval%' AND query NOT LIKE '%claimed%' THEN 'heartbeat'
                  ELSE left(regexp_replace(query, '\s+', ' ', 'g'), 60) END AS statement,
             sum(calls)::float8 AS calls, sum(rows)::float8 AS rows, sum(wal_records)::float8 AS wal_records,
             sum(wal_bytes)::float8 AS wal_bytes, sum(shared_blks_hit + shared_blks_read)::float8 AS buffers,
             sum(shared_blks_dirtied)::float8 AS dirtied,
             sum(total_exec_time)::float8 AS exec_ms, sum(total_plan_time)::float8 AS plan_ms
      FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND query NOT LIKE '%pg_stat%' AND query NOT LIKE '%count(*)::int AS n FROM jobs%'
      GROUP BY 1 ORDER BY sum(total_exec_time) DESC`);

    const perJob = (value: number, digits = 2) => (value / JOBS).toFixed(digits);
    console.log(`\n${Math.round(JOBS / (ms / 1000)).toLocaleString('en-US')} jobs/s wall clock (${Math.round(ms)} ms; load-dependent)`);
    console.log(
      `per job: ${perJob(statements, 3)} round trips; CPU ${((backendMs / JOBS) * 1000).toFixed(0)} µs in Postgres (runners' backends), ` +
        `${(((cpu.user + cpu.system) / 1000 / JOBS) * 1000).toFixed(0)} µs in Node (this process)`,
    );
    for (const table of ['jobs', 'job_users']) {
      const [a, b] = [after.tables[table]!, before.tables[table]!];
      console.log(
        `  ${table}: ${perJob(a.upd - b.upd)} updates (${perJob(a.hot - b.hot)} HOT), ${perJob(a.ins - b.ins)} inserts, ${perJob(a.del - b.del)} deletes`,
      );
    }
    console.log('  jobs index growth (bytes per job):');
    for (const [name, bytes] of Object.entries(after.indexes)) {
      console.log(`    ${name.padEnd(28)} ${perJob(bytes - (before.indexes[name] ?? 0), 1)}`);
    }
    console.log('\nper job, by statement: calls, rows, WAL records, WAL bytes, buffers read, buffers dirtied, exec µs, plan µs');
    for (const row of perStatement as Record<string, number | string>[]) {
      const n = (key: string) => Number(row[key]);
      console.log(
        `  ${String(row.statement).padEnd(12)} ${perJob(n('calls'), 4)}  ${perJob(n('rows'), 2)}  ${perJob(n('wal_records'), 2)}  ` +
          `${perJob(n('wal_bytes'), 0)}  ${perJob(n('buffers'), 1)}  ${perJob(n('dirtied'), 3)}  ${((n('exec_ms') / JOBS) * 1000).toFixed(1)}  ${((n('plan_ms') / JOBS) * 1000).toFixed(1)}`,
      );
    }
  } finally {
    await Promise.all(pools.filter((database) => !database.pool.ending).map((database) => database.close()));
    await server.stop();
  }
}

await main();
