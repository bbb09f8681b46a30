import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { pruneFinishedJobs } from './jobs';

export interface MaintenanceResult {
  jobs: number;
  webhookEvents: number;
  rateLimitWindows: number;
  providerUsage: number;
}

/**
 * Deletes what has served its purpose: finished jobs past retention (dead ones stay: they wait for an
 * operator), webhook deliveries past retention, and rate-limit and provider-usage windows older than
 * any limit looks at. Each is one statement: the rows deleted are ones nothing else touches any more.
 */
export async function pruneExpired(
  db: Db,
  options: { jobsRetentionDays: number; webhookEventsRetentionDays: number },
): Promise<MaintenanceResult> {
  const deleted = async (statement: ReturnType<typeof sql>) => (await db.execute(statement)).rowCount ?? 0;
  return {
    jobs: await pruneFinishedJobs(db, options.jobsRetentionDays),
    webhookEvents: await deleted(sql`
      DELETE FROM webhook_events WHERE received_at < now() - make_interval(days => ${options.webhookEventsRetentionDays})`),
    rateLimitWindows: await deleted(sql`DELETE FROM rate_limit_windows WHERE window_start < now() - interval '10 minutes'`),
    providerUsage: await deleted(sql`DELETE FROM provider_usage WHERE window_start < now() - interval '1 day'`),
  };
}
