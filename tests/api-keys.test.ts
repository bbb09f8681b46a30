import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ID, startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';

/**
 * API keys over real HTTP: created, listed and revoked with a Firebase token, shown once, stored
 * hashed, scoped (read / write), and acting as their user only. Also the Firebase token rules that
 * share the Authorization header with them.
 */
let app: SandboxedApp;

beforeAll(async () => {
  app = await startSandboxedApp({ RATE_LIMIT_PER_MINUTE: '100000', WEBHOOK_KICK_RUNNER: 'false' });
});
afterAll(async () => {
  await app.close();
});

const json = { 'content-type': 'application/json' };
const bearer = (credential: string) => ({ authorization: `Bearer ${credential}` });

async function createKey(userId: string, body: object) {
  const response = await fetch(`${app.url}/api/api-keys`, {
    method: 'POST',
    headers: { ...json, ...bearer(await app.token(userId)) },
    body: JSON.stringify(body),
  });
  return { response, body: await response.json() };
}

describe('API keys', () => {
  it('are created with a Firebase token and shown once; the list never shows the secret', async () => {
    const { response, body } = await createKey('alice', { name: 'ci script', scopes: ['read'], expiresInDays: 30 });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(body.key).toMatch(/^sk_[A-Za-z0-9_-]{43}$/);
    expect(body.apiKey).toMatchObject({ name: 'ci script', scopes: ['read'], prefix: body.key.slice(0, 11), lastUsedAt: null });
    const expires = Date.parse(body.apiKey.expiresAt) - Date.now();
    expect(expires).toBeGreaterThan(29.9 * 86_400_000);
    expect(expires).toBeLessThan(30.1 * 86_400_000);

    const list = await fetch(`${app.url}/api/api-keys`, { headers: bearer(await app.token('alice')) });
    expect(list.status).toBe(200);
    const listed = await list.json();
    expect(listed.data).toEqual([expect.objectContaining({ id: body.apiKey.id, prefix: body.apiKey.prefix, name: 'ci script' })]);
    expect(JSON.stringify(listed)).not.toContain(body.key);

    // Stored hashed: no column holds the key.
    const { rows } = await app.database.pool.query('SELECT * FROM api_keys WHERE id = $1', [body.apiKey.id]);
    expect(rows[0].key_hash).toBe(createHash('sha256').update(body.key).digest('hex'));
    expect(JSON.stringify(rows[0])).not.toContain(body.key);
  });

  it('act as their user: the same data, another user\'s resources not found, last use recorded', async () => {
    const { body } = await createKey('bob', { name: 'reader' });
    expect(body.apiKey.scopes).toEqual(['read']);
    const { rows } = await app.database.pool.query(
      `INSERT INTO connections (user_id, provider, nango_connection_id, provider_config_key) VALUES
        ('bob', 'gmail', 'gmail-bob-k', 'google-mail'), ('alice', 'gmail', 'gmail-alice-k', 'google-mail') RETURNING id`,
    );
    const [bobConnection, aliceConnection] = rows.map((row) => Number(row.id));
    const byKey = await fetch(`${app.url}/api/connections`, { headers: bearer(body.key) });
    expect(byKey.status).toBe(200);
    expect((await byKey.json()).data.map((c: { id: number }) => c.id)).toEqual([bobConnection]);
    const foreign = await fetch(`${app.url}/api/syncs/1`, { headers: bearer(body.key) });
    expect(foreign.status).toBe(404);
    expect(aliceConnection).toBeGreaterThan(0);
    const used = await app.database.pool.query('SELECT last_used_at FROM api_keys WHERE id = $1', [body.apiKey.id]);
    expect(used.rows[0].last_used_at).not.toBeNull();
  });

  it('need the write scope for anything but reads, and cannot manage keys', async () => {
    const reader = (await createKey('carol', { name: 'reader', scopes: ['read'] })).body.key;
    const writer = (await createKey('carol', { name: 'writer', scopes: ['read', 'write'] })).body.key;
    const sync = (key: string) =>
      fetch(`${app.url}/api/syncs`, { method: 'POST', headers: { ...json, ...bearer(key) }, body: JSON.stringify({ providers: ['gmail'], mode: 'incremental' }) });
    const refused = await sync(reader);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect((await refused.json()).error).toMatchObject({ code: 'forbidden', requestId: refused.headers.get('x-request-id') });
    // With write, the request reaches the domain: carol has no gmail connection.
    expect((await sync(writer)).status).toBe(422);
    for (const [method, path] of [['GET', '/api/api-keys'], ['POST', '/api/api-keys'], ['DELETE', '/api/api-keys/1']]) {
      const response = await fetch(`${app.url}${path}`, { method, headers: { ...json, ...bearer(writer) }, body: method === 'POST' ? '{"name":"x"}' : undefined });
      expect(response.status).toBe(403);
    }
  });

  it('are revoked by their user only, and stop working at once', async () => {
    const { body } = await createKey('dave', { name: 'to revoke', scopes: ['read', 'write'] });
    expect((await fetch(`${app.url}/api/connections`, { headers: bearer(body.key) })).status).toBe(200);
    const foreign = await fetch(`${app.url}/api/api-keys/${body.apiKey.id}`, { method: 'DELETE', headers: bearer(await app.token('eve')) });
    expect(foreign.status).toBe(404);
    const revoked = await fetch(`${app.url}/api/api-keys/${body.apiKey.id}`, { method: 'DELETE', headers: bearer(await app.token('dave')) });
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ revoked: true, apiKey: { id: body.apiKey.id } });
    const after = await fetch(`${app.url}/api/connections`, { headers: bearer(body.key) });
    expect(after.status).toBe(401);
    expect(after.headers.get('www-authenticate')).toBe('Bearer');
    const list = await (await fetch(`${app.url}/api/api-keys`, { headers: bearer(await app.token('dave')) })).json();
    expect(list.data).toEqual([]);
    const again = await fetch(`${app.url}/api/api-keys/${body.apiKey.id}`, { method: 'DELETE', headers: bearer(await app.token('dave')) });
    expect(again.status).toBe(404);
  });

  it('stop working when they expire; an unknown or malformed key is 401', async () => {
    const { body } = await createKey('frank', { name: 'short-lived', expiresInDays: 1 });
    await app.database.pool.query(`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [body.apiKey.id]);
    expect((await fetch(`${app.url}/api/connections`, { headers: bearer(body.key) })).status).toBe(401);
    expect((await fetch(`${app.url}/api/connections`, { headers: bearer(`sk_${'A'.repeat(43)}`) })).status).toBe(401);
    expect((await fetch(`${app.url}/api/connections`, { headers: bearer('sk_short') })).status).toBe(401);
  });

  it('refuse bad input with 400 or 415, and stop at 25 active keys per user (422)', async () => {
    const token = await app.token('grace');
    const post = (body: string, headers: Record<string, string> = json) =>
      fetch(`${app.url}/api/api-keys`, { method: 'POST', headers: { ...headers, ...bearer(token) }, body });
    expect((await post('{"name":"a\\u0000b"}')).status).toBe(400);
    expect((await post('{"name":"x","scopes":["admin"]}')).status).toBe(400);
    expect((await post('{"name":"x","owner":"bob"}')).status).toBe(400);
    expect((await post('{"name":"x"}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('{"name":"x"}', {})).status).toBe(415);
    for (let i = 0; i < 25; i++) expect((await post(JSON.stringify({ name: `k${i}` }))).status).toBe(201);
    const refused = await post('{"name":"one too many"}');
    expect(refused.status).toBe(422);
    const { rows } = await app.database.pool.query(`SELECT count(*)::int AS n FROM api_keys WHERE user_id = 'grace'`);
    expect(rows[0].n).toBe(25);
  });
});

describe('the Authorization header', () => {
  it('accepts the Bearer scheme in any case', async () => {
    const token = await app.token('henry');
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      expect((await fetch(`${app.url}/api/connections`, { headers: { authorization: `${scheme} ${token}` } })).status).toBe(200);
    }
    expect((await fetch(`${app.url}/api/connections`, { headers: { authorization: `Basic ${token}` } })).status).toBe(401);
  });

  it('refuses Firebase tokens that live longer than an hour, or whose aud is not exactly the project', async () => {
    const cases = [
      await app.sandbox.mintIdToken('ivy', { expiresInSeconds: 3_601 }),
      await app.sandbox.mintIdToken('ivy', { issuedAt: Math.floor(Date.now() / 1000) - 60, expiresInSeconds: 7_200 }),
      // jose's setAudience takes a list too: one that contains the project is still not exactly it.
      await app.sandbox.mintIdToken('ivy', { audience: [PROJECT_ID, 'another-project'] as unknown as string }),
      await app.sandbox.mintIdToken('ivy', { audience: 'another-project' }),
      await app.sandbox.mintIdToken('ivy', { claims: { auth_time: Math.floor(Date.now() / 1000) + 3_600 } }),
    ];
    for (const token of cases) {
      const response = await fetch(`${app.url}/api/connections`, { headers: bearer(token) });
      expect(response.status).toBe(401);
      expect((await response.json()).error.code).toBe('unauthenticated');
    }
    expect((await fetch(`${app.url}/api/connections`, { headers: bearer(await app.sandbox.mintIdToken('ivy', { expiresInSeconds: 3_600 })) })).status).toBe(200);
  });
});
