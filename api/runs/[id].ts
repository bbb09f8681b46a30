import { getRun, runView } from '../../lib/automations/runs';
import { db } from '../../lib/database';
import { idParam, noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('GET');

export const GET = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  return Response.json({ run: runView(await getRun(db(), caller.userId, idParam(request))) });
});
