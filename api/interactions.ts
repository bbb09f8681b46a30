import { db } from '../lib/database';
import { queryParams } from '../lib/http/params';
import { authedRoute, preflight } from '../lib/http/route';
import { interactionListQuery, listInteractions } from '../lib/read/interactions';

export const OPTIONS = preflight('GET');

/** The unified timeline (emails, meetings, CRM changes), newest first. Filters: source, after, before. */
export const GET = authedRoute(async (request, { caller }) => {
  const query = queryParams(request, interactionListQuery);
  return Response.json(await listInteractions(db(), caller.userId, query));
});
