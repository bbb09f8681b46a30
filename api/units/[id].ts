import { deleteUnit, getUnit, unitPatchSchema, unitView, updateUnit } from '../../lib/automations/units';
import { recordAudit, requestAudit } from '../../lib/audit';
import { db } from '../../lib/database';
import { jsonBody } from '../../lib/http/body';
import { idParam, noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('GET', 'PATCH', 'DELETE');

export const GET = authedRoute(async (request, { caller }) => {
  noQuery(request, ['id']);
  return Response.json({ unit: unitView(await getUnit(db(), caller.userId, idParam(request))) });
});

/** Renames the unit or gives it a new prompt (recompiled; 422 when it does not compile). */
export const PATCH = authedRoute(async (request, { caller, requestId }) => {
  noQuery(request, ['id']);
  const id = idParam(request);
  const input = await jsonBody(request, unitPatchSchema, 64 * 1024);
  const unit = await updateUnit(db(), caller.userId, id, input);
  await recordAudit(db(), { action: 'unit.updated', target: { type: 'unit', id }, details: { fields: Object.keys(input) }, ...requestAudit(request, { caller, requestId }) });
  return Response.json({ unit });
});

/** Deletes the unit with its runs. 204. */
export const DELETE = authedRoute(async (request, { caller, requestId }) => {
  noQuery(request, ['id']);
  const id = idParam(request);
  await deleteUnit(db(), caller.userId, id);
  await recordAudit(db(), { action: 'unit.deleted', target: { type: 'unit', id }, ...requestAudit(request, { caller, requestId }) });
  return new Response(null, { status: 204 });
});
