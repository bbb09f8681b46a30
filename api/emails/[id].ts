import { db } from '../../lib/database';
import { idParam } from '../../lib/http/params';
import { authedRoute } from '../../lib/http/route';
import { getThread } from '../../lib/read/emails';

/** One of the caller's threads with its messages, oldest first. */
export const GET = authedRoute(async (request, { caller }) => {
  const id = idParam(request);
  return Response.json(await getThread(db(), caller.userId, id));
});
