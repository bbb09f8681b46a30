import { db } from '../../lib/database';
import { queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { calendarListQuery, listEvents } from '../../lib/read/calendar';

export const OPTIONS = preflight('GET');

/**
 * The caller's calendar events overlapping [from, to) (from defaults to now), soonest first.
 * Filters: q (summary, description or location contains); limit and cursor.
 */
export const GET = authedRoute(async (request, { caller }) => {
  const query = queryParams(request, calendarListQuery);
  return Response.json(await listEvents(db(), caller.userId, query));
});
