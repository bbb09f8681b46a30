import { config } from '../lib/config';
import { db } from '../lib/database';
import { checkHealth } from '../lib/health';
import { route } from '../lib/http/route';

/** 200 when the database answers and the queue keeps up; 503 naming the failing check. */
export const GET = route(async () => {
  const settings = config();
  const report = await checkHealth(db(), {
    timeoutMs: settings.HEALTH_DB_TIMEOUT_MS,
    maxQueueAgeSeconds: settings.HEALTH_MAX_QUEUE_AGE_S,
  });
  const failing = report.checks.filter((check) => !check.ok).map((check) => check.name);
  return Response.json(
    { ...report, ...(failing.length > 0 ? { failing } : {}) },
    { status: report.status === 'ok' ? 200 : 503, headers: { 'cache-control': 'no-store' } },
  );
});
