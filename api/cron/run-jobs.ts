import { assertCronRequest } from '../../lib/http/secrets';
import { route } from '../../lib/http/route';
import { runJobs } from '../../lib/worker/runner';

/** Vercel Cron, every minute: one runner pass until the queue is drained or the deadline. */
export const GET = route(async (request) => {
  assertCronRequest(request);
  const summary = await runJobs();
  return Response.json(summary);
});
