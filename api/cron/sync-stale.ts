import { config } from '../../lib/config';
import { db } from '../../lib/database';
import { route } from '../../lib/http/route';
import { assertCronRequest } from '../../lib/http/secrets';
import { enqueueStaleSyncs } from '../../lib/sync/requests';

/**
 * Vercel Cron, every 10 minutes: the safety net for lost webhooks. An incremental sync of every active
 * connection that has not synced for SYNC_STALE_AFTER_MINUTES.
 */
export const GET = route(async (request) => {
  assertCronRequest(request);
  return Response.json(await enqueueStaleSyncs(db(), config().SYNC_STALE_AFTER_MINUTES));
});
