// Runner settings for tests; the crash tests' child processes import it too, so nothing of vitest here.
import { sql } from 'drizzle-orm';
import pino from 'pino';
import type { Db } from '../../db/client';
import { Runner, type HandlerRegistry, type RunnerOptions } from '../../lib/jobs/runner';

export const silentLogger = pino({ level: 'silent' });

export function testRunner(db: Db, handlers: HandlerRegistry, overrides: Partial<RunnerOptions> = {}): Runner {
  return new Runner({
    db,
    handlers,
    logger: silentLogger,
    concurrency: 8,
    batchSize: 20,
    leaseSeconds: 30,
    perUserCap: 100,
    backoffBaseMs: 1_000,
    backoffMaxMs: 60_000,
    ...overrides,
  });
}

/** job_users.running must equal the number of running jobs, per user: the rows where it does not. */
export async function slotDrift(db: Db): Promise<unknown[]> {
  const result = await db.execute(sql`
    SELECT u.user_id, u.running, count(j.id)::int AS actual
    FROM job_users u LEFT JOIN jobs j ON j.user_id = u.user_id AND j.status = 'running'
    GROUP BY u.user_id, u.running
    HAVING u.running <> count(j.id)
  `);
  return result.rows;
}
