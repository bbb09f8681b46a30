import { getDeadline } from '@vercel/functions';
import { config } from '../config';
import { db } from '../database';
import { jobSettled } from '../observability/jobs';
import { logger } from '../observability/logger';
import { flushErrors } from '../observability/sentry';
import { flushWindows } from '../observability/windows';
import { handlers } from './registry';
import { Runner, type RunnerOptions, type RunSummary } from '../jobs/runner';
import { listenForJobs, type JobListener } from '../jobs/listen';

let processRunner: Runner | undefined;

/** A runner with the app's handlers and the validated config's settings; `overrides` over them (a bench's runner). */
export function newRunner(overrides: Partial<RunnerOptions> = {}): Runner {
  const settings = config();
  return new Runner({
    db: db(),
    handlers,
    logger: logger().child({ component: 'runner' }),
    concurrency: settings.JOBS_RUNNER_CONCURRENCY,
    batchSize: settings.JOBS_RUNNER_BATCH_SIZE,
    leaseSeconds: settings.JOBS_LEASE_S,
    perUserCap: settings.JOBS_PER_USER_RUNNING_CAP,
    backoffBaseMs: settings.JOBS_BACKOFF_BASE_MS,
    backoffMaxMs: settings.JOBS_BACKOFF_MAX_MS,
    onJobSettled: jobSettled,
    ...overrides,
  });
}

/** The runner of this function instance, built from the validated config. */
export function runner(): Runner {
  processRunner ??= newRunner();
  return processRunner;
}

/** When this invocation must stop claiming: the platform's deadline (or maxDuration) minus a margin. */
export function passDeadline(): number {
  const settings = config();
  const platformDeadline = getDeadline()?.getTime();
  const end = platformDeadline ?? Date.now() + settings.JOBS_RUNNER_MAX_DURATION_S * 1000;
  return end - settings.JOBS_RUNNER_MARGIN_S * 1000;
}

/** One pass until the queue is drained or the deadline: what the cron calls. */
export function runJobs(): Promise<RunSummary> {
  return runner().run({ deadline: passDeadline() }).finally(afterPass);
}

/**
 * What a pass leaves to send before the function may freeze: failed jobs' Sentry events and the
 * alert windows. Never rejects.
 */
async function afterPass(): Promise<void> {
  await Promise.all([
    flushErrors(),
    flushWindows(db()).catch((error) => logger().warn({ err: error }, 'could not write the alert windows')),
  ]);
}

/**
 * Starts a pass now (or nudges the one under way) without waiting for the next cron tick; hand it
 * to waitUntil. Never rejects.
 */
export function kick(): Promise<RunSummary | null> {
  try {
    return runner()
      .kick({ deadline: passDeadline() })
      .catch((error) => {
        logger().error({ err: error }, 'kicked pass failed');
        return null;
      })
      .finally(afterPass);
  } catch (error) {
    logger().error({ err: error }, 'could not start a kicked pass');
    return Promise.resolve(null);
  }
}

/**
 * For long-lived processes (the local server, a worker on a VM): wakes this process's runner the
 * moment any process enqueues a runnable job (LISTEN/NOTIFY on a connection of its own), instead of
 * at the next cron minute. Not on Vercel, where a function holds no connection between invocations:
 * there the cron pass and kick() after an enqueue are the wake-ups.
 */
export function listenForWork(): JobListener {
  return listenForJobs({
    connectionString: config().DATABASE_URL!,
    applicationName: 'switchyard-listener',
    onJobs: () => void kick(),
    onError: (error) => logger().warn({ err: error }, 'job listener lost its connection; reconnecting'),
  });
}
