import { actionBody, calendarWriteQuery, performAction } from '../../lib/actions';
import { db } from '../../lib/database';
import { queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { calendarListQuery, listEvents } from '../../lib/read/calendar';
import { kick } from '../../lib/worker/runner';

export const OPTIONS = preflight('GET', 'POST');

/**
 * The caller's calendar events overlapping [from, to) (from defaults to now), soonest first.
 * Filters: q (summary, description or location contains); limit and cursor.
 */
export const GET = authedRoute(async (request, { caller }) => {
  const query = queryParams(request, calendarListQuery);
  return Response.json(await listEvents(db(), caller.userId, query));
});

/**
 * Creates an event from Calendar's own event resource (summary, start/end with dateTime or date and
 * timeZone, attendees, recurrence...); `?calendarId=` (default primary) and `?sendUpdates=`.
 */
export const POST = authedRoute(async (request, context) => {
  const query = queryParams(request, calendarWriteQuery);
  const body = await actionBody(request);
  return performAction(request, context, { tool: 'calendar.create_event', input: { ...(body as object), ...query } }, kick);
});
