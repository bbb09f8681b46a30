import { db } from '../../lib/database';
import { jsonBody } from '../../lib/http/body';
import { authedRoute } from '../../lib/http/route';
import { requestSyncs, syncRequestSchema } from '../../lib/syncs';

/**
 * Starts syncs: every stream of each of the caller's active connections of `providers`, in `mode`
 * (incremental | full | date_range with startDate and endDate). 202 with the jobs; 422 when none match.
 */
export const POST = authedRoute(async (request, { caller }) => {
  const input = await jsonBody(request, syncRequestSchema, 16 * 1024);
  return Response.json(await requestSyncs(db(), caller.userId, input), { status: 202 });
});
