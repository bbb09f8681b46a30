import { beforeEach, describe, expect, it } from 'vitest';
import { enqueue, getJob } from '../lib/jobs';
import { ADMIN_API_KEY, CRON_SECRET, useTestApp } from './helpers/server';

/** The operators' API (api/admin/*) over real HTTP, on a real database. */
const app = useTestApp({ WEBHOOK_KICK_RUNNER: 'false' });
const query = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) =>
  (await app.database.pool.query(text, values)).rows as T[];

beforeEach(async () => {
  await query('TRUNCATE jobs, job_users, webhook_events, connections, units, runs, run_steps, audit_log CASCADE');
});

const admin = (path: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${ADMIN_API_KEY}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(app.url + path, { ...init, headers });
};
const json = async (response: Response, status: number) => {
  const body = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status });
  return body;
};
const post = (path: string, body?: unknown) => admin(path, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

/** A job that ended dead: an unknown kind fails for good on its first run. */
async function deadJob(userId = 'u1'): Promise<number> {
  const { job } = await enqueue(app.database.db, { kind: 'mystery', userId, maxAttempts: 1 });
  await fetch(`${app.url}/api/cron/run-jobs`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
  expect((await getJob(app.database.db, job.id))!.status).toBe('dead');
  return job.id;
}

async function connection(userId: string, provider: string, status = 'active'): Promise<number> {
  const [row] = await query<{ id: number }>(
    `INSERT INTO connections (user_id, provider, nango_connection_id, provider_config_key, status)
     VALUES ($1, $2, $1 || '-' || $2, $2 || '-key', $3) RETURNING id`,
    [userId, provider, status],
  );
  return row!.id;
}

async function auditActions(): Promise<string[]> {
  return (await query<{ action: string }>(`SELECT action FROM audit_log WHERE actor_type = 'admin' ORDER BY id`)).map((r) => r.action);
}

describe('authentication', () => {
  it('every admin endpoint is 401 without the admin key, with the envelope', async () => {
    for (const path of ['/api/admin/summary', '/api/admin/jobs', '/api/admin/connections', '/api/admin/webhooks', '/api/admin/units', '/api/admin/runs']) {
      const response = await fetch(app.url + path, { headers: { authorization: 'Bearer not-the-key' } });
      const body = await json(response, 401);
      expect(body.error).toMatchObject({ code: 'unauthenticated', requestId: response.headers.get('x-request-id') });
    }
  });
});

describe('GET /api/admin/summary', () => {
  it('gives health, depth by kind and status, oldest runnable age, running per user, the last hour and failing syncs', async () => {
    await deadJob('u3');
    await enqueue(app.database.db, { kind: 'a', userId: 'u1', runAt: new Date(Date.now() - 60_000) });
    await enqueue(app.database.db, { kind: 'a', userId: 'u2' });
    await enqueue(app.database.db, { kind: 'b', userId: 'u1' });
    const conn = await connection('u1', 'gmail');
    await connection('u2', 'calendar', 'paused');
    await query(`INSERT INTO sync_states (connection_id, stream, last_error, last_error_at) VALUES ($1, 'threads', 'quota', now())`, [conn]);
    const summary = await json(await admin('/api/admin/summary'), 200);
    expect(summary.health.checks[0]).toEqual({ name: 'database', ok: true, detail: 'reachable' });
    expect(summary.queue.depth).toEqual(
      expect.arrayContaining([
        { kind: 'a', status: 'queued', jobs: 2 },
        { kind: 'b', status: 'queued', jobs: 1 },
      ]),
    );
    expect(summary.queue).toMatchObject({ queued: 3, dead: 1, runningByUser: [], lastHour: { succeeded: 0, failed: 0, dead: 1, cancelled: 0 } });
    expect(summary.queue.oldestRunnableAgeSeconds).toBeGreaterThanOrEqual(59);
    expect(summary.syncs).toEqual({
      failing: 1,
      failingStreams: [
        { connectionId: conn, userId: 'u1', provider: 'gmail', stream: 'threads', lastError: 'quota', lastErrorAt: expect.any(String), lastSuccessAt: null },
      ],
    });
    expect(summary.connections).toEqual({ active: 1, paused: 1, error: 0 });
    expect((await admin('/api/admin/summary?x=1')).status).toBe(400);
  });
});

describe('jobs', () => {
  it('lists every user\'s jobs newest first, filtered by status, kind and user, a page at a time', async () => {
    const dead = await deadJob('u9');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await enqueue(app.database.db, { kind: i % 2 ? 'odd' : 'even', userId: `u${i % 2}`, payload: { i } })).job.id);
    const first = await json(await admin('/api/admin/jobs?limit=2'), 200);
    expect(first.data.map((job: { id: number }) => job.id)).toEqual([ids[4], ids[3]]);
    const second = await json(await admin(`/api/admin/jobs?limit=2&cursor=${first.nextCursor}`), 200);
    expect(second.data.map((job: { id: number }) => job.id)).toEqual([ids[2], ids[1]]);
    const third = await json(await admin(`/api/admin/jobs?limit=2&cursor=${second.nextCursor}`), 200);
    expect(third).toEqual({ data: [expect.objectContaining({ id: ids[0] }), expect.objectContaining({ id: dead })], nextCursor: null });
    const odd = await json(await admin('/api/admin/jobs?kind=odd'), 200);
    expect(odd.data.map((job: { id: number }) => job.id)).toEqual([ids[3], ids[1]]);
    expect((await json(await admin('/api/admin/jobs?userId=u0&kind=even&limit=100'), 200)).data).toHaveLength(3);
    const deadOnly = await json(await admin('/api/admin/jobs?status=dead'), 200);
    expect(deadOnly).toEqual({ data: [expect.objectContaining({ id: dead, status: 'dead', attempts: 1, lastError: expect.stringMatching(/unknown job kind/) })], nextCursor: null });
    for (const bad of ['status=lost', 'limit=0', 'cursor=nope', 'userId=', 'other=1', 'kind=a&kind=b']) {
      const body = await json(await admin(`/api/admin/jobs?${bad}`), 400);
      expect(body.error.code).toBe('validation_failed');
    }
  });

  it('shows one job with its payload, progress, attempts and last error; 404 for none', async () => {
    const { job } = await enqueue(app.database.db, { kind: 'k', userId: 'u1', payload: { connectionId: 7 } });
    await query(`UPDATE jobs SET progress = '{"pages":3}' WHERE id = $1`, [job.id]);
    const shown = await json(await admin(`/api/admin/jobs/${job.id}`), 200);
    expect(shown.job).toMatchObject({ id: job.id, payload: { connectionId: 7 }, progress: { pages: 3 }, attempts: 0, lastError: null, maxAttempts: 8 });
    expect((await json(await admin('/api/admin/jobs/99999999'), 404)).error.code).toBe('not_found');
  });

  it('cancels a queued job (409 once finished) and retries a dead one, each audited', async () => {
    const { job } = await enqueue(app.database.db, { kind: 'k', userId: 'u1' });
    const cancelled = await json(await post(`/api/admin/jobs/${job.id}/cancel`), 202);
    expect(cancelled.job).toMatchObject({ id: job.id, status: 'cancelled' });
    expect((await json(await post(`/api/admin/jobs/${job.id}/cancel`), 409)).error.code).toBe('conflict');
    expect((await json(await post('/api/admin/jobs/99999999/cancel'), 404)).error.code).toBe('not_found');
    const dead = await deadJob();
    expect((await json(await post(`/api/admin/jobs/${dead}/retry`), 202)).job).toMatchObject({ status: 'queued', attempts: 0 });
    expect(await auditActions()).toEqual(['admin.job_cancelled', 'admin.job_retried']);
    const [entry] = await query(`SELECT user_id, target_type, target_id, request_id FROM audit_log WHERE action = 'admin.job_cancelled'`);
    expect(entry).toMatchObject({ user_id: 'u1', target_type: 'job', target_id: String(job.id), request_id: expect.any(String) });
  });

  it('retries in bulk by ids or by filter, one job per dedupe key, leaving the key a live job holds', async () => {
    const [a, b, c] = [await deadJob('u1'), await deadJob('u2'), await deadJob('u2')];
    const byIds = await json(await post('/api/admin/jobs/retry', { ids: [a, 424242] }), 202);
    expect(byIds).toEqual({ jobIds: [a], count: 1 });
    const byFilter = await json(await post('/api/admin/jobs/retry', { filter: { userId: 'u2', status: 'dead' }, limit: 1 }), 202);
    expect(byFilter).toEqual({ jobIds: [c], count: 1 });
    expect((await getJob(app.database.db, b))!.status).toBe('dead');
    // Two dead jobs with one dedupe key, while a third holds it live: none is retried.
    await query(`UPDATE jobs SET dedupe_key = 'k1' WHERE id = $1`, [b]);
    await enqueue(app.database.db, { kind: 'k', userId: 'u2', dedupeKey: 'k1' });
    expect(await json(await post('/api/admin/jobs/retry', { ids: [b] }), 202)).toEqual({ jobIds: [], count: 0 });
    expect(await auditActions()).toEqual(['admin.jobs_retried', 'admin.jobs_retried', 'admin.jobs_retried']);
    for (const bad of [{}, { ids: [] }, { ids: [1], filter: {} }, { filter: { status: 'queued' } }, { filter: {}, limit: 5000 }, { ids: Array.from({ length: 101 }, (_, i) => i + 1) }]) {
      expect((await json(await post('/api/admin/jobs/retry', bad), 400)).error.code).toBe('validation_failed');
    }
  });

  it('cancels in bulk, bounded by the limit', async () => {
    for (let i = 0; i < 3; i++) await enqueue(app.database.db, { kind: 'k', userId: 'u1' });
    const other = (await enqueue(app.database.db, { kind: 'k', userId: 'u2' })).job.id;
    const result = await json(await post('/api/admin/jobs/cancel', { filter: { userId: 'u1' }, limit: 2 }), 202);
    expect(result.count).toBe(2);
    expect(await query(`SELECT user_id, status, count(*)::int AS n FROM jobs GROUP BY 1, 2 ORDER BY 1, 2`)).toEqual([
      { user_id: 'u1', status: 'cancelled', n: 2 },
      { user_id: 'u1', status: 'queued', n: 1 },
      { user_id: 'u2', status: 'queued', n: 1 },
    ]);
    expect(await json(await post('/api/admin/jobs/cancel', { ids: [other] }), 202)).toEqual({ jobIds: [other], count: 1 });
  });
});

describe('connections', () => {
  it('lists every user\'s connections with their streams: cursor age, last outcome, the live sync and its progress', async () => {
    const gmail = await connection('u1', 'gmail');
    const calendar = await connection('u2', 'calendar', 'paused');
    await connection('u3', 'salesforce', 'deleted');
    await query(
      `INSERT INTO sync_states (connection_id, stream, cursor, cursor_saved_at, last_success_at) VALUES ($1, 'threads', '{}', now() - interval '90 seconds', now())`,
      [gmail],
    );
    const { job } = await enqueue(app.database.db, {
      kind: 'sync.gmail',
      userId: 'u1',
      payload: { connectionId: gmail, stream: 'threads', mode: 'incremental' },
      dedupeKey: `sync:${gmail}:threads`,
    });
    await query(`UPDATE jobs SET status = 'running', started_at = now(), progress = '{"pages":2,"records":40}' WHERE id = $1`, [job.id]);
    const list = await json(await admin('/api/admin/connections'), 200);
    expect(list.data.map((c: { id: number }) => c.id)).toEqual([calendar, gmail]);
    const shown = list.data[1];
    expect(shown).toMatchObject({ id: gmail, userId: 'u1', provider: 'gmail', status: 'active' });
    const threads = shown.streams.find((s: { stream: string }) => s.stream === 'threads');
    expect(threads).toMatchObject({ lastError: null, lastSuccessAt: expect.any(String), job: { id: job.id, status: 'running', mode: 'incremental', progress: { pages: 2, records: 40 } } });
    expect(threads.cursorAgeSeconds).toBeGreaterThanOrEqual(89);
    expect((await json(await admin('/api/admin/connections?status=paused'), 200)).data.map((c: { id: number }) => c.id)).toEqual([calendar]);
    expect((await json(await admin('/api/admin/connections?status=deleted&provider=salesforce'), 200)).data).toHaveLength(1);
    expect((await json(await admin('/api/admin/connections?userId=u1&provider=gmail'), 200)).data).toHaveLength(1);
    // The same view alone (the cursor's age is read at each request, so it may have moved on by a second).
    const withoutAge = (c: { streams: { cursorAgeSeconds: unknown }[] }) => ({ ...c, streams: c.streams.map(({ cursorAgeSeconds: _, ...s }) => s) });
    expect(withoutAge((await json(await admin(`/api/admin/connections/${gmail}`), 200)).connection)).toEqual(withoutAge(shown));
    expect((await json(await admin('/api/admin/connections/99999999'), 404)).error.code).toBe('not_found');
    expect((await json(await admin('/api/admin/connections?provider=myspace'), 400)).error.code).toBe('validation_failed');
  });

  it('pauses, resumes and syncs now, each audited; sync now is 409 while paused', async () => {
    const id = await connection('u1', 'calendar');
    const paused = await json(await post(`/api/admin/connections/${id}/pause`), 200);
    expect(paused).toMatchObject({ connection: { id, status: 'paused' }, cancelledJobs: 0 });
    expect((await json(await post(`/api/admin/connections/${id}/sync`), 409)).error.code).toBe('conflict');
    const resumed = await json(await post(`/api/admin/connections/${id}/resume`), 200);
    expect(resumed.connection.status).toBe('active');
    expect(resumed.jobIds.length).toBeGreaterThan(0);
    // Sync now while those are queued: deduplicated against them.
    const synced = await json(await post(`/api/admin/connections/${id}/sync`), 202);
    expect(synced.jobIds).toEqual(resumed.jobIds);
    expect(synced.connection.streams.every((s: { job: { status: string } | null }) => s.job?.status === 'queued')).toBe(true);
    expect(await auditActions()).toEqual(['admin.connection_paused', 'admin.connection_resumed', 'admin.connection_synced']);
    expect((await json(await post('/api/admin/connections/99999999/pause'), 404)).error.code).toBe('not_found');
  });
});

describe('webhooks', () => {
  it('lists deliveries newest first, rejected ones with their reason, and no payload', async () => {
    await query(`INSERT INTO webhook_events (delivery_key, type, nango_connection_id, provider_config_key, payload, status, error, received_at) VALUES
      ('a', 'sync', 'c1', 'google-mail', '{"type":"sync","syncName":"threads","model":"GmailThread","success":true,"secret":"zzz"}', 'processed', NULL, now() - interval '2 minutes'),
      ('b', 'auth', 'c2', 'google-mail', '{"type":"auth","operation":"creation","success":true}', 'rejected', 'unknown connection "c2"', now() - interval '1 minute')`);
    const all = await json(await admin('/api/admin/webhooks'), 200);
    expect(all.data).toEqual([
      expect.objectContaining({ type: 'auth', status: 'rejected', error: 'unknown connection "c2"', summary: { operation: 'creation', success: true } }),
      expect.objectContaining({ type: 'sync', status: 'processed', summary: { syncName: 'threads', model: 'GmailThread', success: true } }),
    ]);
    expect(JSON.stringify(all)).not.toContain('zzz');
    const rejected = await json(await admin('/api/admin/webhooks?status=rejected&limit=1'), 200);
    expect(rejected).toEqual({ data: [expect.objectContaining({ nangoConnectionId: 'c2' })], nextCursor: null });
    expect((await json(await admin('/api/admin/webhooks?status=bad'), 400)).error.code).toBe('validation_failed');
  });
});

describe('automations', () => {
  async function unitWithRun() {
    const [unit] = await query<{ id: number }>(`INSERT INTO units (user_id, name, prompt, compiled) VALUES ('u1', 'triage', 'p', '{}') RETURNING id`);
    const [run] = await query<{ id: number }>(
      `INSERT INTO runs (user_id, unit_id, event_type, facts, status, error) VALUES ('u1', $1, 'email.received', '{"from":"a@b"}', 'failed', 'step 2 failed') RETURNING id`,
      [unit!.id],
    );
    await query(
      `INSERT INTO run_steps (run_id, index, tool, input, output, status, error, started_at, finished_at) VALUES
       ($1, 0, 'email.label', '{"label":"x"}', '{"ok":true}', 'succeeded', NULL, now() - interval '2 seconds', now() - interval '1 second'),
       ($1, 1, 'crm.create', '{"object":"Lead"}', NULL, 'failed', '{"code":"unprocessable","message":"no"}', now() - interval '1 second', now())`,
      [run!.id],
    );
    return { unitId: unit!.id, runId: run!.id };
  }

  it('lists units and runs of every user, and a run with its steps', async () => {
    const { unitId, runId } = await unitWithRun();
    expect((await json(await admin('/api/admin/units?userId=u1'), 200)).data).toEqual([expect.objectContaining({ id: unitId, userId: 'u1', status: 'active' })]);
    expect((await json(await admin('/api/admin/units?status=paused'), 200)).data).toEqual([]);
    expect((await json(await admin(`/api/admin/runs?status=failed&unitId=${unitId}`), 200)).data).toEqual([
      expect.objectContaining({ id: runId, userId: 'u1', error: 'step 2 failed' }),
    ]);
    const { run, steps } = await json(await admin(`/api/admin/runs/${runId}`), 200);
    expect(run).toMatchObject({ id: runId, unitId, unitName: 'triage', facts: { from: 'a@b' } });
    expect(steps).toEqual([
      expect.objectContaining({ index: 0, tool: 'email.label', input: { label: 'x' }, output: { ok: true }, status: 'succeeded', durationMs: expect.any(Number) }),
      expect.objectContaining({ index: 1, tool: 'crm.create', status: 'failed', error: { code: 'unprocessable', message: 'no' } }),
    ]);
    expect((await json(await admin('/api/admin/runs/99999999'), 404)).error.code).toBe('not_found');
    expect((await json(await admin('/api/admin/runs?unitId=abc'), 400)).error.code).toBe('validation_failed');
  });

  it('toggles a unit\'s status, audited; 404 for none, 400 for a bad status', async () => {
    const { unitId } = await unitWithRun();
    const patch = (id: number, body: unknown) => admin(`/api/admin/units/${id}/status`, { method: 'PATCH', body: JSON.stringify(body) });
    expect((await json(await patch(unitId, { status: 'paused' }), 200)).unit).toMatchObject({ id: unitId, status: 'paused', userId: 'u1' });
    expect((await json(await patch(unitId, { status: 'gone' }), 400)).error.code).toBe('validation_failed');
    expect((await json(await patch(99999999, { status: 'active' }), 404)).error.code).toBe('not_found');
    expect(await auditActions()).toEqual(['admin.unit_status_changed']);
  });
});
