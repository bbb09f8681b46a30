import { adminRoute, auditAdmin } from '../../../../lib/admin';
import { pauseAnyConnection } from '../../../../lib/connections/operator';
import { db } from '../../../../lib/database';
import { idParam, noQuery } from '../../../../lib/http/params';

/** Pauses the connection for its user: webhooks start no sync, its sync jobs are cancelled. Idempotent. */
export const POST = adminRoute(async (request, context) => {
  noQuery(request, ['id']);
  const result = await pauseAnyConnection(db(), idParam(request));
  await auditAdmin(db(), request, context, {
    action: 'admin.connection_paused',
    userId: result.connection.userId,
    target: { type: 'connection', id: result.connection.id },
    details: { cancelledJobs: result.cancelledJobs },
  });
  return Response.json(result);
});
