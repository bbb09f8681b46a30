import { actionBody, crmRecordTarget, performAction } from '../../../lib/actions';
import { db } from '../../../lib/database';
import { noQuery, pathChoice, pathParam } from '../../../lib/http/params';
import { authedRoute, preflight } from '../../../lib/http/route';
import { CRM_PATH_OBJECTS } from '../../../lib/read/crm';
import { kick } from '../../../lib/worker/runner';

export const OPTIONS = preflight('PATCH');

const objects = Object.keys(CRM_PATH_OBJECTS);

/** Updates a record (the row id from GET /api/crm/{object}, or its Salesforce id) with Salesforce fields. */
export const PATCH = authedRoute(async (request, context) => {
  noQuery(request, ['object', 'id']);
  const object = CRM_PATH_OBJECTS[pathChoice(request, 'object', objects)]!;
  const target = await crmRecordTarget(db(), context.caller.userId, object, pathParam(request, 'id'));
  const fields = await actionBody(request);
  return performAction(
    request,
    context,
    { tool: 'crm.update', input: { object, id: target.providerId, fields }, connectionId: target.connectionId },
    kick,
  );
});
