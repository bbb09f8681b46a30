import { db } from '../../../lib/database';
import { notFound } from '../../../lib/http/errors';
import { idParam, noQuery } from '../../../lib/http/params';
import { route } from '../../../lib/http/route';
import { assertAdminRequest } from '../../../lib/http/secrets';
import { getJob } from '../../../lib/jobs';

/** An operator's view of one job: status, attempts, last error, progress. */
export const GET = route(async (request) => {
  assertAdminRequest(request);
  noQuery(request, ['id']);
  const job = await getJob(db(), idParam(request));
  if (!job) throw notFound('no such job');
  return Response.json({ job });
});
