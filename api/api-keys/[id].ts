import { db } from '../../lib/database';
import { revokeApiKey } from '../../lib/http/api-keys';
import { idParam, noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('DELETE');

/** Revokes one of the caller's API keys: it stops working at once. */
export const DELETE = authedRoute(
  async (request, { caller }) => {
    noQuery(request, ['id']);
    return Response.json({ apiKey: await revokeApiKey(db(), caller.userId, idParam(request)), revoked: true });
  },
  { firebaseOnly: true },
);
