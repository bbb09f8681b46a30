import { db } from '../lib/database';
import { authedRoute, queryParams } from '../lib/http/route';
import { interactionListQuery, listInteractions } from '../lib/read/interactions';

/** The unified timeline (emails, meetings, CRM changes), newest first. Filters: source, after, before. */
export const GET = authedRoute(async (request, { caller }) => {
  const query = queryParams(request, interactionListQuery);
  return Response.json(await listInteractions(db(), caller.userId, query));
});
