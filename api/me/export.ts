import type pg from 'pg';
import { auditOrigin, recordAudit } from '../../lib/audit';
import { db } from '../../lib/database';
import { noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { exportUserData } from '../../lib/privacy/export';

export const OPTIONS = preflight('GET');

/**
 * Everything switchyard holds for the caller, as one JSON document streamed while it is read
 * (connections, mail, events, CRM records, interactions, units, runs, actions, jobs, audit, ...).
 * Only the person themselves (a Firebase ID token), never an API key.
 */
export const GET = authedRoute(
  async (request, { caller, requestId }) => {
    noQuery(request);
    const database = db();
    await recordAudit(database, {
      action: 'user.exported',
      userId: caller.userId,
      actor: { type: 'user', id: caller.userId },
      ...auditOrigin(request, requestId),
    });
    const pool = (database as unknown as { $client: pg.Pool }).$client;
    return new Response(exportUserData(pool, caller.userId), {
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-disposition': 'attachment; filename="switchyard-export.json"',
        'cache-control': 'no-store',
      },
    });
  },
  { firebaseOnly: true },
);
