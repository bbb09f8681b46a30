import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueMany } from '../lib/jobs/sql/enqueue';
import { routeLabel } from '../lib/observability/metrics';
import { flushWindows, windowTotals, webhookQuantile, recordWebhookLatency, resetWindowsForTests } from '../lib/observability/windows';
import { startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';
import { SyncedData } from './helpers/synced-data';

/** GET /api/metrics over real HTTP: the bearer, the per-instance figures, and the ones read from Postgres. */
const TOKEN = 'metrics-token-0123456789';
let app: SandboxedApp;

beforeAll(async () => {
  app = await startSandboxedApp({ METRICS_TOKEN: TOKEN, WEBHOOK_KICK_RUNNER: 'false' });
});
afterAll(async () => {
  await app?.close();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${app.url}/api/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /api/metrics', () => {
  it('answers 401 without the bearer, or with another', async () => {
    expect((await fetch(`${app.url}/api/metrics`)).status).toBe(401);
    expect((await fetch(`${app.url}/api/metrics`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } })).status).toBe(401);
  });

  it('counts requests by route and status, with durations', async () => {
    await fetch(`${app.url}/api/health`);
    await fetch(`${app.url}/api/health`);
    await fetch(`${app.url}/api/emails/42`); // 401: no token
    const text = await scrape();
    expect(value(text, 'switchyard_http_requests_total{route="/api/health",method="GET",status="200"}')).toBeGreaterThanOrEqual(2);
    // The [id] segment is the route's, not the URL's: one series for every id.
    expect(value(text, 'switchyard_http_requests_total{route="/api/emails/[id]",method="GET",status="401"}')).toBe(1);
    expect(value(text, 'switchyard_http_request_duration_seconds_count{route="/api/health",method="GET",status="200"}')).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^switchyard_process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^switchyard_db_pool_clients\{state="waiting"\} 0$/m);
  });

  it('reads the queue and business figures from Postgres at scrape time', async () => {
    const { db, pool } = app.database;
    await enqueueMany(db, [
      ...Array.from({ length: 3 }, (_, i) => ({ kind: 'sync.gmail', userId: 'alice', payload: { i } })),
      { kind: 'sync.calendar', userId: 'bob', payload: {} },
    ]);
    await pool.query(`INSERT INTO jobs (kind, user_id, status, finished_at) VALUES ('sync.gmail', 'bob', 'dead', now())`);
    await pool.query(`UPDATE jobs SET run_at = now() - interval '90 seconds' WHERE kind = 'sync.calendar'`);
    await pool.query(`INSERT INTO provider_usage (user_id, provider, window_start, units) VALUES
      ('alice', 'gmail', date_trunc('minute', now()), 7500), ('bob', 'gmail', date_trunc('minute', now()), 100)`);
    const data = new SyncedData(pool);
    await data.connection({ userId: 'alice', provider: 'gmail' });
    await data.connection({ userId: 'bob', provider: 'gmail', status: 'paused' });

    const text = await scrape();
    expect(value(text, 'switchyard_queue_jobs{kind="sync.gmail",status="queued"}')).toBe(3);
    expect(value(text, 'switchyard_queue_jobs{kind="sync.calendar",status="queued"}')).toBe(1);
    expect(value(text, 'switchyard_queue_dead_jobs')).toBe(1);
    expect(value(text, 'switchyard_queue_deepest_user_jobs')).toBe(3);
    expect(value(text, 'switchyard_queue_oldest_runnable_age_seconds')).toBeGreaterThanOrEqual(89);
    // alice spent 7,500 of her 15,000 Gmail units this minute.
    expect(value(text, 'switchyard_provider_quota_used_ratio{provider="gmail"}')).toBe(0.5);
    expect(value(text, 'switchyard_provider_quota_units_this_minute{provider="gmail"}')).toBe(7600);
    expect(value(text, 'switchyard_connections{provider="gmail",status="active"}')).toBe(1);
    expect(value(text, 'switchyard_connections{provider="gmail",status="paused"}')).toBe(1);
  });

  it('times webhook processing, and shares it with the alert windows', async () => {
    resetWindowsForTests();
    const response = await app.webhook({ type: 'sync', connectionId: 'nobody', providerConfigKey: 'google-mail', success: true, model: 'GmailThread' });
    expect(response.status).toBe(202);
    const text = await scrape();
    expect(value(text, 'switchyard_webhook_processing_seconds_count{status="202"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'switchyard_webhook_deliveries_recent{status="rejected"}')).toBe(1);
    await flushWindows(app.database.db);
    const totals = await windowTotals(app.database.db, 5, ['webhook_ms']);
    expect(totals.reduce((sum, t) => sum + t.count, 0)).toBeGreaterThanOrEqual(1);
  });

  it('estimates the webhook p95 from the shared buckets', () => {
    resetWindowsForTests();
    const totals = [
      { metric: 'webhook_ms' as const, label: '10', count: 90, max: 9 },
      { metric: 'webhook_ms' as const, label: '1000', count: 10, max: 900 },
    ];
    // 95th of 100 falls halfway into the (500, 1000] bucket.
    expect(webhookQuantile(totals, 0.95)).toEqual({ ms: 750, samples: 100 });
    recordWebhookLatency(3);
  });

  it('labels routes by their api/ file, never by the values in the URL', () => {
    expect(routeLabel(new URL('http://x/api/emails/42?id=42'))).toBe('/api/emails/[id]');
    expect(routeLabel(new URL('http://x/api/crm/lead?stageName=x&object=lead'))).toBe('/api/crm/[object]');
    expect(routeLabel(new URL('http://x/api/connections/7/pause?id=7'))).toBe('/api/connections/[id]/pause');
    expect(routeLabel(new URL('http://x/api/syncs/123'))).toBe('/api/syncs/[id]');
    expect(routeLabel(new URL('http://x/api/health'))).toBe('/api/health');
  });
});
