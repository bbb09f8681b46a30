import { createUnit, listUnits, unitInputSchema, unitListQuery } from '../../lib/automations/units';
import { db } from '../../lib/database';
import { jsonBody } from '../../lib/http/body';
import { noQuery, queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('GET', 'POST');

/** The caller's units, newest first, with their status (active, paused, disabled). */
export const GET = authedRoute(async (request, { caller }) => {
  return Response.json(await listUnits(db(), caller.userId, queryParams(request, unitListQuery)));
});

/** A new unit from `{name, prompt}`: compiled and checked, 201 with the compiled unit; active at once. */
export const POST = authedRoute(async (request, { caller }) => {
  noQuery(request);
  const input = await jsonBody(request, unitInputSchema, 64 * 1024);
  return Response.json({ unit: await createUnit(db(), caller.userId, input) }, { status: 201 });
});
