import { recordAudit, requestAudit } from '../../lib/audit';
import { db } from '../../lib/database';
import { revokeApiKey } from '../../lib/http/api-keys';
import { idParam, noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('DELETE');

/** Revokes one of the caller's API keys: it stops working at once. */
export const DELETE = authedRoute(
  async (request, { caller, requestId }) => {
    noQuery(request, ['id']);
    const id = idParam(request);
    const apiKey = await revokeApiKey(db(), caller.userId, id);
    await recordAudit(db(), { action: 'api_key.revoked', target: { type: 'api_key', id }, ...requestAudit(request, { caller, requestId }) });
    return Response.json({ apiKey, revoked: true });
  },
  { firebaseOnly: true },
);
