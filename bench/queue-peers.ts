/**
 * npm run bench:queue:peers: switchyard's queue against pg-boss and graphile-worker, in one run, on one
 * embedded Postgres (each system in its own database), on the same machine:
 * - bulk enqueue of 20,000 no-op jobs (jobs/s);
 * - processing them with 1, 2 and 4 workers (jobs/s: from the start of processing until the database
 *   shows every job finished; each database is ANALYZEd, untimed, after the enqueue);
 * - enqueue-to-start latency, idle queue, a trickle of 200 jobs/s (p50, p99);
 * - recovery: a worker (child process) holding 100 jobs is SIGKILLed; seconds until a surviving
 *   worker in its default configuration ran all 100, up to a cap.
 * Systems are alternated (the order rotates every round, within every phase) and the whole is repeated;
 * medians are reported, with the ratios switchyard/peer. Results: bench/results/queue-peers.json
 * (bench/results/queue-peers.tmp.json when a knob below is set).
 *
 * Knobs: BENCH_ROUNDS (5), BENCH_JOBS (20000), BENCH_RECOVERY_CAP_S (120), BENCH_RECOVERY_ROUNDS (3),
 * BENCH_PHASES (process,latency,recovery), BENCH_SYSTEMS (switchyard,pg-boss,graphile-worker),
 * BENCH_SY_CONCURRENCY / BENCH_SY_BATCH (500 / 500), BENCH_PGBOSS_WORK_CALLS / BENCH_PGBOSS_BATCH (4 / 1000),
 * BENCH_GRAPHILE_CONCURRENCY (24).
 */
import pg from 'pg';
import { machine, round, saveResult, startBenchServer, type BenchServer } from './harness';
import { graphileSystem } from './systems/graphile';
import { pgbossSystem } from './systems/pgboss';
import { switchyardSystem } from './systems/switchyard';
import { median, percentile, type QueueSystem, type RecoveryResult } from './systems/types';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const WORKERS = [1, 2, 4] as const;
const TRICKLE = { samples: 1_000, perSecond: 200 };
const HELD = 100;
const CAP_MS = Number(process.env.BENCH_RECOVERY_CAP_S ?? 120) * 1000;
// Recovery mostly waits out timeouts (the peers' run into the cap): 3 rounds keep the run under ~12 minutes.
const RECOVERY_ROUNDS = Number(process.env.BENCH_RECOVERY_ROUNDS ?? Math.min(3, ROUNDS));
const PHASES = new Set((process.env.BENCH_PHASES ?? 'process,latency,recovery').split(','));

/** switchyard's runners in this comparison: jobs in flight per worker, and jobs per claim. */
const SY_CONCURRENCY = Number(process.env.BENCH_SY_CONCURRENCY ?? 500);
const SY_BATCH = Number(process.env.BENCH_SY_BATCH ?? 500);

const factories: Record<string, () => QueueSystem> = {
  switchyard: () => switchyardSystem({ concurrency: SY_CONCURRENCY, batchSize: SY_BATCH }),
  'pg-boss': () => pgbossSystem(),
  'graphile-worker': () => graphileSystem(),
};
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? Object.keys(factories).join(',')).split(',');
const PEERS = SYSTEMS.filter((name) => name !== 'switchyard');

interface Samples {
  enqueue: number[];
  process: Record<number, number[]>;
  p50: number[];
  p99: number[];
  recovery: RecoveryResult[];
}

const samples: Record<string, Samples> = Object.fromEntries(
  [...SYSTEMS, 'switchyard (lease 5 s)'].map((name) => [name, { enqueue: [], process: { 1: [], 2: [], 4: [] }, p50: [], p99: [], recovery: [] }]),
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
    const ms = await system.processAll(JOBS, workers);
    const rate = JOBS / (ms / 1000);
    samples[name]!.enqueue.push(enqueueRate);
    samples[name]!.process[workers]!.push(rate);
    log(`round ${roundNo} ${name.padEnd(16)} enqueue ${fmt(enqueueRate)} jobs/s, ${workers} worker(s) ${fmt(rate)} jobs/s`);
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

/** The systems' recoveries run side by side (each in its own database): they mostly wait on timeouts. */
async function recoveryPhase(server: BenchServer, names: string[], roundNo: number) {
  const runs = [...names.map((name) => ({ name, make: factories[name]! }))];
  if (names.includes('switchyard')) {
    runs.push({ name: 'switchyard (lease 5 s)', make: () => switchyardSystem({ recoveryLeaseSeconds: 5, name: 'switchyard (lease 5 s)' }) });
  }
  await Promise.all(
    runs.map(async ({ name, make }) => {
      const system = make();
      await system.setup(await server.freshDatabase(`peers_${slug(name)}_recovery`));
      try {
        const result = await system.recovery!(HELD, CAP_MS);
        samples[name]!.recovery.push(result);
        log(
          `round ${roundNo} ${name.padEnd(16)} recovery: ${result.recovered}/${result.held} jobs ` +
            (result.seconds === null ? `not within ${result.capSeconds} s` : `in ${round(result.seconds, 1)} s`),
        );
      } finally {
        await system.teardown();
      }
    }),
  );
}

async function main() {
  const began = Date.now();
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
      if (PHASES.has('recovery') && r < RECOVERY_ROUNDS) await recoveryPhase(server, order, r + 1);
    }
    const report = summarize();
    printTable(report);
    // A run with the knobs turned (fewer rounds, some systems or phases) must not replace the record.
    const knobs = ['BENCH_ROUNDS', 'BENCH_JOBS', 'BENCH_RECOVERY_CAP_S', 'BENCH_RECOVERY_ROUNDS', 'BENCH_PHASES', 'BENCH_SYSTEMS',
      'BENCH_SY_CONCURRENCY', 'BENCH_SY_BATCH', 'BENCH_PGBOSS_WORK_CALLS', 'BENCH_PGBOSS_BATCH', 'BENCH_GRAPHILE_CONCURRENCY'];
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
        'Recovery phases of all systems run side by side.',
      configuration: Object.fromEntries(SYSTEMS.map((name) => [name, factories[name]!().configuration ?? {}])),
      medians: report.medians,
      ratios: report.ratios,
      bar: report.bar,
      samples,
    });
    log(`saved bench/results/${file} (${Math.round((Date.now() - began) / 1000)} s)`);
  } finally {
    await server.stop();
  }
}

interface Medians {
  enqueue: number;
  process: Record<number, number>;
  p50: number;
  p99: number;
  recoverySeconds: number | null;
  recoveryNote: string;
}

function summarize() {
  const medians: Record<string, Medians> = {};
  for (const [name, s] of Object.entries(samples)) {
    const recovered = s.recovery.map((r) => r.seconds);
    const within = recovered.filter((v): v is number => v !== null);
    // A median over rounds where some did not finish within the cap: over the cap if most did not.
    const recoverySeconds = within.length * 2 > recovered.length ? median(within) : null;
    medians[name] = {
      enqueue: round(median(s.enqueue), 0),
      process: Object.fromEntries(WORKERS.map((w) => [w, round(median(s.process[w]!), 0)])),
      p50: round(median(s.p50), 2),
      p99: round(median(s.p99), 2),
      recoverySeconds: recoverySeconds === null ? null : round(recoverySeconds, 1),
      recoveryNote: s.recovery[0]?.mechanism ?? '',
    };
  }
  const sy = medians.switchyard;
  const ratios: Record<string, Record<string, number | string | null>> = {};
  const bar: Record<string, boolean> = {};
  if (sy) {
    for (const peer of PEERS) {
      const p = medians[peer]!;
      ratios[peer] = {
        enqueue: round(sy.enqueue / p.enqueue, 2),
        ...Object.fromEntries(WORKERS.map((w) => [`process_${w}`, round(sy.process[w]! / p.process[w]!, 2)])),
        p50: round(sy.p50 / p.p50, 2),
        p99: round(sy.p99 / p.p99, 2),
        recovery:
          sy.recoverySeconds === null
            ? null
            : p.recoverySeconds === null
              ? `< ${round(sy.recoverySeconds / (CAP_MS / 1000), 2)}`
              : round(sy.recoverySeconds / p.recoverySeconds, 2),
      };
      for (const w of WORKERS) bar[`process_${w}_at_or_above_${peer}`] = sy.process[w]! >= p.process[w]!;
    }
    if (medians['graphile-worker']) bar.p99_no_worse_than_graphile_worker = sy.p99 <= medians['graphile-worker'].p99;
  }
  return { medians, ratios, bar };
}

function printTable({ medians, ratios, bar }: ReturnType<typeof summarize>) {
  const names = [...SYSTEMS];
  const cap = `> ${CAP_MS / 1000} s`;
  const rows: [string, (m: Medians) => string, (peer: string) => string][] = [
    ['bulk enqueue (jobs/s)', (m) => fmt(m.enqueue), (p) => x(ratios[p]?.enqueue)],
    ...WORKERS.map(
      (w) =>
        [`process, ${w} worker${w > 1 ? 's' : ''} (jobs/s)`, (m: Medians) => fmt(m.process[w]!), (p: string) => x(ratios[p]?.[`process_${w}`])] as [
          string,
          (m: Medians) => string,
          (peer: string) => string,
        ],
    ),
    ['latency p50 (ms)', (m) => String(m.p50), (p) => x(ratios[p]?.p50)],
    ['latency p99 (ms)', (m) => String(m.p99), (p) => x(ratios[p]?.p99)],
    ['recovery after SIGKILL (s)', (m) => (m.recoverySeconds === null ? cap : String(m.recoverySeconds)), (p) => x(ratios[p]?.recovery)],
  ];
  const header = ['', ...names, ...PEERS.map((p) => `switchyard/${p}`)];
  const lines = rows.map(([label, value, ratio]) => [label, ...names.map((n) => value(medians[n]!)), ...PEERS.map(ratio)]);
  const table = [header, header.map(() => '---'), ...lines];
  console.log('\n' + table.map((cells) => `| ${cells.join(' | ')} |`).join('\n'));
  const lease5 = medians['switchyard (lease 5 s)'];
  if (lease5?.recoverySeconds !== undefined && samples['switchyard (lease 5 s)']!.recovery.length > 0) {
    console.log(`\nswitchyard with JOBS_LEASE_S=5: recovery ${lease5.recoverySeconds === null ? cap : `${lease5.recoverySeconds} s`}`);
  }
  console.log(`\nmedians of ${ROUNDS} rounds (recovery: ${Math.min(ROUNDS, RECOVERY_ROUNDS)}); bar: ${JSON.stringify(bar)}`);
}

function x(value: number | string | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a';
  return typeof value === 'number' ? `${value}x` : `${value}x`;
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
