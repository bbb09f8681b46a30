import { adminRoute, auditAdmin, bulkRetrySchema, jobSelection } from '../../../lib/admin';
import { db } from '../../../lib/database';
import { jsonBody } from '../../../lib/http/body';
import { noQuery } from '../../../lib/http/params';
import { retryJobs } from '../../../lib/jobs';

/** Retries dead or failed jobs in bulk: `{ids}` (up to 100) or `{filter, limit}` (up to 1000, newest first). */
export const POST = adminRoute(async (request, context) => {
  noQuery(request);
  const body = await jsonBody(request, bulkRetrySchema, 16 * 1024);
  const jobIds = await retryJobs(db(), jobSelection(body));
  await auditAdmin(db(), request, context, {
    action: 'admin.jobs_retried',
    userId: body.filter?.userId ?? null,
    details: { count: jobIds.length, jobIds: jobIds.slice(0, 100), ...(body.filter ? { filter: body.filter } : {}) },
  });
  return Response.json({ jobIds, count: jobIds.length }, { status: 202 });
});
