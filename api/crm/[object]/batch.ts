import { actionBody, performAction } from '../../../lib/actions';
import { noQuery, pathChoice } from '../../../lib/http/params';
import { authedRoute, preflight } from '../../../lib/http/route';
import { CRM_PATH_OBJECTS } from '../../../lib/read/crm';
import { kick } from '../../../lib/worker/runner';

export const OPTIONS = preflight('POST');

const objects = Object.keys(CRM_PATH_OBJECTS);

/**
 * Creates up to 200 records in one sObject Collections call: `{records: [{..fields}], allOrNone?}`.
 * 200 reports each record's outcome (created with its id, or refused with the reasons).
 */
export const POST = authedRoute(async (request, context) => {
  noQuery(request, ['object']);
  const object = CRM_PATH_OBJECTS[pathChoice(request, 'object', objects)]!;
  const body = await actionBody(request, 4_500_000);
  return performAction(request, context, { tool: 'crm.batch_create', input: { ...(body as object), object } }, kick);
});
