import { listSteps } from '../../../lib/automations/runs';
import { db } from '../../../lib/database';
import { idParam, noQuery } from '../../../lib/http/params';
import { authedRoute, preflight } from '../../../lib/http/route';

export const OPTIONS = preflight('GET');

/** The run's steps in order: tool, input, output, status, started, finished, duration, error. */
export const GET = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  return Response.json({ data: await listSteps(db(), caller.userId, idParam(request)) });
});
