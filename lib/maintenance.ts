import { sql } from 'drizzle-orm';
import type { Db } from '../db/client';
import { pruneRateLimitWindows } from './http/rate-limit';
import { pruneFinishedJobs } from './jobs';
import { pruneProviderUsage } from './providers/quota';

export interface MaintenanceResult {
  jobs: number;
  webhookEvents: number;
  rateLimitWindows: number;
  providerUsage: number;
}

/**
 * Deletes what has served its purpose: finished jobs past retention (dead ones stay: they wait for an
 * operator), webhook deliveries past retention (but auth ones), and rate-limit and provider-usage
 * windows older than any limit looks at. Each is one statement: the rows deleted are ones nothing else touches any more.
 */
export async function pruneExpired(
  db: Db,
  options: { jobsRetentionDays: number; webhookEventsRetentionDays: number },
): Promise<MaintenanceResult> {
  const deleted = async (statement: ReturnType<typeof sql>) => (await db.execute(statement)).rowCount ?? 0;
  return {
    jobs: await pruneFinishedJobs(db, options.jobsRetentionDays),
    // Auth deliveries are kept: Nango dates none, so only their de-duplication row tells an old one
    // replayed (a refresh failure, a creation) from a new one. They are few: one per connect or re-auth.
    webhookEvents: await deleted(sql`
      DELETE FROM webhook_events
      WHERE received_at < now() - make_interval(days => ${options.webhookEventsRetentionDays}) AND type <> 'auth'`),
    rateLimitWindows: await pruneRateLimitWindows(db),
    providerUsage: await pruneProviderUsage(db),
  };
}
