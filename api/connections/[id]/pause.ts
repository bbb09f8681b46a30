import { pauseConnection } from '../../../lib/connections';
import { db } from '../../../lib/database';
import { idParam } from '../../../lib/http/params';
import { authedRoute } from '../../../lib/http/route';

/** Pauses the connection: webhooks start no sync, its sync jobs are cancelled. Idempotent. */
export const POST = authedRoute(async (request, { caller }) => {
  return Response.json(await pauseConnection(db(), caller.userId, idParam(request)));
});
