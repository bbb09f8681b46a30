import { z } from 'zod';
import { connectFromFrontend, listConnections } from '../../lib/connections';
import { db } from '../../lib/database';
import { jsonBody } from '../../lib/http/body';
import { authedRoute, queryParams } from '../../lib/http/route';
import { pageQuerySchema } from '../../lib/pagination';
import { providerNames } from '../../lib/sync/providers';

/** The caller's connections, newest first. */
export const GET = authedRoute(async (request, { caller }) => {
  const page = queryParams(request, pageQuerySchema);
  return Response.json(await listConnections(db(), caller.userId, page));
});

const connectSchema = z.object({
  provider: z.enum(providerNames),
  connectionId: z.string().min(1).max(255),
});

/** After the frontend's Nango Connect flow: record the connection and start its initial backfill. */
export const POST = authedRoute(async (request, { caller }) => {
  const input = await jsonBody(request, connectSchema, 16 * 1024);
  const { connection, jobIds } = await connectFromFrontend(db(), caller.userId, input);
  return Response.json({ connection, jobIds }, { status: 201 });
});
