import { adminRoute, adminUnitListQuery } from '../../../lib/admin';
import { listAllUnits } from '../../../lib/automations/operator';
import { db } from '../../../lib/database';
import { queryParams } from '../../../lib/http/params';

/** Every user's automation units, newest first (`status`, `userId`, `limit`, `cursor`). */
export const GET = adminRoute(async (request) => {
  const { limit, cursor, ...filter } = queryParams(request, adminUnitListQuery);
  return Response.json(await listAllUnits(db(), filter, { limit, cursor }));
});
