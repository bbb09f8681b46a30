import { recordAudit, requestAudit } from '../../lib/audit';
import { db } from '../../lib/database';
import { apiKeyCreateSchema, createApiKey, listApiKeys } from '../../lib/http/api-keys';
import { jsonBody } from '../../lib/http/body';
import { noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('GET', 'POST');

/** The caller's API keys (never their secrets): prefix, name, scopes, created, last used, expiry. */
export const GET = authedRoute(
  async (request, { caller }) => {
    noQuery(request);
    return Response.json({ data: await listApiKeys(db(), caller.userId) });
  },
  { firebaseOnly: true },
);

/** Creates an API key (201). Its secret is in this answer only: store it now. */
export const POST = authedRoute(
  async (request, { caller, requestId }) => {
    noQuery(request);
    const input = await jsonBody(request, apiKeyCreateSchema, 4 * 1024);
    const { key, apiKey } = await createApiKey(db(), {
      userId: caller.userId,
      orgId: caller.orgId,
      name: input.name,
      scopes: input.scopes,
      ...(input.expiresInDays !== undefined ? { expiresInDays: input.expiresInDays } : {}),
    });
    await recordAudit(db(), {
      action: 'api_key.created',
      target: { type: 'api_key', id: apiKey.id },
      details: { scopes: input.scopes },
      ...requestAudit(request, { caller, requestId }),
    });
    return Response.json({ key, apiKey }, { status: 201, headers: { 'cache-control': 'no-store' } });
  },
  { firebaseOnly: true },
);
