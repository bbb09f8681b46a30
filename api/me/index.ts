import { auditOrigin } from '../../lib/audit';
import { db } from '../../lib/database';
import { noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { eraseUser } from '../../lib/privacy/erase';
import { deleteNangoConnection } from '../../lib/providers/nango';

export const OPTIONS = preflight('DELETE');

/**
 * Erases everything switchyard holds for the caller: jobs cancelled, connections deleted at Nango,
 * every row of theirs deleted, one audit entry kept. Safe to repeat (a repeat finds nothing left).
 * Only the person themselves (a Firebase ID token), never an API key.
 */
export const DELETE = authedRoute(
  async (request, { caller, requestId }) => {
    noQuery(request);
    const result = await eraseUser(db(), caller.userId, {
      deleteRemoteConnection: (connection) => deleteNangoConnection(connection.providerConfigKey, connection.nangoConnectionId),
      actor: { type: 'user', id: caller.userId },
      origin: auditOrigin(request, requestId),
    });
    return Response.json({ erased: true, ...result });
  },
  { firebaseOnly: true },
);
