import { waitUntil } from '@vercel/functions';
import { config } from '../../../lib/config';
import { resumeConnection } from '../../../lib/connections';
import { db } from '../../../lib/database';
import { idParam, noQuery } from '../../../lib/http/params';
import { authedRoute, preflight } from '../../../lib/http/route';
import { kick } from '../../../lib/worker/runner';

export const OPTIONS = preflight('POST');

/** Resumes the connection and enqueues an incremental sync of its streams (202 with the job ids), started at once. */
export const POST = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  const result = await resumeConnection(db(), caller.userId, idParam(request));
  if (result.jobIds.length > 0 && config().WEBHOOK_KICK_RUNNER) waitUntil(kick());
  return Response.json(result, { status: 202 });
});
