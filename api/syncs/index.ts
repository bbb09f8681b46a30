import { waitUntil } from '@vercel/functions';
import { assertProviderEnabled, config } from '../../lib/config';
import { db } from '../../lib/database';
import { jsonBody } from '../../lib/http/body';
import { noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { requestSyncs, syncRequestSchema } from '../../lib/sync/requests';
import { kick } from '../../lib/worker/runner';

export const OPTIONS = preflight('POST');

/**
 * Starts syncs: every stream of each of the caller's active connections of `providers`, in `mode`
 * (incremental | full | date_range with startDate and endDate). 202 with the jobs, started at once;
 * 422 when none match.
 */
export const POST = authedRoute(async (request, { caller }) => {
  noQuery(request);
  const input = await jsonBody(request, syncRequestSchema, 16 * 1024);
  for (const provider of input.providers) assertProviderEnabled(provider);
  const result = await requestSyncs(db(), caller.userId, input);
  if (result.jobs.length > 0 && config().WEBHOOK_KICK_RUNNER) waitUntil(kick());
  return Response.json(result, { status: 202 });
});
