import { adminRoute } from '../../../lib/admin';
import { getAnyConnection } from '../../../lib/connections/operator';
import { db } from '../../../lib/database';
import { idParam, noQuery } from '../../../lib/http/params';

/** A connection with its streams: cursor age, last success and error, the sync running now and its progress. */
export const GET = adminRoute(async (request) => {
  noQuery(request, ['id']);
  return Response.json({ connection: await getAnyConnection(db(), idParam(request)) });
});
