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

export async function jobUsersRunning(db: Db): Promise<Record<string, number>> {
  const { rows } = await db.$client.query<{ user_id: string; running: number; actual: number }>(
    `SELECT user_id, running FROM job_users ORDER BY user_id`,
  );
  return Object.fromEntries(rows.map((r) => [r.user_id, r.running]));
}

/** job_users.running must equal the number of running jobs, per user. */
export async function slotDrift(db: Db): Promise<{ user_id: string; running: number; actual: number }[]> {
  const { rows } = await db.$client.query<{ user_id: string; running: number; actual: number }>(`
    SELECT u.user_id, u.running, count(j.id)::int AS actual
    FROM job_users u LEFT JOIN jobs j ON j.user_id = u.user_id AND j.status = 'running'
    GROUP BY u.user_id, u.running
    HAVING u.running <> count(j.id)
  `);
  return rows;
}
