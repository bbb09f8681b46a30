import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authPayload, signWebhookBody } from '../dev/sandbox/index';
import { resetConfigForTests } from '../lib/config';
import { closeDb } from '../lib/database';
import { claim, settle } from '../lib/jobs';
import { ADMIN_API_KEY, CRON_SECRET } from './helpers/server';
import { SIGNING_KEY, useSandboxedApp } from './helpers/sandbox-app';

/**
 * What the hostile-input probe of issue 9 found, one regression test per cause, over real HTTP: ids
 * Nango would resolve elsewhere, a path id doubled in the query, webhook replays, text Postgres cannot
 * store, impossible dates and forged cursors, prototype names, the local server's own answers, CORS,
 * and the queue and connection states a user drives.
 */
const ORIGIN = 'https://app.example.com';
const app = useSandboxedApp({ WEBHOOK_KICK_RUNNER: 'false', RATE_LIMIT_PER_MINUTE: '100000', CORS_ORIGINS: `${ORIGIN},http://localhost:5173` });
beforeAll(() => {
  app.sandbox.ensureUser('alice');
  app.sandbox.ensureUser('bob');
});
beforeEach(async () => {
  await app.database.pool.query('TRUNCATE jobs, job_users, webhook_events, connections CASCADE');
});

const query = async (text: string, values: unknown[] = []) => (await app.database.pool.query(text, values)).rows;

async function call(path: string, init: RequestInit & { user?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.user) headers.set('authorization', `Bearer ${await app.token(init.user)}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return fetch(app.url + path, { ...init, headers });
}

/** An error answer: the status, the envelope, and the request id in both places. */
async function expectError(response: Response, status: number, code?: string) {
  expect(response.status).toBe(status);
  const requestId = response.headers.get('x-request-id');
  expect(requestId).toBeTruthy();
  const body = await response.json();
  expect(body.error).toMatchObject({ requestId, ...(code ? { code } : {}) });
  return body.error as { code: string; message: string; details?: { path: string }[] };
}

describe('ids', () => {
  it('a connection id is validated to the characters Nango accepts and cannot address another Nango route', async () => {
    // Valid characters for Nango, but encoded into one path segment: Nango knows no such connection.
    for (const connectionId of ['../../connections', 'x/../y', 'gmail-alice/../gmail-bob']) {
      const error = await expectError(await call('/api/connections', { method: 'POST', user: 'alice', body: JSON.stringify({ provider: 'gmail', connectionId }) }), 422);
      expect(error.details).toEqual([{ path: 'connectionId', message: 'unknown to Nango' }]);
    }
    for (const connectionId of ['a?provider_config_key=b&', '..', '.', 'a#b', 'tab\there', '']) {
      await expectError(await call('/api/connections', { method: 'POST', user: 'alice', body: JSON.stringify({ provider: 'gmail', connectionId }) }), 400, 'validation_failed');
    }
    expect(await query('SELECT * FROM connections')).toEqual([]);
    // The real one still connects.
    expect((await call('/api/connections', { method: 'POST', user: 'alice', body: JSON.stringify({ provider: 'gmail', connectionId: 'gmail-alice' }) })).status).toBe(201);
  });

  it('on an [id] route the path wins: an id in the query as well is 400, on every route', async () => {
    const [job] = await query(`WITH u AS (INSERT INTO job_users (user_id) VALUES ('alice') ON CONFLICT DO NOTHING)
      INSERT INTO jobs (kind, user_id, payload) VALUES ('sync.gmail', 'alice', '{"connectionId":1,"stream":"threads","mode":"incremental"}') RETURNING id`);
    const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };
    expect((await call(`/api/admin/jobs/${job.id}`, { headers: admin })).status).toBe(200);
    await expectError(await call(`/api/admin/jobs/999999?id=${job.id}`, { headers: admin }), 400, 'validation_failed');
    await expectError(await call(`/api/admin/jobs/999999/retry?id=${job.id}`, { method: 'POST', headers: admin }), 400);
    await expectError(await call(`/api/syncs/999999?id=${job.id}`, { user: 'alice' }), 400);
    await expectError(await call(`/api/syncs/999999?id=${job.id}`, { method: 'DELETE', user: 'alice' }), 400);
    await expectError(await call(`/api/crm/lead?object=contact`, { user: 'alice' }), 400);
    // vercel dev, given a client's ?id=, passes that one alone (the path keeps its own): still refused.
    const { GET } = await import('../api/admin/jobs/[id]');
    const asVercelDev = await GET(new Request(`http://localhost/api/admin/jobs/999999?id=${job.id}`, { headers: admin }));
    await expectError(asVercelDev, 400, 'validation_failed');
    const { POST } = await import('../api/admin/jobs/[id]/retry');
    await expectError(await POST(new Request(`http://localhost/api/admin/jobs/999999/retry?id=${job.id}`, { method: 'POST', headers: admin })), 400);
    expect((await GET(new Request(`http://localhost/api/admin/jobs/${job.id}?id=${job.id}`, { headers: admin }))).status).toBe(200);
    expect((await query('SELECT status FROM jobs'))[0].status).toBe('queued');
  });

  it('prototype names as a path parameter name nothing (404), never a 500', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      await expectError(await call(`/api/crm/${name}`, { user: 'alice' }), 404, 'not_found');
    }
  });
});

describe('webhook replays', () => {
  const creation = () => authPayload({ connectionId: 'gmail-alice', providerConfigKey: 'google-mail', endUser: { endUserId: 'alice' } });

  it('a delivery replayed after its de-duplication row was pruned does not revive a deleted connection', async () => {
    expect((await app.webhook(creation())).status).toBe(202);
    const [connection] = await query('SELECT id FROM connections');
    expect((await call(`/api/connections/${connection.id}`, { method: 'DELETE', user: 'alice' })).status).toBe(200);
    await query('DELETE FROM webhook_events');
    const jobsBefore = (await query('SELECT count(*)::int AS n FROM jobs'))[0].n;
    expect((await app.webhook(creation())).status).toBe(202);
    expect(await query('SELECT status FROM connections')).toEqual([{ status: 'deleted' }]);
    expect((await query('SELECT count(*)::int AS n FROM jobs'))[0].n).toBe(jobsBefore);
    expect(await query('SELECT status, error FROM webhook_events')).toEqual([
      { status: 'ignored', error: 'the connection was deleted by its user; a webhook does not revive it' },
    ]);
    // A refresh failure about it changes nothing either; the frontend's POST (checked with Nango) revives it.
    await app.webhook(authPayload({ connectionId: 'gmail-alice', providerConfigKey: 'google-mail', operation: 'refresh', success: false, error: { type: 'x', description: 'y' } }));
    expect(await query('SELECT status FROM connections')).toEqual([{ status: 'deleted' }]);
    const revived = await call('/api/connections', { method: 'POST', user: 'alice', body: JSON.stringify({ provider: 'gmail', connectionId: 'gmail-alice' }) });
    expect(revived.status).toBe(201);
    expect(await query('SELECT status FROM connections')).toEqual([{ status: 'active' }]);
  });

  it('retention keeps auth deliveries, so an old one replayed is recognised as the duplicate it is', async () => {
    expect((await app.webhook(creation())).status).toBe(202);
    await query(`UPDATE webhook_events SET received_at = now() - interval '400 days'`);
    const response = await call('/api/cron/maintenance', { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect((await response.json()).deleted.webhookEvents).toBe(0);
    await query(`UPDATE connections SET status = 'error', last_error = 'token refresh failed'`);
    await app.webhook(creation());
    expect(await query('SELECT status FROM connections')).toEqual([{ status: 'error' }]);
  });
});

describe('text Postgres cannot store, and JSON nested too deep', () => {
  it('a NUL in any text filter is 400 naming it', async () => {
    for (const path of [
      '/api/emails?subjectContains=a%00b',
      '/api/emails?sender=a%00@b.com',
      '/api/calendar/events?q=%00',
      '/api/crm/lead?company=ac%00me',
      '/api/crm/lead?q=x%00',
      '/api/crm/opportunity?stageName=%00',
      '/api/crm/account?industry=a%00',
      '/api/connections?cursor=%00',
    ]) {
      await expectError(await call(path, { user: 'alice' }), 400, 'validation_failed');
    }
  });

  it('a NUL or a lone surrogate in a JSON body, or nesting thousands deep, is 400 and stores nothing', async () => {
    const bodies = [
      '{"provider":"gmail","connectionId":"gmail-\\u0000alice"}',
      '{"provider":"gmail","connectionId":"gmail-\\ud800alice"}',
      '{"provider":"gmail","connectionId":"gmail-alice","x\\u0000":1}',
      `{"provider":"gmail","connectionId":"gmail-alice","deep":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      '{"__proto__":{"admin":true},"provider":"gmail","connectionId":"gmail-alice"}',
    ];
    for (const body of bodies) await expectError(await call('/api/connections', { method: 'POST', user: 'alice', body }), 400);
    expect(await query('SELECT * FROM connections')).toEqual([]);
  });

  it('a signed webhook with a NUL, a lone surrogate or deep nesting in its strings is 400 and stores nothing', async () => {
    const payload = (extra: string) =>
      `{"type":"auth","connectionId":"gmail-alice","providerConfigKey":"google-mail","operation":"creation","success":true,"endUser":{"endUserId":"alice"}${extra}}`;
    for (const raw of [
      payload(',"environment":"dev\\u0000"'),
      payload(',"provider":"\\udc00"'),
      payload(`,"tags":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}`),
      `{"type":"mystery\\u0000"}`,
      `{"type":"forward","payload":{"note":"\\u0000"}}`,
    ]) {
      const response = await fetch(`${app.url}/api/webhooks/nango`, { method: 'POST', headers: { 'content-type': 'application/json', ...signWebhookBody(SIGNING_KEY, raw) }, body: raw });
      await expectError(response, 400, 'validation_failed');
    }
    expect(await query('SELECT count(*)::int AS n FROM webhook_events')).toEqual([{ n: 0 }]);
  });
});

describe('dates and cursors', () => {
  it('a date outside years 0001-9999, once its offset is applied, is 400; a forged cursor is 400', async () => {
    for (const path of [
      '/api/emails?after=0000-01-01',
      '/api/emails?after=0001-01-01T00:00:00%2B01:00',
      '/api/emails?before=9999-12-31T23:00:00-05:00',
      '/api/interactions?after=0000-12-31T00:00:00Z',
      '/api/calendar/events?from=0001-01-01T00:30:00%2B14:00',
      '/api/calendar/events?to=9999-12-31T23:59:59-12:00',
      `/api/emails?cursor=${Buffer.from('{"t":"0000-01-01T00:00:00.000000Z","i":1}').toString('base64url')}`,
      `/api/emails?cursor=${Buffer.from('{"t":"2026-02-30T00:00:00.000000Z","i":1}').toString('base64url')}`,
      `/api/interactions?cursor=${Buffer.from('{"t":"2026-01-01T00:00:00.000000Z","i":1e30}').toString('base64url')}`,
      '/api/connections?cursor=not-a-cursor',
    ]) {
      await expectError(await call(path, { user: 'alice' }), 400, 'validation_failed');
    }
    expect((await call('/api/emails?after=0001-01-01&before=9999-12-31', { user: 'alice' })).status).toBe(200);
  });

  it('limit is digits only, 1 to 100', async () => {
    for (const limit of ['0x10', '1e2', '+5', ' 5', '0', '101', '-1', '5.0', '']) {
      await expectError(await call(`/api/emails?limit=${encodeURIComponent(limit)}`, { user: 'alice' }), 400, 'validation_failed');
    }
    expect((await call('/api/emails?limit=100', { user: 'alice' })).status).toBe(200);
  });

  it('a date_range whose end the providers cannot express is 422 at request time, and queues nothing', async () => {
    await query(`INSERT INTO connections (user_id, provider, nango_connection_id, provider_config_key) VALUES ('alice', 'gmail', 'gmail-alice', 'google-mail')`);
    const sync = (startDate: string, endDate: string) =>
      call('/api/syncs', { method: 'POST', user: 'alice', body: JSON.stringify({ providers: ['gmail'], mode: 'date_range', startDate, endDate }) });
    await expectError(await sync('2026-01-01', '9999-12-31'), 422, 'unprocessable');
    await expectError(await sync('1900-01-01', '2026-01-01'), 422, 'unprocessable');
    await expectError(await sync('2026-01-01', '9999-12-31T23:00:00-05:00'), 400, 'validation_failed');
    expect(await query('SELECT * FROM jobs')).toEqual([]);
    expect((await sync('2026-01-01', '2026-02-01')).status).toBe(202);
  });
});

describe('the HTTP surface', () => {
  it('the local server answers an unknown path, an unexported method and bad percent-encoding with the envelope', async () => {
    const unknown = await call('/api/nothing-here');
    await expectError(unknown, 404, 'not_found');
    const method = await call('/api/health', { method: 'DELETE' });
    expect(method.headers.get('allow')).toBe('GET');
    await expectError(method, 405, 'method_not_allowed');
    await expectError(await call('/api/emails/%E0%A4%A', { user: 'alice' }), 400, 'validation_failed');
    await expectError(await call('/api/crm/%', { user: 'alice' }), 400, 'validation_failed');
    const kept = await call('/api/nothing', { headers: { 'x-request-id': 'trace-abc-12345' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-abc-12345');
  });

  it('a body that is not declared JSON is 415', async () => {
    const body = JSON.stringify({ provider: 'gmail', connectionId: 'gmail-alice' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      await expectError(await call('/api/connections', { method: 'POST', user: 'alice', body, headers: { 'content-type': type } }), 415, 'unsupported_media_type');
    }
    expect((await call('/api/connections', { method: 'POST', user: 'alice', body, headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(201);
  });

  it('without DATABASE_URL (plain vercel dev) health and the API say 503 naming it, not 500', async () => {
    const saved = process.env.DATABASE_URL;
    const token = await app.token('alice');
    process.env.DATABASE_URL = '';
    resetConfigForTests();
    await closeDb();
    try {
      const { GET } = await import('../api/health');
      const response = await GET(new Request('http://localhost/api/health'));
      expect(response.status).toBe(503);
      const body = await response.json();
      expect(body).toMatchObject({ failing: ['database'], checks: [{ name: 'database', ok: false, detail: 'DATABASE_URL is not set' }] });
      const { GET: listEmails } = await import('../api/emails/index');
      const emails = await listEmails(new Request('http://localhost/api/emails', { headers: { authorization: `Bearer ${token}` } }));
      const error = await expectError(emails, 503, 'dependency_unavailable');
      expect(error.details).toEqual([{ path: 'DATABASE_URL', message: expect.stringContaining('DATABASE_URL: not set') }]);
    } finally {
      process.env.DATABASE_URL = saved;
      resetConfigForTests();
    }
  });
});

describe('CORS', () => {
  it('answers a preflight from an allowed origin, refuses one from another; no credentials', async () => {
    const preflight = (origin: string, method = 'POST') =>
      call('/api/connections', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' } });
    const allowed = await preflight(ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(allowed.headers.get('vary')).toContain('Origin');
    await expectError(await preflight('https://evil.example'), 403, 'forbidden');
    await expectError(await preflight(ORIGIN, 'PUT'), 405);
  });

  it('an actual response names the allowed origin, exposes the request id, and always varies on Origin', async () => {
    const allowed = await call('/api/connections', { user: 'alice', headers: { origin: 'http://localhost:5173' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(allowed.headers.get('vary')).toContain('Origin');
    const refusedCaller = await call('/api/connections', { headers: { origin: ORIGIN } });
    expect(refusedCaller.status).toBe(401);
    expect(refusedCaller.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    const other = await call('/api/connections', { user: 'alice', headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.headers.get('vary')).toContain('Origin');
  });

  it('webhooks, crons and admin endpoints answer no CORS', async () => {
    for (const path of ['/api/webhooks/nango', '/api/cron/run-jobs', '/api/admin/jobs/1']) {
      const response = await call(path, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
      expect(response.status).toBe(405);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    }
    const cron = await call('/api/cron/run-jobs', { headers: { origin: ORIGIN } });
    expect(cron.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('states a user drives', () => {
  async function connectedGmail() {
    const response = await call('/api/connections', { method: 'POST', user: 'alice', body: JSON.stringify({ provider: 'gmail', connectionId: 'gmail-alice' }) });
    expect(response.status).toBe(201);
    return (await response.json()) as { connection: { id: number }; jobIds: number[] };
  }

  it('a second POST of a connection that has synced answers 200 and queues no second backfill', async () => {
    const { connection } = await connectedGmail();
    await query(`UPDATE jobs SET status = 'succeeded', finished_at = now()`);
    await query(`UPDATE connections SET last_synced_at = now()`);
    const again = await call('/api/connections', { method: 'POST', user: 'alice', body: JSON.stringify({ provider: 'gmail', connectionId: 'gmail-alice' }) });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ connection: { id: connection.id }, jobIds: [] });
    expect((await query(`SELECT count(*)::int AS n FROM jobs`))[0].n).toBe(1);
  });

  it('resume while the sync job runs queues that job again once it stops; the same after delete and re-connect', async () => {
    const { connection, jobIds } = await connectedGmail();
    const [running] = await claim(app.database.db, { runnerId: 'probe', limit: 1, leaseSeconds: 60, perUserCap: 10 });
    expect(running!.id).toBe(jobIds[0]);
    expect((await call(`/api/connections/${connection.id}/pause`, { method: 'POST', user: 'alice' })).status).toBe(200);
    const resumed = await call(`/api/connections/${connection.id}/resume`, { method: 'POST', user: 'alice' });
    expect(resumed.status).toBe(202);
    expect((await resumed.json()).jobIds).toEqual([running!.id]);
    // The runner sees the cancellation and stops the handler; the resume's rerun wins over it.
    await settle(app.database.db, 'probe', [{ id: running!.id, attempt: running!.attempts, outcome: 'retry', error: 'aborted: cancelled', retryAt: new Date(Date.now() + 60_000) }]);
    const [after] = await query(`SELECT status, attempts, cancel_requested_at, run_at <= now() AS runnable FROM jobs WHERE id = $1`, [running!.id]);
    expect(after).toEqual({ status: 'queued', attempts: 0, cancel_requested_at: null, runnable: true });

    // Delete while it runs, then the user connects it again: the backfill runs again.
    const [again] = await claim(app.database.db, { runnerId: 'probe', limit: 1, leaseSeconds: 60, perUserCap: 10 });
    expect((await call(`/api/connections/${connection.id}`, { method: 'DELETE', user: 'alice' })).status).toBe(200);
    expect((await call('/api/connections', { method: 'POST', user: 'alice', body: JSON.stringify({ provider: 'gmail', connectionId: 'gmail-alice' }) })).status).toBe(201);
    await settle(app.database.db, 'probe', [{ id: again!.id, attempt: again!.attempts, outcome: 'succeeded' }]);
    expect(await query(`SELECT status FROM jobs WHERE id = $1`, [again!.id])).toEqual([{ status: 'queued' }]);

    // A pause alone still ends it cancelled.
    const [third] = await claim(app.database.db, { runnerId: 'probe', limit: 1, leaseSeconds: 60, perUserCap: 10 });
    await call(`/api/connections/${connection.id}/pause`, { method: 'POST', user: 'alice' });
    await settle(app.database.db, 'probe', [{ id: third!.id, attempt: third!.attempts, outcome: 'succeeded' }]);
    expect(await query(`SELECT status FROM jobs WHERE id = $1`, [third!.id])).toEqual([{ status: 'cancelled' }]);
  });

  it('a job that succeeds keeps no error of an earlier attempt', async () => {
    const { jobIds } = await connectedGmail();
    const [first] = await claim(app.database.db, { runnerId: 'probe', limit: 1, leaseSeconds: 60, perUserCap: 10 });
    await settle(app.database.db, 'probe', [{ id: first!.id, attempt: first!.attempts, outcome: 'retry', error: 'provider 503', retryAt: new Date() }]);
    expect(await query(`SELECT last_error FROM jobs WHERE id = $1`, [jobIds[0]])).toEqual([{ last_error: 'provider 503' }]);
    const [second] = await claim(app.database.db, { runnerId: 'probe', limit: 1, leaseSeconds: 60, perUserCap: 10 });
    await settle(app.database.db, 'probe', [{ id: second!.id, attempt: second!.attempts, outcome: 'succeeded' }]);
    expect(await query(`SELECT status, last_error FROM jobs WHERE id = $1`, [jobIds[0]])).toEqual([{ status: 'succeeded', last_error: null }]);
  });
});
