import { EMAIL_BODY_LIMIT_BYTES, actionBody, performAction } from '../../lib/actions';
import { noQuery } from '../../lib/http/params';
import { authedRoute, preflight } from '../../lib/http/route';
import { kick } from '../../lib/worker/runner';

export const OPTIONS = preflight('POST');

/**
 * Sends an email through the caller's Gmail: `{to, cc?, bcc?, subject, text?, html?, attachments?,
 * threadId?}`, exactly once per Idempotency-Key. 200 with the sent message, 202 while it is sending,
 * 413 past 4.5 MB (Vercel's request limit), 422 naming an invalid field, 429 past the send rate.
 */
export const POST = authedRoute(async (request, context) => {
  noQuery(request);
  const input = await actionBody(request, EMAIL_BODY_LIMIT_BYTES);
  return performAction(request, context, { tool: 'email.send', input }, kick);
});
