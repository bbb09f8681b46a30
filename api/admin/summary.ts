import { adminRoute, adminSummary } from '../../lib/admin';
import { db } from '../../lib/database';
import { noQuery } from '../../lib/http/params';

/** The overview: health, queue depth and age, running per user, the last hour's outcomes, failing syncs. */
export const GET = adminRoute(async (request) => {
  noQuery(request);
  return Response.json(await adminSummary(db()), { headers: { 'cache-control': 'no-store' } });
});
