/**
 * npm run bench:queue:peers: switchyard's queue against pg-boss 12 and graphile-worker 0.18 (both
 * need Node 22: the script runs under it), in one run, on one embedded Postgres (each system in its
 * own database), on the same machine:
 * - bulk enqueue of 10,000 no-op jobs (jobs/s);
 * - processing them with 1, 2 and 4 workers (jobs/s: from the start of processing until the database
 *   shows every job finished; each database is ANALYZEd, untimed, after the enqueue), and the CPU
 *   time per job it took Postgres (all the server's processes) and the workers (this process), which
 *   the machine's other load distorts far less than the rate;
 * - enqueue-to-start latency, idle queue, a trickle of 200 jobs/s from a producer that only enqueues
 *   (each system's worker wakes on LISTEN/NOTIFY, and has started before the producer does) (p50, p99),
 *   the first 100 jobs left out (the cold start of the worker's pool and code);
 * - recovery: a worker (child process) holding 100 jobs is SIGKILLed; seconds until a surviving
 *   worker in its default configuration ran all 100, up to a cap.
 * Rows: switchyard at its shipped defaults (lib/config.ts) and at its best (per-user cap within the
 * config's range), pg-boss at its documented best with and without a per-group (per-user) limit,
 * graphile-worker with the local queue of its performance page (500) and a small one (25).
 * Systems are alternated (the order rotates every round, within every phase) and the whole is repeated;
 * medians are reported, with the ratios switchyard/peer. Results: bench/results/queue-peers.json
 * (bench/results/queue-peers.tmp.json when a knob below is set).
 *
 * Knobs: BENCH_ROUNDS (5), BENCH_JOBS (10000), BENCH_RECOVERY_CAP_S (120), BENCH_RECOVERY_ROUNDS (3),
 * BENCH_PHASES (process,latency,recovery), BENCH_SYSTEMS (comma-separated row names),
 * BENCH_SY_BEST (concurrency/batch/cap of switchyard's best row, 100/500/100),
 * BENCH_PGBOSS_LOCAL_CONCURRENCY / BENCH_PGBOSS_BATCH (2 / 500).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { machine, round, saveResult, startBenchServer, type BenchServer } from './harness';
import { parseConfig } from '../lib/config';
import { graphileSystem } from './systems/graphile';
import { pgbossSystem } from './systems/pgboss';
import { switchyardSystem } from './systems/switchyard';
import { WARM_UP_SAMPLES, median, percentile, type QueueSystem, type RecoveryResult } from './systems/types';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const JOBS = Number(process.env.BENCH_JOBS ?? 10_000);
const WORKERS = [1, 2, 4] as const;
const TRICKLE = { samples: 1_000 + WARM_UP_SAMPLES, perSecond: 200, warmUp: WARM_UP_SAMPLES };
const HELD = 100;
const CAP_MS = Number(process.env.BENCH_RECOVERY_CAP_S ?? 120) * 1000;
// Recovery mostly waits out timeouts (the peers' run into the cap): 3 rounds keep the run under ~12 minutes.
const RECOVERY_ROUNDS = Number(process.env.BENCH_RECOVERY_ROUNDS ?? Math.min(3, ROUNDS));
const PHASES = new Set((process.env.BENCH_PHASES ?? 'process,latency,recovery').split(','));

const defaults = parseConfig({});
/** switchyard's best row: handlers per runner, jobs per claim, per-user cap (the config allows 1-100). */
const [SY_BEST_CONCURRENCY, SY_BEST_BATCH, SY_BEST_CAP] = (process.env.BENCH_SY_BEST ?? '100/500/100').split('/').map(Number) as [number, number, number];
const SY_DEFAULTS = 'switchyard (defaults)';
const SY_BEST = 'switchyard (best)';

const factories: Record<string, () => QueueSystem> = {
  [SY_DEFAULTS]: () => switchyardSystem({ name: SY_DEFAULTS }),
  [SY_BEST]: () =>
    switchyardSystem({ name: SY_BEST, concurrency: SY_BEST_CONCURRENCY, batchSize: SY_BEST_BATCH, perUserCap: SY_BEST_CAP }),
  'pg-boss': () => pgbossSystem(),
  [`pg-boss (groupConcurrency ${defaults.JOBS_PER_USER_RUNNING_CAP})`]: () =>
    pgbossSystem({ name: `pg-boss (groupConcurrency ${defaults.JOBS_PER_USER_RUNNING_CAP})`, groupConcurrency: defaults.JOBS_PER_USER_RUNNING_CAP }),
  'graphile-worker (local queue 25)': () => graphileSystem({ localQueueSize: 25 }),
  'graphile-worker (local queue 500)': () => graphileSystem({ localQueueSize: 500 }),
};
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? Object.keys(factories).join(',')).split(',');
const OURS = SYSTEMS.filter((name) => name.startsWith('switchyard'));
const PEERS = SYSTEMS.filter((name) => !name.startsWith('switchyard'));

const LEASE_5 = 'switchyard (lease 5 s)';

interface Samples {
  enqueue: number[];
  process: Record<number, number[]>;
  /** CPU µs per job while processing, Postgres's (all its processes) and this process's (the workers'). */
  postgresCpu: Record<number, number[]>;
  nodeCpu: Record<number, number[]>;
  p50: number[];
  p99: number[];
}

const samples: Record<string, Samples> = Object.fromEntries(
  SYSTEMS.map((name) => [
    name,
    { enqueue: [], process: { 1: [], 2: [], 4: [] }, postgresCpu: { 1: [], 2: [], 4: [] }, nodeCpu: { 1: [], 2: [], 4: [] }, p50: [], p99: [] },
  ]),
);

const slug = (name: string) => name.replace(/[^a-z0-9]+/gi, '_').toLowerCase();
const rotate = <T>(items: T[], by: number) => items.map((_, i) => items[(i + by) % items.length]!);

/**
 * Statistics for the planner, untimed, as autovacuum would have gathered them in a running system
 * (on a never-analyzed table pg-boss's completion of 1,000 ids plans as a nested loop of 1,000 x 1,000).
 */
async function analyze(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

async function processPhase(server: BenchServer, name: string, workers: number, roundNo: number) {
  const system = factories[name]!();
  const url = await server.freshDatabase(`peers_${slug(name)}`);
  await system.setup(url);
  try {
    const enqueueStarted = performance.now();
    await system.bulkEnqueue(JOBS);
    const enqueueRate = JOBS / ((performance.now() - enqueueStarted) / 1000);
    await analyze(url);
    const postgresBefore = await server.cpuMs();
    const nodeBefore = process.cpuUsage();
    const ms = await system.processAll(JOBS, workers);
    const node = process.cpuUsage(nodeBefore);
    // Backends of workers that stopped count once the postmaster has reaped them.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const postgresCpu = ((await server.cpuMs()) - postgresBefore) * 1000 / JOBS;
    const nodeCpu = (node.user + node.system) / JOBS;
    const rate = JOBS / (ms / 1000);
    samples[name]!.enqueue.push(enqueueRate);
    samples[name]!.process[workers]!.push(rate);
    samples[name]!.postgresCpu[workers]!.push(postgresCpu);
    samples[name]!.nodeCpu[workers]!.push(nodeCpu);
    log(
      `round ${roundNo} ${name.padEnd(16)} enqueue ${fmt(enqueueRate)} jobs/s, ${workers} worker(s) ${fmt(rate)} jobs/s, ` +
        `CPU per job ${fmt(postgresCpu)} µs Postgres + ${fmt(nodeCpu)} µs Node`,
    );
  } finally {
    await system.teardown();
  }
}

async function latencyPhase(server: BenchServer, name: string, roundNo: number) {
  const system = factories[name]!();
  await system.setup(await server.freshDatabase(`peers_${slug(name)}`));
  try {
    const values = await system.latency(TRICKLE.samples, TRICKLE.perSecond);
    const p50 = percentile(values, 50);
    const p99 = percentile(values, 99);
    samples[name]!.p50.push(p50);
    samples[name]!.p99.push(p99);
    log(`round ${roundNo} ${name.padEnd(16)} latency p50 ${round(p50, 2)} ms, p99 ${round(p99, 2)} ms`);
  } finally {
    await system.teardown();
  }
}

/**
 * The systems' recoveries run side by side (each in its own database): they mostly wait on timeouts.
 * Recovery depends on the system's crash handling, not on its throughput settings: one row each, and
 * switchyard once more with a 5 s lease.
 */
const recoveryRows: Record<string, () => QueueSystem> = {
  switchyard: () => switchyardSystem({ name: 'switchyard' }),
  [LEASE_5]: () => switchyardSystem({ name: LEASE_5, recoveryLeaseSeconds: 5 }),
  'pg-boss': () => pgbossSystem(),
  'graphile-worker': () => graphileSystem({ name: 'graphile-worker', localQueueSize: 500 }),
};
const recoveries: Record<string, RecoveryResult[]> = Object.fromEntries(Object.keys(recoveryRows).map((name) => [name, []]));

async function recoveryPhase(server: BenchServer, roundNo: number) {
  await Promise.all(
    rotate(Object.keys(recoveryRows), roundNo).map(async (name) => {
      const system = recoveryRows[name]!();
      try {
        await system.setup(await server.freshDatabase(`peers_${slug(name)}_recovery`));
        const result = await system.recovery!(HELD, CAP_MS);
        recoveries[name]!.push(result);
        log(
          `round ${roundNo} ${name.padEnd(16)} recovery: ${result.recovered}/${result.held} jobs ` +
            (result.seconds === null ? `not within ${result.capSeconds} s` : `in ${round(result.seconds, 1)} s`),
        );
      } catch (error) {
        // One system's failed recovery round must not lose the whole run.
        log(`round ${roundNo} ${name} recovery failed: ${String(error)}`);
      } finally {
        await system.teardown();
      }
    }),
  );
}

async function main() {
  const began = Date.now();
  const loadAtStart = loadavg();
  const server = await startBenchServer();
  try {
    const postgres = await server.postgresVersion();
    log(`${ROUNDS} rounds, ${JOBS} jobs, ${machine().cpus} CPUs, Node ${process.version}, Postgres ${postgres}`);
    for (let r = 0; r < ROUNDS; r++) {
      const order = rotate(SYSTEMS, r);
      if (PHASES.has('process')) {
        for (const workers of WORKERS) for (const name of order) await processPhase(server, name, workers, r + 1);
      }
      if (PHASES.has('latency')) for (const name of order) await latencyPhase(server, name, r + 1);
      if (PHASES.has('recovery') && r < RECOVERY_ROUNDS) await recoveryPhase(server, r + 1);
    }
    const report = summarize();
    printTable(report);
    // A run with the knobs turned (fewer rounds, some systems or phases) must not replace the record.
    const knobs = ['BENCH_ROUNDS', 'BENCH_JOBS', 'BENCH_RECOVERY_CAP_S', 'BENCH_RECOVERY_ROUNDS', 'BENCH_PHASES', 'BENCH_SYSTEMS',
      'BENCH_SY_BEST', 'BENCH_PGBOSS_LOCAL_CONCURRENCY', 'BENCH_PGBOSS_BATCH'];
    const file = knobs.some((knob) => process.env[knob] !== undefined) ? 'queue-peers.tmp.json' : 'queue-peers.json';
    saveResult(file, {
      date: new Date().toISOString(),
      ...machine(),
      postgres,
      durationSeconds: Math.round((Date.now() - began) / 1000),
      rounds: ROUNDS,
      recoveryRounds: Math.min(ROUNDS, RECOVERY_ROUNDS),
      jobs: JOBS,
      trickle: TRICKLE,
      recoveryHeldJobs: HELD,
      recoveryCapSeconds: CAP_MS / 1000,
      method:
        'one embedded Postgres (default durability), one database per system; systems alternated, order rotated ' +
        'each round; medians over rounds. Each database is ANALYZEd after the bulk enqueue (untimed). Processing rate = ' +
        'jobs / time from the start of processing until the database shows every job finished. ' +
        'Recovery phases of all systems run side by side. The machine is shared (2 cores, other work running): ' +
        'compare systems within this run (the ratios), not figures across runs.',
      loadAverage: { start: loadAtStart, end: loadavg() },
      configuration: Object.fromEntries(SYSTEMS.map((name) => [name, factories[name]!().configuration ?? {}])),
      jobsInFlight: Object.fromEntries(SYSTEMS.map((name) => [name, factories[name]!().jobsInFlight])),
      medians: report.medians,
      recovery: report.recovery,
      ratios: report.ratios,
      bar: report.bar,
      samples,
      recoverySamples: recoveries,
    });
    log(`saved bench/results/${file} (${Math.round((Date.now() - began) / 1000)} s)`);
  } finally {
    await server.stop();
  }
}

interface Medians {
  enqueue: number;
  process: Record<number, number>;
  postgresCpu: Record<number, number>;
  nodeCpu: Record<number, number>;
  p50: number;
  p99: number;
}

interface Recovery {
  seconds: number | null;
  mechanism: string;
}

function summarize() {
  const medians: Record<string, Medians> = {};
  for (const [name, s] of Object.entries(samples)) {
    medians[name] = {
      enqueue: round(median(s.enqueue), 0),
      process: Object.fromEntries(WORKERS.map((w) => [w, round(median(s.process[w]!), 0)])),
      postgresCpu: Object.fromEntries(WORKERS.map((w) => [w, round(median(s.postgresCpu[w]!), 0)])),
      nodeCpu: Object.fromEntries(WORKERS.map((w) => [w, round(median(s.nodeCpu[w]!), 0)])),
      p50: round(median(s.p50), 2),
      p99: round(median(s.p99), 2),
    };
  }
  const recovery: Record<string, Recovery> = {};
  for (const [name, results] of Object.entries(recoveries)) {
    if (results.length === 0) continue;
    const within = results.map((r) => r.seconds).filter((v): v is number => v !== null);
    // A median over rounds where some did not finish within the cap: over the cap if most did not.
    const seconds = within.length * 2 > results.length ? round(median(within), 1) : null;
    recovery[name] = { seconds, mechanism: results[0]!.mechanism };
  }
  // Ratios of each switchyard row to each peer (within this run: the machine's noise cancels out).
  const ratios: Record<string, Record<string, Record<string, number>>> = {};
  const bar: Record<string, boolean> = {};
  for (const ours of OURS) {
    const sy = medians[ours]!;
    ratios[ours] = {};
    for (const peer of PEERS) {
      const p = medians[peer]!;
      ratios[ours]![peer] = {
        enqueue: round(sy.enqueue / p.enqueue, 2),
        ...Object.fromEntries(WORKERS.map((w) => [`process_${w}`, round(sy.process[w]! / p.process[w]!, 2)])),
        p50: round(sy.p50 / p.p50, 2),
        p99: round(sy.p99 / p.p99, 2),
      };
      if (PHASES.has('process')) for (const w of WORKERS) bar[`${ours} process_${w} >= ${peer}`] = sy.process[w]! >= p.process[w]!;
      if (PHASES.has('latency')) bar[`${ours} p99 <= ${peer}`] = sy.p99 <= p.p99;
    }
  }
  return { medians, recovery, ratios, bar };
}

function printTable({ medians, recovery, ratios, bar }: ReturnType<typeof summarize>) {
  const rows: [string, (m: Medians) => string][] = [
    ['bulk enqueue (jobs/s)', (m) => fmt(m.enqueue)],
    ...WORKERS.map((w) => [`process, ${w} worker${w > 1 ? 's' : ''} (jobs/s)`, (m: Medians) => fmt(m.process[w]!)] as [string, (m: Medians) => string]),
    ...WORKERS.map(
      (w) =>
        [`CPU per job, ${w} worker${w > 1 ? 's' : ''}: Postgres + Node (µs)`, (m: Medians) => `${fmt(m.postgresCpu[w]!)} + ${fmt(m.nodeCpu[w]!)}`] as [
          string,
          (m: Medians) => string,
        ],
    ),
    ['latency p50 (ms)', (m) => String(m.p50)],
    ['latency p99 (ms)', (m) => String(m.p99)],
  ];
  const table = (header: string[], lines: string[][]) =>
    console.log('\n' + [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n'));
  table(['', ...SYSTEMS], rows.map(([label, value]) => [label, ...SYSTEMS.map((n) => value(medians[n]!))]));
  for (const ours of OURS) {
    table(
      [`${ours} / peer`, ...PEERS],
      ['enqueue', ...WORKERS.map((w) => `process_${w}`), 'p50', 'p99'].map((key) => [key, ...PEERS.map((p) => x(ratios[ours]?.[p]?.[key]))]),
    );
  }
  const cap = `> ${CAP_MS / 1000} s`;
  for (const [name, r] of Object.entries(recovery)) console.log(`recovery after SIGKILL, ${name}: ${r.seconds === null ? cap : `${r.seconds} s`}`);
  console.log(`\nmedians of ${ROUNDS} rounds (recovery: ${Math.min(ROUNDS, RECOVERY_ROUNDS)}); bar: ${JSON.stringify(bar, null, 1)}`);
}

function x(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : `${value}x`;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

function log(message: string) {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

main().then(
  // Some peers leave timers behind after stopping; the run is over.
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
