import { config } from '../lib/config';
import { db } from '../lib/database';
import { checkHealth } from '../lib/health';
import { route } from '../lib/http/route';

const NO_STORE = { 'cache-control': 'no-store' };

/** 200 when the database answers and the queue keeps up; 503 naming the failing check. */
export const GET = route(async () => {
  const settings = config();
  if (!settings.DATABASE_URL) {
    // Not configured is a failing dependency, not a crash: say which setting is missing.
    const checks = [{ name: 'database', ok: false, detail: 'DATABASE_URL is not set' }];
    return Response.json({ status: 'failing', checks, queue: null, failing: ['database'] }, { status: 503, headers: NO_STORE });
  }
  const report = await checkHealth(db(), {
    timeoutMs: settings.HEALTH_DB_TIMEOUT_MS,
    maxQueueAgeSeconds: settings.HEALTH_MAX_QUEUE_AGE_S,
  });
  const failing = report.checks.filter((check) => !check.ok).map((check) => check.name);
  return Response.json(
    { ...report, ...(failing.length > 0 ? { failing } : {}) },
    { status: report.status === 'ok' ? 200 : 503, headers: NO_STORE },
  );
});
