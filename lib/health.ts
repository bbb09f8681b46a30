import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { queueStats, type QueueStats } from './jobs';

export interface HealthCheck {
  name: 'database' | 'queue_age';
  ok: boolean;
  detail: string;
}

export interface HealthReport {
  status: 'ok' | 'failing';
  checks: HealthCheck[];
  queue: QueueStats | null;
}

/**
 * Database reachable within `timeoutMs`; the oldest runnable job younger than `maxQueueAgeSeconds`
 * (older means the runner is not keeping up or not running at all).
 */
export async function checkHealth(
  db: Db,
  options: { timeoutMs: number; maxQueueAgeSeconds: number },
): Promise<HealthReport> {
  let queue: QueueStats | null = null;
  let databaseCheck: HealthCheck;
  try {
    queue = await withTimeout(
      db.execute(sql`SELECT 1`).then(() => queueStats(db)),
      options.timeoutMs,
    );
    databaseCheck = { name: 'database', ok: true, detail: 'reachable' };
  } catch (error) {
    const detail = error instanceof TimeoutError ? `no answer within ${options.timeoutMs} ms` : 'unreachable';
    databaseCheck = { name: 'database', ok: false, detail };
  }
  const checks: HealthCheck[] = [databaseCheck];
  if (queue) {
    const age = queue.oldestRunnableAgeSeconds ?? 0;
    checks.push({
      name: 'queue_age',
      ok: age <= options.maxQueueAgeSeconds,
      detail: `oldest runnable job waited ${Math.round(age)} s (limit ${options.maxQueueAgeSeconds} s)`,
    });
  }
  return { status: checks.every((c) => c.ok) ? 'ok' : 'failing', checks, queue };
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
