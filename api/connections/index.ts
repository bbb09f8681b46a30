import { waitUntil } from '@vercel/functions';
import { recordAudit, requestAudit } from '../../lib/audit';
import { assertProviderEnabled, config } from '../../lib/config';
import { connectFromFrontend, listConnections } from '../../lib/connections';
import { connectSchema } from '../../lib/connections/connect';
import { db } from '../../lib/database';
import { jsonBody } from '../../lib/http/body';
import { noQuery, queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { pageQuerySchema } from '../../lib/pagination';
import { kick } from '../../lib/worker/runner';

export const OPTIONS = preflight('GET', 'POST');

/** The caller's connections, newest first. */
export const GET = authedRoute(async (request, { caller }) => {
  const page = queryParams(request, pageQuerySchema);
  return Response.json(await listConnections(db(), caller.userId, page));
});

/**
 * After the frontend's Nango Connect flow: record the connection and start its initial backfill at
 * once (201). A connection already recorded answers 200 and queues nothing new.
 */
export const POST = authedRoute(async (request, { caller, requestId }) => {
  noQuery(request);
  const input = await jsonBody(request, connectSchema, 16 * 1024);
  assertProviderEnabled(input.provider);
  const { connection, jobIds, created } = await connectFromFrontend(db(), caller.userId, input);
  if (created) {
    await recordAudit(db(), {
      action: 'connection.created',
      target: { type: 'connection', id: connection.id },
      details: { provider: input.provider },
      ...requestAudit(request, { caller, requestId }),
    });
  }
  if (jobIds.length > 0 && config().WEBHOOK_KICK_RUNNER) waitUntil(kick());
  return Response.json({ connection, jobIds }, { status: created ? 201 : 200 });
});
