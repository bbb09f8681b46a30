import { adminRoute, adminWebhookListQuery } from '../../lib/admin';
import { db } from '../../lib/database';
import { queryParams } from '../../lib/http/params';
import { listDeliveries } from '../../lib/webhooks/deliveries';

/** Nango's deliveries, newest first (`status` processed|rejected|ignored, `type`), with why one was refused. */
export const GET = adminRoute(async (request) => {
  const { limit, cursor, ...filter } = queryParams(request, adminWebhookListQuery);
  return Response.json(await listDeliveries(db(), filter, { limit, cursor }));
});
