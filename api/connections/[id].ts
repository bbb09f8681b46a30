import { z } from 'zod';
import { deleteConnection } from '../../lib/connections';
import { db } from '../../lib/database';
import { idParam, queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('DELETE');

const deleteQuery = z.object({ purge: z.enum(['true', 'false']).default('false') });

/** Disconnect: stops the connection's jobs; `?purge=true` also deletes its synced data. */
export const DELETE = authedRoute(async (request, { caller }) => {
  const id = idParam(request);
  const { purge } = queryParams(request, deleteQuery, { path: ['id'] });
  const result = await deleteConnection(db(), caller.userId, id, { purge: purge === 'true' });
  return Response.json({ id, deleted: true, ...result });
});
