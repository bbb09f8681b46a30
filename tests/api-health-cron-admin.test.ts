import { beforeEach, describe, expect, it } from 'vitest';
import { enqueue, getJob } from '../lib/jobs';
import { ADMIN_API_KEY, CRON_SECRET, useTestApp } from './helpers/server';

const app = useTestApp({ HEALTH_MAX_QUEUE_AGE_S: '600' });
beforeEach(async () => {
  await app.database.pool.query('TRUNCATE jobs, job_users');
});

const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };

describe('GET /api/health', () => {
  it('is 200 with the queue figures when the database answers and the queue keeps up', async () => {
    const response = await fetch(`${app.url}/api/health`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body = await response.json();
    expect(body.status).toBe('ok');
    expect(body.checks).toEqual([
      { name: 'database', ok: true, detail: 'reachable' },
      expect.objectContaining({ name: 'queue_age', ok: true }),
    ]);
    expect(body.queue).toEqual({ queued: 0, runnable: 0, running: 0, dead: 0, oldestRunnableAgeSeconds: null });
  });

  it('is 503 naming the failing check when the oldest runnable job waited too long', async () => {
    await enqueue(app.database.db, { kind: 'k', userId: 'u1', runAt: new Date(Date.now() - 3_600_000) });
    const response = await fetch(`${app.url}/api/health`);
    expect(response.status).toBe(503);
    const body = await response.json();
    expect(body.failing).toEqual(['queue_age']);
    expect(body.queue.queued).toBe(1);
  });

  it('answers 405 with Allow for a method the file does not export', async () => {
    const response = await fetch(`${app.url}/api/health`, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('keeps a well-formed incoming x-request-id', async () => {
    const response = await fetch(`${app.url}/api/health`, { headers: { 'x-request-id': 'trace-abc-12345' } });
    expect(response.headers.get('x-request-id')).toBe('trace-abc-12345');
  });
});

describe('GET /api/cron/run-jobs', () => {
  it('is 401 without the secret, or with a wrong one, and runs nothing', async () => {
    const { job } = await enqueue(app.database.db, { kind: 'k', userId: 'u1' });
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: CRON_SECRET }] as Record<string, string>[]) {
      const response = await fetch(`${app.url}/api/cron/run-jobs`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      const body = await response.json();
      expect(body.error).toMatchObject({ code: 'unauthenticated', requestId: response.headers.get('x-request-id') });
    }
    expect((await getJob(app.database.db, job.id))!.status).toBe('queued');
  });

  it('runs a pass with the secret and returns its summary; an unknown kind ends dead', async () => {
    const { job } = await enqueue(app.database.db, { kind: 'mystery', userId: 'u1' });
    const response = await fetch(`${app.url}/api/cron/run-jobs`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect(response.status).toBe(200);
    const summary = await response.json();
    expect(summary).toMatchObject({ claimed: 1, succeeded: 0, failed: 0, deferred: 0, dead: 1 });
    expect(summary.durationMs).toEqual(expect.any(Number));
    expect(await getJob(app.database.db, job.id)).toMatchObject({ status: 'dead', lastError: expect.stringMatching(/unknown job kind "mystery"/) });
  });
});

describe('admin job endpoints (a dynamic [id] route)', () => {
  it('shows a job, 404 for none, 400 for a malformed id, 401 without the key', async () => {
    const { job } = await enqueue(app.database.db, { kind: 'k', userId: 'u1' });
    const ok = await fetch(`${app.url}/api/admin/jobs/${job.id}`, { headers: admin });
    expect(ok.status).toBe(200);
    expect((await ok.json()).job).toMatchObject({ id: job.id, status: 'queued' });
    expect((await fetch(`${app.url}/api/admin/jobs/987654`, { headers: admin })).status).toBe(404);
    const malformed = await fetch(`${app.url}/api/admin/jobs/abc`, { headers: admin });
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe('validation_failed');
    expect((await fetch(`${app.url}/api/admin/jobs/${job.id}`)).status).toBe(401);
  });

  it('retries a dead job, and refuses a queued one with 409', async () => {
    const { job } = await enqueue(app.database.db, { kind: 'mystery', userId: 'u1' });
    const refused = await fetch(`${app.url}/api/admin/jobs/${job.id}/retry`, { method: 'POST', headers: admin });
    expect(refused.status).toBe(409);
    await fetch(`${app.url}/api/cron/run-jobs`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    const retried = await fetch(`${app.url}/api/admin/jobs/${job.id}/retry`, { method: 'POST', headers: admin });
    expect(retried.status).toBe(202);
    expect((await retried.json()).job).toMatchObject({ status: 'queued', attempts: 0 });
  });

  it('answers 404 with the envelope for a path with no endpoint', async () => {
    const response = await fetch(`${app.url}/api/nothing-here`);
    expect(response.status).toBe(404);
    expect((await response.json()).error.code).toBe('not_found');
  });
});
