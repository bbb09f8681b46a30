import { waitUntil } from '@vercel/functions';
import { config } from '../../lib/config';
import { db } from '../../lib/database';
import { readRawBody } from '../../lib/http/body';
import { route } from '../../lib/http/route';
import { kick } from '../../lib/worker/runner';
import { receiveNangoWebhook } from '../../lib/webhooks/nango';

/** Nango's webhooks: verified, recorded and turned into jobs in one transaction; 202 in a few ms. */
export const POST = route(async (request, { logger }) => {
  const raw = await readRawBody(request, 1024 * 1024);
  const settings = config();
  const outcome = await receiveNangoWebhook(
    db(),
    raw,
    request.headers.get('x-nango-hmac-sha256'),
    settings.NANGO_WEBHOOK_SIGNING_KEY,
  );
  logger.info({ webhook: outcome }, 'nango webhook');
  if (outcome.jobIds.length > 0 && settings.WEBHOOK_KICK_RUNNER) waitUntil(kick());
  return Response.json({ status: 'accepted', message: 'Webhook received and queued for processing' }, { status: 202 });
});
