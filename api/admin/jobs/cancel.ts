import { adminRoute, auditAdmin, bulkCancelSchema, jobSelection } from '../../../lib/admin';
import { db } from '../../../lib/database';
import { jsonBody } from '../../../lib/http/body';
import { noQuery } from '../../../lib/http/params';
import { cancelJobs } from '../../../lib/jobs';

/** Cancels queued or running jobs in bulk: `{ids}` (up to 100) or `{filter, limit}` (up to 1000, newest first). */
export const POST = adminRoute(async (request, context) => {
  noQuery(request);
  const body = await jsonBody(request, bulkCancelSchema, 16 * 1024);
  const jobIds = await cancelJobs(db(), jobSelection(body));
  await auditAdmin(db(), request, context, {
    action: 'admin.jobs_cancelled',
    userId: body.filter?.userId ?? null,
    details: { count: jobIds.length, jobIds: jobIds.slice(0, 100), ...(body.filter ? { filter: body.filter } : {}) },
  });
  return Response.json({ jobIds, count: jobIds.length }, { status: 202 });
});
