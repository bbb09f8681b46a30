import { adminConnectionListQuery, adminRoute } from '../../../lib/admin';
import { listAllConnections } from '../../../lib/connections/operator';
import { db } from '../../../lib/database';
import { queryParams } from '../../../lib/http/params';

/** Every user's connections with their streams (`provider`, `status`, `userId`, `limit`, `cursor`). */
export const GET = adminRoute(async (request) => {
  const { limit, cursor, ...filter } = queryParams(request, adminConnectionListQuery);
  return Response.json(await listAllConnections(db(), filter, { limit, cursor }));
});
