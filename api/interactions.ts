import { db } from '../lib/db';
import { authedRoute } from '../lib/http/route';
import { interactionListQuery, listInteractions } from '../lib/read/interactions';
import { listQuery } from '../lib/read/query';

/** The unified timeline (emails, meetings, CRM changes), newest first. Filters: source, after, before. */
export const GET = authedRoute(async (request, { caller }) => {
  const query = listQuery(request, interactionListQuery);
  return Response.json(await listInteractions(db(), caller.userId, query));
});
