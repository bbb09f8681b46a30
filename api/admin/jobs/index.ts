import { adminJobListQuery, adminRoute, listJobsPage } from '../../../lib/admin';
import { db } from '../../../lib/database';
import { queryParams } from '../../../lib/http/params';

/** Every user's jobs, newest first (`status`, `kind`, `userId`, `limit`, `cursor`). */
export const GET = adminRoute(async (request) => {
  return Response.json(await listJobsPage(db(), queryParams(request, adminJobListQuery)));
});
