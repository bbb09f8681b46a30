import { waitUntil } from '@vercel/functions';
import { adminRoute, auditAdmin } from '../../../../lib/admin';
import { config } from '../../../../lib/config';
import { resumeAnyConnection } from '../../../../lib/connections/operator';
import { db } from '../../../../lib/database';
import { idParam, noQuery } from '../../../../lib/http/params';
import { kick } from '../../../../lib/worker/runner';

/** Resumes a paused connection for its user; an incremental sync of each stream catches up. */
export const POST = adminRoute(async (request, context) => {
  noQuery(request, ['id']);
  const result = await resumeAnyConnection(db(), idParam(request));
  await auditAdmin(db(), request, context, {
    action: 'admin.connection_resumed',
    userId: result.connection.userId,
    target: { type: 'connection', id: result.connection.id },
    details: { jobIds: result.jobIds },
  });
  if (result.jobIds.length > 0 && config().WEBHOOK_KICK_RUNNER) waitUntil(kick());
  return Response.json(result);
});
