import { actionListQuery, listActions } from '../../lib/actions';
import { db } from '../../lib/database';
import { queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('GET');

/** The caller's actions, newest first: `status`, `tool`; limit and cursor. */
export const GET = authedRoute(async (request, { caller }) => {
  return Response.json(await listActions(db(), caller.userId, queryParams(request, actionListQuery)));
});
