import { adminRoute, auditAdmin } from '../../../../lib/admin';
import { db } from '../../../../lib/database';
import { idParam, noQuery } from '../../../../lib/http/params';
import { retryJob } from '../../../../lib/jobs';

/** Puts a dead (or failed) job back in the queue with fresh attempts. */
export const POST = adminRoute(async (request, context) => {
  noQuery(request, ['id']);
  const job = await retryJob(db(), idParam(request));
  await auditAdmin(db(), request, context, {
    action: 'admin.job_retried',
    userId: job.userId,
    target: { type: 'job', id: job.id },
    details: { kind: job.kind },
  });
  return Response.json({ job }, { status: 202 });
});
