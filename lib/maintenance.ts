import type { Db } from '../db/client';
import { pruneActions } from './actions/store';
import { pruneRateLimitWindows } from './http/rate-limit';
import { pruneFinishedJobs } from './jobs';
import { pruneProviderUsage } from './providers/quota';
import { pruneWebhookDeliveries } from './webhooks/deliveries';

export interface MaintenanceResult {
  jobs: number;
  webhookEvents: number;
  rateLimitWindows: number;
  providerUsage: number;
  /** Finished actions past retention, and with them their Idempotency-Keys. */
  actions: number;
}

/**
 * Deletes what has served its purpose: finished jobs past retention (dead ones stay: they wait for an
 * operator), webhook deliveries past retention (but auth ones), and rate-limit and provider-usage
 * windows older than any limit looks at. Each is one statement of the table's owner: the rows deleted
 * are ones nothing else touches any more.
 */
export async function pruneExpired(
  db: Db,
  options: { jobsRetentionDays: number; webhookEventsRetentionDays: number; actionsRetentionDays: number },
): Promise<MaintenanceResult> {
  return {
    jobs: await pruneFinishedJobs(db, options.jobsRetentionDays),
    webhookEvents: await pruneWebhookDeliveries(db, options.webhookEventsRetentionDays),
    rateLimitWindows: await pruneRateLimitWindows(db),
    providerUsage: await pruneProviderUsage(db),
    actions: await pruneActions(db, options.actionsRetentionDays),
  };
}
