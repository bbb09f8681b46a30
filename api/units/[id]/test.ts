import { testInputSchema, testUnit } from '../../../lib/automations/preview';
import { db } from '../../../lib/database';
import { jsonBody } from '../../../lib/http/body';
import { idParam, noQuery } from '../../../lib/http/params';
import { authedRoute, preflight } from '../../../lib/http/route';

export const OPTIONS = preflight('POST');

/** The saved unit tried on the caller's latest synced items, nothing done (see POST /api/units/preview). */
export const POST = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  const id = idParam(request);
  const hasBody = request.headers.get('content-length') !== '0' && request.body !== null;
  const input = hasBody ? await jsonBody(request, testInputSchema, 4 * 1024) : {};
  return Response.json(await testUnit(db(), caller.userId, id, input));
});
