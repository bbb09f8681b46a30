/**
 * npm run bench:queue: switchyard's queue on the embedded Postgres, at its config defaults.
 * - jobs/s claimed and completed with a no-op handler, with 1, 2 and 4 runners, jobs over 50 users;
 * - the same with 100,000 more users in job_users that have no work (a claim must not look at them);
 * - enqueue-to-start latency p50/p99 at a 200 jobs/s trickle on an idle queue, the runner woken by
 *   LISTEN/NOTIFY.
 * Knobs: BENCH_JOBS (20000), BENCH_IDLE_USERS (100000).
 */
import { machine, round, saveResult, startBenchServer } from './harness';
import { switchyardSystem } from './systems/switchyard';
import { WARM_UP_SAMPLES, percentile } from './systems/types';

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const IDLE_USERS = Number(process.env.BENCH_IDLE_USERS ?? 100_000);
const TRICKLE = 1_000 + WARM_UP_SAMPLES;

async function main() {
  const server = await startBenchServer();
  try {
    const jobsPerSecond: Record<string, Record<number, number>> = { '50 users': {}, [`50 users + ${IDLE_USERS} idle`]: {} };
    for (const workers of [1, 2, 4]) {
      for (const [label, idleUsers] of [['50 users', 0], [`50 users + ${IDLE_USERS} idle`, IDLE_USERS]] as const) {
        const system = switchyardSystem({ idleUsers });
        await system.setup(await server.freshDatabase(`bench_queue_${workers}`));
        await system.bulkEnqueue(JOBS);
        const ms = await system.processAll(JOBS, workers);
        await system.teardown();
        jobsPerSecond[label]![workers] = round(JOBS / (ms / 1000), 0);
        console.log(`${label}, ${workers} runner(s): ${jobsPerSecond[label]![workers]} jobs/s`);
      }
    }
    const system = switchyardSystem();
    await system.setup(await server.freshDatabase('bench_queue_latency'));
    const samples = await system.latency(TRICKLE, 200);
    await system.teardown();
    const latencyMs = { p50: round(percentile(samples, 50), 2), p99: round(percentile(samples, 99), 2), samples: samples.length, warmUpLeftOut: WARM_UP_SAMPLES, perSecond: 200 };
    console.log(`enqueue-to-start at 200 jobs/s: p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms`);
    saveResult('queue.json', {
      date: new Date().toISOString(),
      ...machine(),
      postgres: await server.postgresVersion(),
      configuration: switchyardSystem().configuration,
      jobs: JOBS,
      jobsPerSecond,
      latencyMs,
    });
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
