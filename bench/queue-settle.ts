/**
 * npm run bench:queue:settle: what settling one batch costs, alone, on one connection: the runner's
 * settle-and-hand-off of BENCH_BATCH (100) jobs, repeated over a backlog of 60,000 jobs for 50 users,
 * each batch's successors settled next. Prints the median and p90 over the batches after the first 20
 * (connection warm, statements prepared). BENCH_ROOT=<checkout> runs another checkout's queue code on
 * this harness (a worktree of an earlier commit, with node_modules linked), for a back-to-back A/B.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';

const root = pathToFileURL(resolve(process.env.BENCH_ROOT ?? '.')).href;
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const { createDatabase } = await import(`${root}/db/client.ts`);
const { runMigrations } = await import(`${root}/db/migrate.ts`);
const { claim, settleAndHandOff } = await import(`${root}/lib/jobs/index.ts`);
const { startBenchServer } = await import(`${root}/bench/harness.ts`);
const { enqueueNoops } = await import(`${root}/bench/systems/switchyard.ts`);

const server = await startBenchServer();
const url = await server.freshDatabase('queue_settle');
await runMigrations(url);
const database = createDatabase({ connectionString: url, max: 1, connectionTimeoutMillis: 10_000, statementTimeoutMillis: 60_000, idleTimeoutMillis: 60_000 });
try {
  await enqueueNoops(database.db, 60_000, 50);
  await database.db.execute(sql`ANALYZE`);
  const handOff = { limit: BATCH, leaseSeconds: 60, perUserCap: 100 };
  let held = await claim(database.db, { runnerId: 'bench', ...handOff });
  const ms: number[] = [];
  while (held.length > 0 && ms.length < 200) {
    const settlements = held.map((job: { id: number; attempts: number }) => ({ id: job.id, attempt: job.attempts, outcome: 'succeeded' as const }));
    const started = performance.now();
    held = (await settleAndHandOff(database.db, 'bench', settlements, handOff)).handedOff;
    ms.push(performance.now() - started);
  }
  const measured = ms.slice(20).sort((a, b) => a - b);
  const at = (q: number) => measured[Math.min(measured.length - 1, Math.floor(measured.length * q))]!.toFixed(2);
  console.log(`${process.env.BENCH_ROOT ?? '.'}: settle and hand off ${BATCH} jobs: median ${at(0.5)} ms, p90 ${at(0.9)} ms over ${measured.length} batches`);
} finally {
  await database.close();
  await server.stop();
}
