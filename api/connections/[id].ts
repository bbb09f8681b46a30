import { z } from 'zod';
import { deleteConnection } from '../../lib/connections';
import { db } from '../../lib/database';
import { idParam } from '../../lib/http/params';
import { authedRoute, queryParams } from '../../lib/http/route';

const deleteQuery = z.object({ purge: z.enum(['true', 'false']).default('false'), id: z.string() });

/** Disconnect: stops the connection's jobs; `?purge=true` also deletes its synced data. */
export const DELETE = authedRoute(async (request, { caller }) => {
  const id = idParam(request);
  const { purge } = queryParams(request, deleteQuery);
  const result = await deleteConnection(db(), caller.userId, id, { purge: purge === 'true' });
  return Response.json({ id, deleted: true, ...result });
});
