/**
 * The pg-boss worker that gets killed in the recovery benchmark: one work() fetching `hold` jobs
 * whose handler never returns. argv: database url, queue, jobs to hold.
 */
import { PgBoss } from 'pg-boss';

const [url, queue, hold] = process.argv.slice(2);
const boss = new PgBoss({ connectionString: url!, application_name: 'bench-pgboss-doomed' });
boss.on('error', () => {});
await boss.start();
await boss.work<object>(queue!, { batchSize: Number(hold), pollingIntervalSeconds: 0.5 }, async (jobs) => {
  for (const job of jobs) process.send?.({ started: job.id });
  await new Promise(() => {});
});
