import { pauseConnection } from '../../../lib/connections';
import { db } from '../../../lib/database';
import { idParam, noQuery } from '../../../lib/http/params';
import { authedRoute, preflight } from '../../../lib/http/route';

export const OPTIONS = preflight('POST');

/** Pauses the connection: webhooks start no sync, its sync jobs are cancelled. Idempotent. */
export const POST = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  return Response.json(await pauseConnection(db(), caller.userId, idParam(request)));
});
