import { actionBody, performAction } from '../../lib/actions';
import { db } from '../../lib/database';
import { noQuery, pathChoice, queryParams } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { CRM_PATH_OBJECTS, crmListQueries, listCrmRecords } from '../../lib/read/crm';
import { kick } from '../../lib/worker/runner';

export const OPTIONS = preflight('GET', 'POST');

const objects = Object.keys(CRM_PATH_OBJECTS);

/**
 * The caller's Salesforce records of one object (lead, contact, account, opportunity; any other is
 * 404), most recently modified first, with that object's filters; limit and cursor.
 */
export const GET = authedRoute(async (request, { caller }) => {
  const object = CRM_PATH_OBJECTS[pathChoice(request, 'object', objects)]!;
  const query = queryParams(request, crmListQueries[object], { path: ['object'] });
  return Response.json(await listCrmRecords(db(), caller.userId, object, query));
});

/** Creates a record from Salesforce's own fields (`{"LastName": .., "Company": .., "Email": ..}`). */
export const POST = authedRoute(async (request, context) => {
  noQuery(request, ['object']);
  const object = CRM_PATH_OBJECTS[pathChoice(request, 'object', objects)]!;
  const fields = await actionBody(request);
  return performAction(request, context, { tool: 'crm.create', input: { object, fields } }, kick);
});
