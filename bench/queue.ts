/**
 * npm run bench:queue: switchyard's queue on the embedded Postgres.
 * - jobs/s claimed and completed with a no-op handler, with 1, 2 and 4 runner loops;
 * - enqueue-to-start latency (enqueue, then kick()) p50/p99 at a 200 jobs/s trickle on an idle queue.
 */
import { machine, round, saveResult, startBenchServer } from './harness';
import { switchyardSystem } from './systems/switchyard';
import { percentile } from './systems/types';

const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const TRICKLE = 1_000;

async function main() {
  const server = await startBenchServer();
  try {
    const results: Record<string, unknown> = {};
    for (const workers of [1, 2, 4]) {
      const system = switchyardSystem();
      await system.setup(await server.freshDatabase(`bench_queue_${workers}`));
      await system.bulkEnqueue(JOBS);
      const started = performance.now();
      await system.processAll(JOBS, workers);
      const seconds = (performance.now() - started) / 1000;
      await system.teardown();
      results[`process_${workers}`] = round(JOBS / seconds, 0);
      console.log(`${workers} runner loop(s): ${round(JOBS / seconds, 0)} jobs/s`);
    }
    const system = switchyardSystem();
    await system.setup(await server.freshDatabase('bench_queue_latency'));
    const samples = await system.latency(TRICKLE, 200);
    await system.teardown();
    results.latency_p50_ms = round(percentile(samples, 50), 2);
    results.latency_p99_ms = round(percentile(samples, 99), 2);
    console.log(`enqueue-to-start at 200 jobs/s: p50 ${results.latency_p50_ms} ms, p99 ${results.latency_p99_ms} ms`);
    saveResult('queue.json', {
      date: new Date().toISOString(),
      ...machine(),
      postgres: await server.postgresVersion(),
      jobs: JOBS,
      jobsPerSecond: { 1: results.process_1, 2: results.process_2, 4: results.process_4 },
      latencyMs: { p50: results.latency_p50_ms, p99: results.latency_p99_ms, samples: TRICKLE, perSecond: 200 },
    });
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
