import { resumeConnection } from '../../../lib/connections';
import { db } from '../../../lib/database';
import { idParam } from '../../../lib/http/params';
import { authedRoute } from '../../../lib/http/route';

/** Resumes the connection and enqueues an incremental sync of its streams (202 with the job ids). */
export const POST = authedRoute(async (request, { caller }) => {
  return Response.json(await resumeConnection(db(), caller.userId, idParam(request)), { status: 202 });
});
