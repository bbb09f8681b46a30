import { performance } from 'node:perf_hooks';
import { waitUntil } from '@vercel/functions';
import type pg from 'pg';
import { db } from '../database';
import type { Logger } from './logger';
import { observeHttpRequest, routeLabel, samplePool } from './metrics';
import { captureError, flushErrors, sentryEnabled } from './sentry';
import { flushWindows, windowsFlushDue } from './windows';

/**
 * What every request leaves behind, called by the route wrapper as the response is ready: one log
 * line (route, status, duration; the request id is on the logger), the per-instance HTTP metrics,
 * and for an unhandled error its Sentry event, flushed before the function returns.
 */
export interface FinishedRequest {
  request: Request;
  requestId: string;
  logger: Logger;
  status: number;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** The unhandled error behind a 5xx, if any. */
  error?: unknown;
}

export async function requestFinished(finished: FinishedRequest): Promise<void> {
  // The client starts with the instance's first request, so that its process-level handlers (uncaught
  // exceptions, unhandled rejections in waitUntil work) are in place before anything else can fail.
  try {
    sentryEnabled();
  } catch {
    // A configuration error is answered by the route wrapper.
  }
  const durationMs = Math.round((performance.now() - finished.startedAt) * 100) / 100;
  let route = '/';
  try {
    route = routeLabel(new URL(finished.request.url));
    const line = { route, method: finished.request.method, status: finished.status, durationMs };
    if (finished.status >= 500) finished.logger.error(line, 'request');
    else finished.logger.info(line, 'request');
    observeHttpRequest(route, finished.request.method, finished.status, durationMs);
  } catch {
    // Observing a request must never fail it.
  }
  if (finished.error !== undefined) {
    captureError(finished.error, { requestId: finished.requestId, tags: { route, method: finished.request.method } });
  }
  // Also what a job run by this request reported: a frozen instance sends nothing later.
  await flushErrors();
  shareWindows(finished.logger);
}

/** Samples the pool and, every few seconds, writes the shared alert windows after the response. */
function shareWindows(logger: Logger): void {
  try {
    const database = db();
    samplePool((database as unknown as { $client?: pg.Pool }).$client);
    if (windowsFlushDue()) {
      waitUntil(flushWindows(database).catch((error) => logger.warn({ err: error }, 'could not write the alert windows')));
    }
  } catch {
    // No database configured (a misconfigured deployment answers 503 already).
  }
}

export { performance };
