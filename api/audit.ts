import { auditAdminQuery, auditOwnQuery, listAudit } from '../lib/audit';
import { config } from '../lib/config';
import { db } from '../lib/database';
import { queryParams } from '../lib/http/params';
import { authedRoute, preflight, route } from '../lib/http/route';
import { assertAdminRequest, bearerMatches } from '../lib/http/secrets';

export const OPTIONS = preflight('GET');

/** The caller's own audit entries, newest first. */
const own = authedRoute(async (request, { caller }) => {
  const query = queryParams(request, auditOwnQuery);
  return Response.json(await listAudit(db(), { ...query, userId: caller.userId }));
});

/** Operators (Bearer ADMIN_API_KEY): every entry, or one user's with `userId`. */
const everyone = route(async (request) => {
  assertAdminRequest(request);
  const query = queryParams(request, auditAdminQuery);
  return Response.json(await listAudit(db(), query));
});

export async function GET(request: Request): Promise<Response> {
  let admin = false;
  try {
    admin = bearerMatches(request, config().ADMIN_API_KEY);
  } catch {
    // A configuration error is answered (503) by the route wrapper of `own`.
  }
  return admin ? everyone(request) : own(request);
}
