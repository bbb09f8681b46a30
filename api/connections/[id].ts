import { recordAudit, requestAudit } from '../../lib/audit';
import { deleteConnection } from '../../lib/connections';
import { connectionDeleteQuery } from '../../lib/connections/connect';
import { db } from '../../lib/database';
import { idParam, queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('DELETE');

/** Disconnect: stops the connection's jobs; `?purge=true` also deletes its synced data. */
export const DELETE = authedRoute(async (request, { caller, requestId }) => {
  const id = idParam(request);
  const { purge } = queryParams(request, connectionDeleteQuery, { path: ['id'] });
  const result = await deleteConnection(db(), caller.userId, id, { purge: purge === 'true' });
  await recordAudit(db(), {
    action: 'connection.deleted',
    target: { type: 'connection', id },
    details: { purged: result.purged, cancelledJobs: result.cancelledJobs },
    ...requestAudit(request, { caller, requestId }),
  });
  return Response.json({ id, deleted: true, ...result });
});
