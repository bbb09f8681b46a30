import { listRuns, runListQuery, runsVersion } from '../../lib/automations/runs';
import { db } from '../../lib/database';
import { queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('GET');

/**
 * The caller's runs, newest first (`unitId`, `status`, `limit`, `cursor`). Frontends poll it: the ETag
 * changes only when one of the caller's runs or steps changes, and `If-None-Match` with it answers 304
 * without reading the list.
 */
export const GET = authedRoute(async (request, { caller }) => {
  const query = queryParams(request, runListQuery);
  const etag = await runsVersion(db(), caller.userId, new URL(request.url).search);
  const headers = { ETag: etag, 'Cache-Control': 'private, no-cache' };
  if (request.headers.get('if-none-match')?.split(',').some((tag) => tag.trim() === etag)) {
    return new Response(null, { status: 304, headers });
  }
  return Response.json(await listRuns(db(), caller.userId, query), { headers });
});
