import { actionView, findAction, settleAbandoned } from '../../lib/actions';
import { db } from '../../lib/database';
import { notFound } from '../../lib/http/errors';
import { idParam, noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('GET');

/** One of the caller's actions: its status, result or error, attempts and timestamps. */
export const GET = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  const action = await findAction(db(), idParam(request), caller.userId);
  if (!action) throw notFound('no such action');
  const [current] = await settleAbandoned(db(), [action]);
  return Response.json({ action: actionView(current!) });
});
