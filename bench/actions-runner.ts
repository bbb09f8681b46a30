/**
 * A runner process for bench/actions.ts: runs `action` jobs as the app registers them until it is
 * killed (the bench SIGKILLs runners while they work). Its settings are the bench's environment.
 */
import { randomUUID } from 'node:crypto';
import { config } from '../lib/config';
import { db } from '../lib/database';
import { Runner } from '../lib/jobs/runner';
import { logger } from '../lib/observability/logger';
import { handlers } from '../lib/worker/registry';

const settings = config();
const runner = new Runner({
  db: db(),
  runnerId: `bench-${randomUUID().slice(0, 8)}`,
  logger: logger().child({ component: 'runner' }),
  handlers: { action: handlers.action! },
  concurrency: settings.JOBS_RUNNER_CONCURRENCY,
  batchSize: settings.JOBS_RUNNER_BATCH_SIZE,
  leaseSeconds: settings.JOBS_LEASE_S,
  perUserCap: settings.JOBS_PER_USER_RUNNING_CAP,
  backoffBaseMs: settings.JOBS_BACKOFF_BASE_MS,
  backoffMaxMs: settings.JOBS_BACKOFF_MAX_MS,
});
process.send?.({ ready: runner.runnerId });
while (true) await runner.run({ deadline: Date.now() + 600_000, idleMs: 600_000, pollMs: 100 });
