import { describe, expect, it } from 'vitest';
import { CRON_SECRET, useTestApp } from './helpers/server';

const app = useTestApp({ JOBS_RETENTION_DAYS: '7', WEBHOOK_EVENTS_RETENTION_DAYS: '30' });

describe('GET /api/cron/maintenance', () => {
  it('is 401 without the cron secret', async () => {
    expect((await fetch(`${app.url}/api/cron/maintenance`)).status).toBe(401);
  });

  it('deletes finished jobs and deliveries past retention, keeps dead jobs and everything recent', async () => {
    const q = (text: string) => app.database.pool.query(text);
    await q(`INSERT INTO jobs (kind, user_id, status, finished_at) VALUES
      ('k', 'u', 'succeeded', now() - interval '8 days'),
      ('k', 'u', 'cancelled', now() - interval '9 days'),
      ('k', 'u', 'failed', now() - interval '30 days'),
      ('k', 'u', 'dead', now() - interval '30 days'),
      ('k', 'u', 'succeeded', now() - interval '1 day'),
      ('k', 'u', 'queued', NULL)`);
    await q(`INSERT INTO webhook_events (delivery_key, type, payload, status, received_at) VALUES
      ('old', 'sync', '{}', 'processed', now() - interval '31 days'),
      ('new', 'sync', '{}', 'processed', now() - interval '1 day')`);
    await q(`INSERT INTO rate_limit_windows VALUES ('user:a', now() - interval '1 hour', 3), ('user:a', date_trunc('minute', now()), 1)`);
    await q(`INSERT INTO provider_usage VALUES ('a', 'gmail', now() - interval '2 days', 10), ('a', 'gmail', date_trunc('minute', now()), 5)`);
    const response = await fetch(`${app.url}/api/cron/maintenance`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      deleted: { jobs: 3, webhookEvents: 1, rateLimitWindows: 1, providerUsage: 1, actions: 0 },
      retention: { events: 0, runs: 0, metricWindows: 0, incidents: 0, incomplete: false },
    });
    const { rows } = await q(`SELECT status FROM jobs ORDER BY status`);
    expect(rows.map((r) => r.status)).toEqual(['dead', 'queued', 'succeeded']);
  });
});
