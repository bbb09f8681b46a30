import { adminRoute } from '../../../lib/admin';
import { db } from '../../../lib/database';
import { notFound } from '../../../lib/http/errors';
import { idParam, noQuery } from '../../../lib/http/params';
import { getJob } from '../../../lib/jobs';

/** An operator's view of one job: payload, status, progress, attempts, last error, result. */
export const GET = adminRoute(async (request) => {
  noQuery(request, ['id']);
  const job = await getJob(db(), idParam(request));
  if (!job) throw notFound('no such job');
  return Response.json({ job });
});
