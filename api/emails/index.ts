import { db } from '../../lib/database';
import { authedRoute, queryParams } from '../../lib/http/route';
import { emailListQuery, listThreads } from '../../lib/read/emails';

/**
 * The caller's email threads, newest message first. Filters: sender, subjectContains (repeatable, any
 * of them), category, after/before (on the last message); limit and cursor.
 */
export const GET = authedRoute(async (request, { caller }) => {
  const query = queryParams(request, emailListQuery, ['subjectContains']);
  return Response.json(await listThreads(db(), caller.userId, query));
});
