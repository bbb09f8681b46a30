import { adminRoute, adminRunListQuery } from '../../../lib/admin';
import { listAllRuns } from '../../../lib/automations/operator';
import { db } from '../../../lib/database';
import { queryParams } from '../../../lib/http/params';

/** Every user's automation runs, newest first (`status`, `unitId`, `userId`, `limit`, `cursor`). */
export const GET = adminRoute(async (request) => {
  const { limit, cursor, ...filter } = queryParams(request, adminRunListQuery);
  return Response.json(await listAllRuns(db(), filter, { limit, cursor }));
});
