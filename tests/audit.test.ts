import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../lib/audit';
import { ADMIN_API_KEY } from './helpers/server';
import { startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';

/**
 * The audit log over real HTTP: the sensitive operations leave an entry (actor, request id, IP,
 * time), a user reads their own, an operator reads everyone's.
 */
let app: SandboxedApp;

beforeAll(async () => {
  app = await startSandboxedApp({ WEBHOOK_KICK_RUNNER: 'false', RATE_LIMIT_PER_MINUTE: '100000' });
  app.sandbox.ensureUser('alice');
  app.sandbox.ensureUser('bob');
});
afterAll(async () => {
  await app?.close();
});

async function api(path: string, init: RequestInit & { token?: string; requestId?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  if (init.requestId) headers.set('x-request-id', init.requestId);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(app.url + path, { ...init, headers });
}

describe('audit log', () => {
  it('records connections created and deleted, API keys created and revoked, and admin retries', async () => {
    const alice = await app.token('alice');
    const created = await api('/api/connections', {
      method: 'POST',
      token: alice,
      requestId: 'req-audit-connect',
      body: JSON.stringify({ provider: 'calendar', connectionId: 'calendar-alice' }),
    });
    expect(created.status).toBe(201);
    const { connection } = await created.json();
    expect((await api(`/api/connections/${connection.id}`, { method: 'DELETE', token: alice, requestId: 'req-audit-delete' })).status).toBe(200);

    const key = await api('/api/api-keys', { method: 'POST', token: alice, body: JSON.stringify({ name: 'ci', scopes: ['read'] }) });
    expect(key.status).toBe(201);
    const { apiKey } = await key.json();
    expect((await api(`/api/api-keys/${apiKey.id}`, { method: 'DELETE', token: alice })).status).toBe(200);

    const { rows } = await app.database.pool.query(
      `INSERT INTO jobs (kind, user_id, status, finished_at) VALUES ('sync.calendar', 'alice', 'dead', now()) RETURNING id`,
    );
    const retried = await api(`/api/admin/jobs/${rows[0].id}/retry`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_API_KEY}` } });
    expect(retried.status).toBe(202);

    const response = await api('/api/audit', { token: alice });
    expect(response.status).toBe(200);
    const { data, nextCursor } = await response.json();
    expect(nextCursor).toBeNull();
    expect(data.map((entry: { action: string }) => entry.action)).toEqual([
      'admin.job_retried',
      'api_key.revoked',
      'api_key.created',
      'connection.deleted',
      'connection.created',
    ]);
    const connect = data.find((entry: { action: string }) => entry.action === 'connection.created');
    expect(connect).toMatchObject({
      userId: 'alice',
      actorType: 'user',
      actorId: 'alice',
      targetType: 'connection',
      targetId: String(connection.id),
      requestId: 'req-audit-connect',
      ip: '127.0.0.1',
      details: { provider: 'calendar' },
    });
    expect(Date.now() - Date.parse(connect.occurredAt)).toBeLessThan(60_000);
    expect(data.find((entry: { action: string }) => entry.action === 'admin.job_retried')).toMatchObject({
      actorType: 'admin',
      targetType: 'job',
      targetId: String(rows[0].id),
    });
  });

  it("shows a user only their own entries, and an operator everyone's", async () => {
    await recordAudit(app.database.db, { action: 'unit.created', userId: 'bob', actor: { type: 'user', id: 'bob' }, target: { type: 'unit', id: 9 } });
    const bob = await (await api('/api/audit', { token: await app.token('bob') })).json();
    expect(bob.data.map((entry: { action: string }) => entry.action)).toEqual(['unit.created']);

    const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };
    const all = await (await api('/api/audit?limit=100', { headers: admin })).json();
    expect(new Set(all.data.map((entry: { userId: string }) => entry.userId))).toEqual(new Set(['alice', 'bob']));
    const onlyBob = await (await api('/api/audit?userId=bob', { headers: admin })).json();
    expect(onlyBob.data).toHaveLength(1);

    // Pages: newest first, the cursor continues where the page ended.
    const first = await (await api('/api/audit?limit=2', { headers: admin })).json();
    const second = await (await api(`/api/audit?limit=100&cursor=${first.nextCursor}`, { headers: admin })).json();
    expect([...first.data, ...second.data].map((e: { id: number }) => e.id)).toEqual(all.data.map((e: { id: number }) => e.id));
  });

  it('refuses callers without credentials, a user filtering by another user, and bad input', async () => {
    expect((await api('/api/audit')).status).toBe(401);
    const bob = await app.token('bob');
    expect((await api('/api/audit?userId=alice', { token: bob })).status).toBe(400);
    expect((await api('/api/audit?action=nope', { token: bob })).status).toBe(400);
    expect((await api('/api/audit?cursor=garbage', { token: bob })).status).toBe(400);
  });
});
