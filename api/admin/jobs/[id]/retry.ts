import { auditOrigin, recordAudit } from '../../../../lib/audit';
import { db } from '../../../../lib/database';
import { idParam, noQuery } from '../../../../lib/http/params';
import { route } from '../../../../lib/http/route';
import { assertAdminRequest } from '../../../../lib/http/secrets';
import { retryJob } from '../../../../lib/jobs';

/** Puts a dead (or failed) job back in the queue with fresh attempts. */
export const POST = route(async (request, { requestId }) => {
  assertAdminRequest(request);
  noQuery(request, ['id']);
  const job = await retryJob(db(), idParam(request));
  await recordAudit(db(), {
    action: 'admin.job_retried',
    userId: job.userId,
    actor: { type: 'admin', id: null },
    target: { type: 'job', id: job.id },
    details: { kind: job.kind },
    ...auditOrigin(request, requestId),
  });
  return Response.json({ job }, { status: 202 });
});
