import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYNCS, syncSuccessPayload } from '../dev/sandbox/index';
import { startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';
import { CRON_SECRET } from './helpers/server';
import { SyncedData } from './helpers/synced-data';

/** api/syncs, pause and resume of a connection, and the stale-sync cron, over real HTTP. */
let app: SandboxedApp;
let data: SyncedData;
beforeAll(async () => {
  app = await startSandboxedApp({ WEBHOOK_KICK_RUNNER: 'false', RATE_LIMIT_PER_MINUTE: '100000' });
  data = new SyncedData(app.database.pool);
});
afterAll(async () => {
  await app.close();
});
beforeEach(async () => {
  await app.database.pool.query('TRUNCATE jobs, job_users, webhook_events, connections CASCADE');
});

async function call(method: string, path: string, user = 'alice', body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${await app.token(user)}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(app.url + path, { method, headers, body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

const query = async (text: string, values: unknown[] = []) => (await app.database.pool.query(text, values)).rows;

async function expect400(body: unknown, paths: string[]) {
  const response = await call('POST', '/api/syncs', 'alice', body);
  expect(response.status, JSON.stringify(body)).toBe(400);
  expect(response.body.error.code).toBe('validation_failed');
  expect(response.body.error.details.map((d: { path: string }) => d.path).sort(), JSON.stringify(body)).toEqual(paths);
}

describe('POST /api/syncs', () => {
  it('enqueues every stream of each active connection of the providers: 202 with the jobs', async () => {
    const gmail = await data.connection({ userId: 'alice', provider: 'gmail' });
    const salesforce = await data.connection({ userId: 'alice', provider: 'salesforce' });
    await data.connection({ userId: 'alice', provider: 'calendar' });
    await data.connection({ userId: 'bob', provider: 'gmail' });
    const response = await call('POST', '/api/syncs', 'alice', { providers: ['gmail', 'salesforce'], mode: 'full' });
    expect(response.status).toBe(202);
    const jobs = response.body.jobs;
    expect(jobs.map(({ id: _id, ...rest }: { id: number }) => rest)).toEqual([
      { connectionId: gmail, provider: 'gmail', stream: 'threads', mode: 'full', status: 'queued' },
      ...['Lead', 'Contact', 'Account', 'Opportunity'].map((stream) => ({
        connectionId: salesforce, provider: 'salesforce', stream, mode: 'full', status: 'queued',
      })),
    ]);
    const rows = await query(`SELECT id, kind, user_id, payload, priority, status FROM jobs ORDER BY id`);
    expect(rows).toEqual(
      jobs.map((job: { id: number; provider: string; connectionId: number; stream: string }) => ({
        id: job.id,
        kind: `sync.${job.provider}`,
        user_id: 'alice',
        payload: { connectionId: job.connectionId, stream: job.stream, mode: 'full' },
        priority: 10,
        status: 'queued',
      })),
    );
    // A stream already syncing answers its job (one sync per stream at a time), with its own mode.
    const again = await call('POST', '/api/syncs', 'alice', { providers: ['gmail', 'gmail'], mode: 'incremental' });
    expect(again.status).toBe(202);
    expect(again.body.jobs).toEqual([{ id: jobs[0].id, connectionId: gmail, provider: 'gmail', stream: 'threads', mode: 'full', status: 'queued' }]);
    expect(await query(`SELECT count(*)::int AS n FROM jobs`)).toEqual([{ n: 5 }]);
  });

  it('date_range carries both dates, normalised to UTC instants', async () => {
    const calendar = await data.connection({ userId: 'alice', provider: 'calendar' });
    const response = await call('POST', '/api/syncs', 'alice', {
      providers: ['calendar'],
      mode: 'date_range',
      startDate: '2026-01-01',
      endDate: '2026-02-01T00:00:00+01:00',
    });
    expect(response.status).toBe(202);
    expect(response.body.jobs).toEqual([
      { id: expect.any(Number), connectionId: calendar, provider: 'calendar', stream: 'events', mode: 'date_range', status: 'queued' },
    ]);
    expect(await query(`SELECT payload FROM jobs`)).toEqual([
      { payload: { connectionId: calendar, stream: 'events', mode: 'date_range', startDate: '2026-01-01T00:00:00.000Z', endDate: '2026-01-31T23:00:00.000Z' } },
    ]);
  });

  it('is 422 naming providers when the caller has no active connection of them', async () => {
    await data.connection({ userId: 'alice', provider: 'calendar', status: 'paused' });
    await data.connection({ userId: 'alice', provider: 'salesforce', status: 'deleted' });
    await data.connection({ userId: 'bob', provider: 'gmail' });
    for (const providers of [['calendar'], ['salesforce'], ['gmail']]) {
      const response = await call('POST', '/api/syncs', 'alice', { providers, mode: 'incremental' });
      expect(response.status).toBe(422);
      expect(response.body.error).toMatchObject({ code: 'unprocessable', details: [{ path: 'providers', message: 'no active connection of these providers' }] });
    }
    expect(await query(`SELECT count(*)::int AS n FROM jobs`)).toEqual([{ n: 0 }]);
  });

  it('answers 400 naming each bad field', async () => {
    await data.connection({ userId: 'alice', provider: 'gmail' });
    await expect400({ providers: ['gmail'], mode: 'date_range' }, ['endDate', 'startDate']);
    await expect400({ providers: ['gmail'], mode: 'date_range', startDate: '2026-02-01' }, ['endDate']);
    await expect400({ providers: ['gmail'], mode: 'date_range', startDate: '2026-02-01', endDate: '2026-02-01' }, ['endDate']);
    await expect400({ providers: ['gmail'], mode: 'date_range', startDate: '2026-03-01', endDate: '2026-02-01' }, ['endDate']);
    await expect400({ providers: ['gmail'], mode: 'date_range', startDate: 'last week', endDate: '2026-02-01' }, ['startDate']);
    await expect400({ providers: ['gmail'], mode: 'date_range', startDate: '2026-02-30', endDate: '2026-03-01' }, ['startDate']);
    await expect400({ providers: ['gmail'], mode: 'incremental', startDate: '2026-01-01' }, ['startDate']);
    await expect400({ providers: ['gmail'], mode: 'full', startDate: '2026-01-01', endDate: '2026-02-01' }, ['endDate', 'startDate']);
    await expect400({ providers: [], mode: 'full' }, ['providers']);
    await expect400({ providers: ['myspace'], mode: 'full' }, ['providers.0']);
    await expect400({ providers: 'gmail', mode: 'full' }, ['providers']);
    await expect400({ providers: ['gmail'], mode: 'weekly' }, ['mode']);
    await expect400({}, ['mode', 'providers']);
    const notJson = await call('POST', '/api/syncs', 'alice', '{"providers":');
    expect(notJson.status).toBe(400);
    expect(await query(`SELECT count(*)::int AS n FROM jobs`)).toEqual([{ n: 0 }]);
  });

  it('refuses an unauthenticated caller (401) and unexported methods (405)', async () => {
    const anonymous = await fetch(`${app.url}/api/syncs`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(anonymous.status).toBe(401);
    const list = await fetch(`${app.url}/api/syncs`);
    expect(list.status).toBe(405);
    expect(list.headers.get('allow')).toBe('POST, OPTIONS');
    const put = await fetch(`${app.url}/api/syncs/1`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, DELETE, OPTIONS');
  });
});

describe('GET and DELETE /api/syncs/{id}', () => {
  async function startGmailSync(user = 'alice') {
    await data.connection({ userId: user, provider: 'gmail' });
    const response = await call('POST', '/api/syncs', user, { providers: ['gmail'], mode: 'incremental' });
    return response.body.jobs[0].id as number;
  }

  it('GET answers the job: status, attempts, progress, last error, timestamps', async () => {
    const id = await startGmailSync();
    const queued = await call('GET', `/api/syncs/${id}`);
    expect(queued.status).toBe(200);
    expect(queued.body.job).toEqual({
      id,
      provider: 'gmail',
      connectionId: expect.any(Number),
      stream: 'threads',
      mode: 'incremental',
      startDate: null,
      endDate: null,
      status: 'queued',
      attempts: 0,
      maxAttempts: 8,
      progress: null,
      result: null,
      lastError: null,
      cancelRequestedAt: null,
      runAt: expect.any(String),
      createdAt: expect.any(String),
      startedAt: null,
      finishedAt: null,
      updatedAt: expect.any(String),
    });
    await query(
      `UPDATE jobs SET status = 'running', attempts = 2, locked_by = 'r1', locked_until = now() + interval '30 seconds',
         started_at = '2026-03-01T10:00:00Z', progress = '{"phase":"incremental","records":120}', last_error = 'gmail 503: try later'
       WHERE id = $1`,
      [id],
    );
    const running = await call('GET', `/api/syncs/${id}`);
    expect(running.body.job).toMatchObject({
      status: 'running',
      attempts: 2,
      progress: { phase: 'incremental', records: 120 },
      lastError: 'gmail 503: try later',
      startedAt: '2026-03-01T10:00:00.000Z',
    });
  });

  it('GET is 404 for another user\'s job, a job that is not a sync, or none; 400 for a malformed id', async () => {
    const id = await startGmailSync();
    expect((await call('GET', `/api/syncs/${id}`, 'bob')).status).toBe(404);
    const [other] = await query(`INSERT INTO jobs (kind, user_id, payload) VALUES ('automation.run', 'alice', '{}') RETURNING id`);
    expect((await call('GET', `/api/syncs/${other.id}`)).status).toBe(404);
    expect((await call('DELETE', `/api/syncs/${other.id}`)).status).toBe(404);
    expect((await call('GET', '/api/syncs/999999')).status).toBe(404);
    const bad = await call('GET', '/api/syncs/abc');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([{ path: 'id', message: 'expected a positive integer' }]);
  });

  it('DELETE cancels a queued sync at once (202), again is a no-op', async () => {
    const id = await startGmailSync();
    const response = await call('DELETE', `/api/syncs/${id}`);
    expect(response.status).toBe(202);
    expect(response.body.job).toMatchObject({ id, status: 'cancelled', cancelRequestedAt: expect.any(String), finishedAt: expect.any(String) });
    expect(await query(`SELECT status FROM jobs WHERE id = $1`, [id])).toEqual([{ status: 'cancelled' }]);
    const again = await call('DELETE', `/api/syncs/${id}`);
    expect(again.status).toBe(202);
    expect(again.body.job.status).toBe('cancelled');
  });

  it('DELETE asks a running sync to stop; a finished one is 409; another user\'s is 404', async () => {
    const id = await startGmailSync();
    await query(`UPDATE jobs SET status = 'running', attempts = 1, locked_by = 'r1', locked_until = now() + interval '30 seconds' WHERE id = $1`, [id]);
    expect((await call('DELETE', `/api/syncs/${id}`, 'bob')).status).toBe(404);
    const response = await call('DELETE', `/api/syncs/${id}`);
    expect(response.status).toBe(202);
    expect(response.body.job).toMatchObject({ id, status: 'running', cancelRequestedAt: expect.any(String), finishedAt: null });
    await query(`UPDATE jobs SET status = 'succeeded', cancel_requested_at = NULL, locked_by = NULL, locked_until = NULL, finished_at = now() WHERE id = $1`, [id]);
    const finished = await call('DELETE', `/api/syncs/${id}`);
    expect(finished.status).toBe(409);
    expect(finished.body.error).toMatchObject({ code: 'conflict', message: 'the sync has already finished (succeeded)' });
    expect(await query(`SELECT status, cancel_requested_at FROM jobs WHERE id = $1`, [id])).toEqual([{ status: 'succeeded', cancel_requested_at: null }]);
  });
});

describe('POST /api/connections/{id}/pause and /resume', () => {
  const gmailWebhook = () =>
    app.webhook(syncSuccessPayload({ connectionId: 'gmail-alice', providerConfigKey: 'google-mail', ...SYNCS.gmail, responseResults: { added: 3 } }));

  it('pause cancels the connection\'s sync jobs; its webhooks are then recorded but start nothing', async () => {
    const gmail = await data.connection({ userId: 'alice', provider: 'gmail' });
    const other = await data.connection({ userId: 'alice', provider: 'calendar' });
    const sync = (await call('POST', '/api/syncs', 'alice', { providers: ['gmail', 'calendar'], mode: 'incremental' })).body.jobs;
    const [action] = await query(`INSERT INTO jobs (kind, user_id, payload) VALUES ('action.send_email', 'alice', $1) RETURNING id`, [{ connectionId: gmail }]);

    const response = await call('POST', `/api/connections/${gmail}/pause`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      connection: {
        id: gmail,
        provider: 'gmail',
        connectionId: 'gmail-alice',
        providerConfigKey: 'google-mail',
        status: 'paused',
        lastError: null,
        lastSyncedAt: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
      cancelledJobs: 1,
    });
    const jobs = await query(`SELECT id, status FROM jobs ORDER BY id`);
    expect(jobs).toEqual([
      { id: sync[0].id, status: 'cancelled' },
      { id: sync[1].id, status: 'queued' },
      { id: action.id, status: 'queued' },
    ]);
    expect(sync[1].connectionId).toBe(other);

    const webhook = await gmailWebhook();
    expect(webhook.status).toBe(202);
    expect(await query(`SELECT type, status, error FROM webhook_events`)).toEqual([
      { type: 'sync', status: 'processed', error: 'connection paused: no sync started' },
    ]);
    expect(await query(`SELECT count(*)::int AS n FROM jobs WHERE kind = 'sync.gmail' AND status = 'queued'`)).toEqual([{ n: 0 }]);
    // Nor can the caller start one by hand while it is paused.
    expect((await call('POST', '/api/syncs', 'alice', { providers: ['gmail'], mode: 'incremental' })).status).toBe(422);
    // Pausing again changes nothing.
    const again = await call('POST', `/api/connections/${gmail}/pause`);
    expect(again.body).toMatchObject({ connection: { status: 'paused' }, cancelledJobs: 0 });
  });

  it('pause asks a running sync to stop, so it cannot queue a rerun either', async () => {
    const gmail = await data.connection({ userId: 'alice', provider: 'gmail' });
    const [job] = (await call('POST', '/api/syncs', 'alice', { providers: ['gmail'], mode: 'incremental' })).body.jobs;
    await query(`UPDATE jobs SET status = 'running', attempts = 1, locked_by = 'r1', locked_until = now() + interval '30 seconds' WHERE id = $1`, [job.id]);
    const response = await call('POST', `/api/connections/${gmail}/pause`);
    expect(response.body.cancelledJobs).toBe(1);
    expect(await query(`SELECT status, cancel_requested_at IS NOT NULL AS asked FROM jobs`)).toEqual([{ status: 'running', asked: true }]);
  });

  it('resume makes the connection active and enqueues an incremental sync of its streams (202)', async () => {
    const gmail = await data.connection({ userId: 'alice', provider: 'gmail', status: 'paused' });
    await gmailWebhook();
    expect(await query(`SELECT count(*)::int AS n FROM jobs`)).toEqual([{ n: 0 }]);
    const response = await call('POST', `/api/connections/${gmail}/resume`);
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ connection: { id: gmail, status: 'active' }, jobIds: [expect.any(Number)] });
    expect(await query(`SELECT id, kind, payload, status FROM jobs`)).toEqual([
      { id: response.body.jobIds[0], kind: 'sync.gmail', payload: { connectionId: gmail, stream: 'threads', mode: 'incremental' }, status: 'queued' },
    ]);
    expect(await query(`SELECT status FROM connections WHERE id = $1`, [gmail])).toEqual([{ status: 'active' }]);
    // Webhooks start syncs again (deduplicated against the queued one).
    await app.webhook(syncSuccessPayload({ connectionId: 'gmail-alice', providerConfigKey: 'google-mail', ...SYNCS.gmail, responseResults: { added: 9 } }));
    expect(await query(`SELECT status, error FROM webhook_events ORDER BY id`)).toEqual([
      { status: 'processed', error: 'connection paused: no sync started' },
      { status: 'processed', error: null },
    ]);
    expect(await query(`SELECT count(*)::int AS n FROM jobs`)).toEqual([{ n: 1 }]);
  });

  it('is 404 for another user\'s or a deleted connection, 400 for a malformed id, 405 for GET', async () => {
    const gmail = await data.connection({ userId: 'alice', provider: 'gmail' });
    const deleted = await data.connection({ userId: 'alice', provider: 'calendar', status: 'deleted' });
    for (const action of ['pause', 'resume']) {
      expect((await call('POST', `/api/connections/${gmail}/${action}`, 'bob')).status).toBe(404);
      expect((await call('POST', `/api/connections/${deleted}/${action}`)).status).toBe(404);
      expect((await call('POST', `/api/connections/x1/${action}`)).status).toBe(400);
      const get = await fetch(`${app.url}/api/connections/${gmail}/${action}`);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    }
    expect(await query(`SELECT status FROM connections WHERE id = $1`, [gmail])).toEqual([{ status: 'active' }]);
    expect(await query(`SELECT count(*)::int AS n FROM jobs`)).toEqual([{ n: 0 }]);
  });
});

describe('GET /api/cron/sync-stale', () => {
  const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
  const cron = (authorization?: string) =>
    fetch(`${app.url}/api/cron/sync-stale`, { headers: authorization ? { authorization } : {} });

  it('is 401 without the cron secret, and enqueues nothing', async () => {
    await data.connection({ userId: 'alice', provider: 'gmail', lastSyncedAt: ago(600) });
    for (const response of [await cron(), await cron('Bearer wrong-secret-0123456789'), await cron(CRON_SECRET)]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect(await query(`SELECT count(*)::int AS n FROM jobs`)).toEqual([{ n: 0 }]);
  });

  it('enqueues an incremental sync of exactly the active connections idle longer than SYNC_STALE_AFTER_MINUTES', async () => {
    const stale = await data.connection({ userId: 'alice', provider: 'gmail', lastSyncedAt: ago(120), createdAt: ago(10_000) });
    await data.connection({ userId: 'alice', provider: 'calendar', lastSyncedAt: ago(10), createdAt: ago(10_000) });
    const neverSynced = await data.connection({ userId: 'bob', provider: 'calendar', lastSyncedAt: null, createdAt: ago(120) });
    await data.connection({ userId: 'bob', provider: 'gmail', lastSyncedAt: null, createdAt: ago(5) });
    await data.connection({ userId: 'carol', provider: 'gmail', status: 'paused', lastSyncedAt: ago(120) });
    await data.connection({ userId: 'carol', provider: 'calendar', status: 'error', lastSyncedAt: ago(120) });
    await data.connection({ userId: 'dave', provider: 'gmail', status: 'deleted', lastSyncedAt: ago(120) });
    const salesforce = await data.connection({ userId: 'carol', provider: 'salesforce', lastSyncedAt: ago(180) });

    const response = await cron(`Bearer ${CRON_SECRET}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ connections: 3, enqueued: 6 });
    const jobs = await query(`SELECT kind, user_id, payload, priority, status FROM jobs ORDER BY id`);
    expect(jobs).toEqual([
      { kind: 'sync.salesforce', user_id: 'carol', payload: { connectionId: salesforce, stream: 'Lead', mode: 'incremental' }, priority: 5, status: 'queued' },
      { kind: 'sync.salesforce', user_id: 'carol', payload: { connectionId: salesforce, stream: 'Contact', mode: 'incremental' }, priority: 5, status: 'queued' },
      { kind: 'sync.salesforce', user_id: 'carol', payload: { connectionId: salesforce, stream: 'Account', mode: 'incremental' }, priority: 5, status: 'queued' },
      { kind: 'sync.salesforce', user_id: 'carol', payload: { connectionId: salesforce, stream: 'Opportunity', mode: 'incremental' }, priority: 5, status: 'queued' },
      { kind: 'sync.gmail', user_id: 'alice', payload: { connectionId: stale, stream: 'threads', mode: 'incremental' }, priority: 5, status: 'queued' },
      { kind: 'sync.calendar', user_id: 'bob', payload: { connectionId: neverSynced, stream: 'events', mode: 'incremental' }, priority: 5, status: 'queued' },
    ]);
    // Cron may fire twice: the syncs already queued are found, not duplicated.
    const twice = await cron(`Bearer ${CRON_SECRET}`);
    expect(await twice.json()).toEqual({ connections: 3, enqueued: 6 });
    expect(await query(`SELECT count(*)::int AS n FROM jobs`)).toEqual([{ n: 6 }]);
  });
});
