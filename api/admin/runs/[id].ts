import { adminRoute } from '../../../lib/admin';
import { getAnyRun } from '../../../lib/automations/operator';
import { db } from '../../../lib/database';
import { idParam, noQuery } from '../../../lib/http/params';

/** A run with its unit's name and its steps in order: tool, input, output, status, timing, error. */
export const GET = adminRoute(async (request) => {
  noQuery(request, ['id']);
  return Response.json(await getAnyRun(db(), idParam(request)));
});
