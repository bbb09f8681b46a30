import { config } from '../lib/config';
import { db } from '../lib/database';
import { unauthenticated } from '../lib/http/errors';
import { noQuery } from '../lib/http/params';
import { route } from '../lib/http/route';
import { bearerMatches } from '../lib/http/secrets';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../lib/observability/metrics';

/**
 * Prometheus scrape (Bearer METRICS_TOKEN; 401 while unset): this instance's counters and histograms,
 * and the queue and business figures read from Postgres now. The README says which are which.
 */
export const GET = route(async (request) => {
  if (!bearerMatches(request, config().METRICS_TOKEN)) throw unauthenticated('metrics token required');
  noQuery(request);
  return new Response(await renderMetrics(db()), {
    headers: { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' },
  });
});
