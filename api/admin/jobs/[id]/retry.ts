import { db } from '../../../../lib/database';
import { idParam, noQuery } from '../../../../lib/http/params';
import { route } from '../../../../lib/http/route';
import { assertAdminRequest } from '../../../../lib/http/secrets';
import { retryJob } from '../../../../lib/jobs';

/** Puts a dead (or failed) job back in the queue with fresh attempts. */
export const POST = route(async (request) => {
  assertAdminRequest(request);
  noQuery(request, ['id']);
  const job = await retryJob(db(), idParam(request));
  return Response.json({ job }, { status: 202 });
});
