import { adminRoute, auditAdmin } from '../../../../lib/admin';
import { db } from '../../../../lib/database';
import { idParam, noQuery } from '../../../../lib/http/params';
import { cancelJob } from '../../../../lib/jobs';

/** Cancels a job: a queued one at once, a running one at its next heartbeat (409 once it has finished). */
export const POST = adminRoute(async (request, context) => {
  noQuery(request, ['id']);
  const job = await cancelJob(db(), idParam(request));
  await auditAdmin(db(), request, context, {
    action: 'admin.job_cancelled',
    userId: job.userId,
    target: { type: 'job', id: job.id },
    details: { kind: job.kind, status: job.status },
  });
  return Response.json({ job }, { status: 202 });
});
