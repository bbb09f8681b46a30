import { db } from '../../lib/database';
import { idParam, noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { cancelSync, getSync } from '../../lib/sync/requests';

export const OPTIONS = preflight('GET', 'DELETE');

/** One of the caller's syncs: status, attempts, progress, last error, timestamps. */
export const GET = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  return Response.json({ job: await getSync(db(), caller.userId, idParam(request)) });
});

/** Cancels the sync: a queued one at once, a running one at its next heartbeat. 202 with the job. */
export const DELETE = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  return Response.json({ job: await cancelSync(db(), caller.userId, idParam(request)) }, { status: 202 });
});
