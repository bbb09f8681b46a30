import { setUnitStatus, unitStatusSchema } from '../../../lib/automations/units';
import { recordAudit, requestAudit } from '../../../lib/audit';
import { db } from '../../../lib/database';
import { jsonBody } from '../../../lib/http/body';
import { idParam, noQuery } from '../../../lib/http/params';
import { authedRoute, preflight } from '../../../lib/http/route';

export const OPTIONS = preflight('PATCH');

/** `{status: active|paused|disabled}`. A paused unit makes no runs; resumed, it sees events from now on. */
export const PATCH = authedRoute(async (request, { caller, requestId }) => {
  noQuery(request, ['id']);
  const id = idParam(request);
  const { status } = await jsonBody(request, unitStatusSchema, 4 * 1024);
  const unit = await setUnitStatus(db(), caller.userId, id, status);
  await recordAudit(db(), { action: 'unit.updated', target: { type: 'unit', id }, details: { status }, ...requestAudit(request, { caller, requestId }) });
  return Response.json({ unit });
});
