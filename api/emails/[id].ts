import { db } from '../../lib/database';
import { idParam, noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { getThread } from '../../lib/read/emails';

export const OPTIONS = preflight('GET');

/** One of the caller's threads with its messages, oldest first. */
export const GET = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  return Response.json(await getThread(db(), caller.userId, idParam(request)));
});
