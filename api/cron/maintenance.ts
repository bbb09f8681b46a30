import { config } from '../../lib/config';
import { db } from '../../lib/database';
import { route } from '../../lib/http/route';
import { assertCronRequest } from '../../lib/http/secrets';
import { pruneExpired } from '../../lib/maintenance';
import { pruneRetention } from '../../lib/privacy/retention';

/** Vercel Cron, daily: retention of finished jobs, webhook deliveries, limiter windows, raw events and finished runs. */
export const GET = route(async (request) => {
  assertCronRequest(request);
  const settings = config();
  const deleted = await pruneExpired(db(), {
    jobsRetentionDays: settings.JOBS_RETENTION_DAYS,
    webhookEventsRetentionDays: settings.WEBHOOK_EVENTS_RETENTION_DAYS,
    actionsRetentionDays: settings.ACTIONS_RETENTION_DAYS,
  });
  // Raw events and finished runs in batches, stopping well before the function's maxDuration (60 s).
  const retention = await pruneRetention(db(), {
    eventsRetentionDays: settings.EVENTS_RETENTION_DAYS,
    runsRetentionDays: settings.RUNS_RETENTION_DAYS,
    deadline: Date.now() + 40_000,
  });
  return Response.json({ deleted, retention });
});
