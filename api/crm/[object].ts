import { db } from '../../lib/database';
import { authedRoute, queryParams } from '../../lib/http/route';
import { crmListQueries, crmObjectParam, listCrmRecords } from '../../lib/read/crm';

/**
 * The caller's Salesforce records of one object (lead, contact, account, opportunity; any other is
 * 404), most recently modified first, with that object's filters; limit and cursor.
 */
export const GET = authedRoute(async (request, { caller }) => {
  const object = crmObjectParam(new URL(request.url).searchParams.get('object'));
  const query = queryParams(request, crmListQueries[object]);
  return Response.json(await listCrmRecords(db(), caller.userId, object, query));
});
