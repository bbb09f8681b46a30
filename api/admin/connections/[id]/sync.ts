import { waitUntil } from '@vercel/functions';
import { adminRoute, auditAdmin } from '../../../../lib/admin';
import { config } from '../../../../lib/config';
import { syncConnectionNow } from '../../../../lib/connections/operator';
import { db } from '../../../../lib/database';
import { idParam, noQuery } from '../../../../lib/http/params';
import { kick } from '../../../../lib/worker/runner';

/** Sync now: an incremental sync of every stream, ahead of other incremental work; 409 unless active. */
export const POST = adminRoute(async (request, context) => {
  noQuery(request, ['id']);
  const result = await syncConnectionNow(db(), idParam(request));
  await auditAdmin(db(), request, context, {
    action: 'admin.connection_synced',
    userId: result.connection.userId,
    target: { type: 'connection', id: result.connection.id },
    details: { jobIds: result.jobIds },
  });
  if (result.jobIds.length > 0 && config().WEBHOOK_KICK_RUNNER) waitUntil(kick());
  return Response.json(result, { status: 202 });
});
