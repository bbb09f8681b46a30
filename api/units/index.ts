import { createUnit, listUnits, unitInputSchema, unitListQuery } from '../../lib/automations/units';
import { recordAudit, requestAudit } from '../../lib/audit';
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
export const POST = authedRoute(async (request, { caller, requestId }) => {
  noQuery(request);
  const input = await jsonBody(request, unitInputSchema, 64 * 1024);
  const unit = await createUnit(db(), caller.userId, input);
  await recordAudit(db(), { action: 'unit.created', target: { type: 'unit', id: unit.id }, ...requestAudit(request, { caller, requestId }) });
  return Response.json({ unit }, { status: 201 });
});
