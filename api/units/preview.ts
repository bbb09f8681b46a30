import { previewInputSchema, previewPrompt } from '../../lib/automations/preview';
import { db } from '../../lib/database';
import { jsonBody } from '../../lib/http/body';
import { noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';

export const OPTIONS = preflight('POST');

/**
 * A prompt tried on the caller's latest synced items, nothing saved and nothing done: for each item,
 * whether the unit would run and, when not, the first condition that failed.
 */
export const POST = authedRoute(async (request, { caller }) => {
  noQuery(request);
  const input = await jsonBody(request, previewInputSchema, 64 * 1024);
  return Response.json(await previewPrompt(db(), caller.userId, input));
});
