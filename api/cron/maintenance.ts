import { config } from '../../lib/config';
import { db } from '../../lib/database';
import { route } from '../../lib/http/route';
import { assertCronRequest } from '../../lib/http/secrets';
import { pruneExpired } from '../../lib/maintenance';

/** Vercel Cron, daily: retention of finished jobs, webhook deliveries and limiter windows. */
export const GET = route(async (request) => {
  assertCronRequest(request);
  const settings = config();
  const deleted = await pruneExpired(db(), {
    jobsRetentionDays: settings.JOBS_RETENTION_DAYS,
    webhookEventsRetentionDays: settings.WEBHOOK_EVENTS_RETENTION_DAYS,
  });
  return Response.json({ deleted });
});
