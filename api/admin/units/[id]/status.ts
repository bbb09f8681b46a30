import { adminRoute, auditAdmin } from '../../../../lib/admin';
import { setAnyUnitStatus } from '../../../../lib/automations/operator';
import { unitStatusSchema } from '../../../../lib/automations/units';
import { db } from '../../../../lib/database';
import { jsonBody } from '../../../../lib/http/body';
import { idParam, noQuery } from '../../../../lib/http/params';

/** `{status: active|paused|disabled}` for any user's unit; resumed, it sees events from now on. */
export const PATCH = adminRoute(async (request, context) => {
  noQuery(request, ['id']);
  const id = idParam(request);
  const { status } = await jsonBody(request, unitStatusSchema, 4 * 1024);
  const unit = await setAnyUnitStatus(db(), id, status);
  await auditAdmin(db(), request, context, {
    action: 'admin.unit_status_changed',
    userId: unit.userId,
    target: { type: 'unit', id },
    details: { status },
  });
  return Response.json({ unit });
});
