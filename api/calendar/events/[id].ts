import { actionBody, calendarEventTarget, calendarWriteQuery, performAction } from '../../../lib/actions';
import { db } from '../../../lib/database';
import { pathParam, queryParams } from '../../../lib/http/params';
import { authedRoute, preflight } from '../../../lib/http/route';
import { kick } from '../../../lib/worker/runner';

export const OPTIONS = preflight('PATCH', 'DELETE');

/**
 * Updates an event (the row id from GET /api/calendar/events, or Calendar's event id) with Calendar's
 * own fields (start/end, attendees, summary, ...); `?sendUpdates=all|externalOnly|none`.
 */
export const PATCH = authedRoute(async (request, context) => {
  const query = queryParams(request, calendarWriteQuery, { path: ['id'] });
  const target = await calendarEventTarget(db(), context.caller.userId, pathParam(request, 'id'));
  const body = await actionBody(request);
  const input = { ...(body as object), ...query, eventId: target.providerId, calendarId: query.calendarId ?? target.calendarId ?? 'primary' };
  return performAction(request, context, { tool: 'calendar.update_event', input, connectionId: target.connectionId }, kick);
});

/** Cancels an event; `?sendUpdates=` tells Google whom to notify. */
export const DELETE = authedRoute(async (request, context) => {
  const query = queryParams(request, calendarWriteQuery, { path: ['id'] });
  const target = await calendarEventTarget(db(), context.caller.userId, pathParam(request, 'id'));
  const input = { ...query, eventId: target.providerId, calendarId: query.calendarId ?? target.calendarId ?? 'primary' };
  return performAction(request, context, { tool: 'calendar.cancel_event', input, connectionId: target.connectionId }, kick);
});
