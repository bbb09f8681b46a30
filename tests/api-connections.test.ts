import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROJECT_ID, useSandboxedApp } from './helpers/sandbox-app';

/** Firebase authentication and api/connections over real HTTP; tokens minted by the sandbox. */
const app = useSandboxedApp({ WEBHOOK_KICK_RUNNER: 'false' });
beforeAll(() => {
  app.sandbox.ensureUser('alice');
  app.sandbox.ensureUser('bob');
});
beforeEach(async () => {
  await app.database.pool.query('TRUNCATE jobs, job_users, webhook_events, connections CASCADE');
});

const api = async (path: string, init: RequestInit & { token?: string } = {}) => {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(app.url + path, { ...init, headers });
};

async function connect(userId: string, provider: string, connectionId: string) {
  return api('/api/connections', { method: 'POST', token: await app.token(userId), body: JSON.stringify({ provider, connectionId }) });
}

describe('authentication', () => {
  const expectUnauthenticated = async (response: Response) => {
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    const body = await response.json();
    expect(body.error).toMatchObject({ code: 'unauthenticated', requestId: expect.any(String) });
  };

  it('accepts a valid Firebase ID token', async () => {
    const response = await api('/api/connections', { token: await app.token('alice') });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: [], nextCursor: null });
  });

  it('refuses a missing, malformed, expired, foreign-audience, foreign-issuer or unknown-key token with 401', async () => {
    await expectUnauthenticated(await api('/api/connections'));
    await expectUnauthenticated(await api('/api/connections', { headers: { authorization: 'Bearer not-a-jwt' } }));
    await expectUnauthenticated(await api('/api/connections', { headers: { authorization: 'Basic YWxpY2U6cHc=' } }));
    const expired = await app.sandbox.mintIdToken('alice', { expiresInSeconds: -60 });
    await expectUnauthenticated(await api('/api/connections', { token: expired }));
    const otherAudience = await app.sandbox.mintIdToken('alice', { audience: 'another-project' });
    await expectUnauthenticated(await api('/api/connections', { token: otherAudience }));
    const otherIssuer = await app.sandbox.mintIdToken('alice', { issuer: 'https://securetoken.google.com/another-project' });
    await expectUnauthenticated(await api('/api/connections', { token: otherIssuer }));
    const unknownKey = await app.sandbox.mintIdToken('alice', { unknownKey: true });
    await expectUnauthenticated(await api('/api/connections', { token: unknownKey }));
    const future = await app.sandbox.mintIdToken('alice', { issuedAt: Math.floor(Date.now() / 1000) + 3_600 });
    await expectUnauthenticated(await api('/api/connections', { token: future }));
    expect(PROJECT_ID).toBe('switchyard-test');
  });
});

describe('api/connections', () => {
  it('POST records a connection Nango knows and enqueues its initial backfill', async () => {
    const response = await connect('alice', 'calendar', 'calendar-alice');
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(body.connection).toMatchObject({ userId: 'alice', provider: 'calendar', nangoConnectionId: 'calendar-alice', status: 'active' });
    expect(body.jobIds).toHaveLength(1);
    const { rows } = await app.database.pool.query(`SELECT kind, payload->>'mode' AS mode FROM jobs`);
    expect(rows).toEqual([{ kind: 'sync.calendar', mode: 'initial' }]);
    // Connecting again is idempotent: the same connection, the queued backfill returned.
    const again = await (await connect('alice', 'calendar', 'calendar-alice')).json();
    expect(again.connection.id).toBe(body.connection.id);
    expect(again.jobIds).toEqual(body.jobIds);
  });

  it('POST refuses a connection Nango does not know (422), another user\'s (422), and a bad body (400)', async () => {
    const unknown = await connect('alice', 'gmail', 'gmail-nobody-at-all');
    expect(unknown.status).toBe(422);
    expect((await unknown.json()).error.details).toEqual([{ path: 'connectionId', message: 'unknown to Nango' }]);
    const foreign = await connect('alice', 'gmail', 'gmail-bob');
    expect(foreign.status).toBe(422);
    const bad = await api('/api/connections', { method: 'POST', token: await app.token('alice'), body: JSON.stringify({ provider: 'myspace' }) });
    expect(bad.status).toBe(400);
    const details = (await bad.json()).error.details.map((d: { path: string }) => d.path).sort();
    expect(details).toEqual(['connectionId', 'provider']);
    const notJson = await api('/api/connections', { method: 'POST', token: await app.token('alice'), body: '{nope' });
    expect(notJson.status).toBe(400);
    const { rows } = await app.database.pool.query(`SELECT count(*)::int AS n FROM connections`);
    expect(rows[0].n).toBe(0);
  });

  it('GET lists only the caller\'s connections, newest first, with a cursor', async () => {
    await connect('alice', 'gmail', 'gmail-alice');
    await connect('alice', 'calendar', 'calendar-alice');
    await connect('alice', 'salesforce', 'salesforce-alice');
    await connect('bob', 'gmail', 'gmail-bob');
    const token = await app.token('alice');
    const first = await (await api('/api/connections?limit=2', { token })).json();
    expect(first.data.map((c: { provider: string }) => c.provider)).toEqual(['salesforce', 'calendar']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await (await api(`/api/connections?limit=2&cursor=${first.nextCursor}`, { token })).json();
    expect(second).toMatchObject({ data: [expect.objectContaining({ provider: 'gmail', connectionId: 'gmail-alice' })], nextCursor: null });
    expect((await api('/api/connections?limit=0', { token })).status).toBe(400);
    expect((await api('/api/connections?limit=101', { token })).status).toBe(400);
    expect((await api('/api/connections?cursor=garbage', { token })).status).toBe(400);
  });

  it('DELETE stops the connection\'s jobs; another user\'s connection is 404; purge removes it', async () => {
    const created = await (await connect('alice', 'salesforce', 'salesforce-alice')).json();
    const id = created.connection.id;
    const { rows: [running] } = await app.database.pool.query(
      `UPDATE jobs SET status = 'running', locked_by = 'r', locked_until = now() + interval '1 minute', attempts = 1
       WHERE id = (SELECT min(id) FROM jobs) RETURNING id`,
    );
    await app.database.pool.query(`UPDATE job_users SET running = 1`);
    expect((await api(`/api/connections/${id}`, { method: 'DELETE', token: await app.token('bob') })).status).toBe(404);
    expect((await api(`/api/connections/abc`, { method: 'DELETE', token: await app.token('alice') })).status).toBe(400);
    const response = await api(`/api/connections/${id}`, { method: 'DELETE', token: await app.token('alice') });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id, deleted: true, cancelledJobs: 4, purged: false });
    const { rows } = await app.database.pool.query(`SELECT id, status, cancel_requested_at IS NOT NULL AS asked FROM jobs ORDER BY id`);
    expect(rows.filter((r) => r.status === 'cancelled')).toHaveLength(3);
    expect(rows.find((r) => r.id === running.id)).toMatchObject({ status: 'running', asked: true });
    const list = await (await api('/api/connections', { token: await app.token('alice') })).json();
    expect(list.data).toEqual([]);
    expect((await api(`/api/connections/${id}`, { method: 'DELETE', token: await app.token('alice') })).status).toBe(404);

    const again = await (await connect('alice', 'gmail', 'gmail-alice')).json();
    const purge = await api(`/api/connections/${again.connection.id}?purge=true`, { method: 'DELETE', token: await app.token('alice') });
    expect(await purge.json()).toMatchObject({ purged: true });
    const { rows: left } = await app.database.pool.query(`SELECT nango_connection_id FROM connections`);
    expect(left).toEqual([{ nango_connection_id: 'salesforce-alice' }]);
  });

  it('answers 405 for a method the route does not export', async () => {
    const response = await api('/api/connections/1', { method: 'GET', token: await app.token('alice') });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('DELETE, OPTIONS');
  });
});
