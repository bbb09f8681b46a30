import { db } from '../../lib/database';
import { queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { emailListQuery, listThreads } from '../../lib/read/emails';

export const OPTIONS = preflight('GET');

/**
 * The caller's email threads, newest message first. Filters: sender, subjectContains (repeatable, any
 * of them), category, after/before (on the last message); limit and cursor.
 */
export const GET = authedRoute(async (request, { caller }) => {
  const query = queryParams(request, emailListQuery, { repeatable: ['subjectContains'] });
  return Response.json(await listThreads(db(), caller.userId, query));
});
