import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { EXPORT_FORMAT, exportUserData } from '../lib/privacy/export';
import { pruneRetention } from '../lib/privacy/retention';
import { userTables } from '../lib/privacy/tables';
import { deleteNangoConnection } from '../lib/providers/nango';
import { startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';
import { SyncedData } from './helpers/synced-data';

/**
 * GDPR over real HTTP: GET /api/me/export streams everything held for the caller and nothing of
 * anyone else's; DELETE /api/me erases it all (jobs cancelled, Nango connections deleted), keeps one
 * audit entry, and can be repeated. Retention prunes raw events and finished runs by age.
 */
let app: SandboxedApp;
let data: SyncedData;

beforeAll(async () => {
  app = await startSandboxedApp({ WEBHOOK_KICK_RUNNER: 'false', RATE_LIMIT_PER_MINUTE: '100000' });
  data = new SyncedData(app.database.pool);
  for (const user of ['alice', 'bob']) {
    app.sandbox.ensureUser(user);
    const token = await app.token(user);
    for (const provider of ['gmail', 'calendar']) {
      const response = await fetch(`${app.url}/api/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider, connectionId: `${provider}-${user}` }),
      });
      expect(response.status).toBe(201);
    }
    await seed(user);
  }
});
afterAll(async () => {
  await app?.close();
});

async function connectionOf(user: string, provider: string): Promise<number> {
  const { rows } = await app.database.pool.query(`SELECT id FROM connections WHERE user_id = $1 AND provider = $2`, [user, provider]);
  return Number(rows[0].id);
}

async function seed(user: string) {
  const { pool } = app.database;
  const gmail = await connectionOf(user, 'gmail');
  const calendar = await connectionOf(user, 'calendar');
  for (let i = 0; i < 7; i++) {
    const thread = await data.thread({ connectionId: gmail, userId: user, subject: `${user} thread ${i}`, lastMessageAt: '2026-03-01T10:00:00Z' });
    await data.message({ threadId: thread, connectionId: gmail, userId: user, fromAddress: `${user}@example.com`, internalDate: '2026-03-01T10:00:00Z', bodyText: `hello from ${user}` });
    await data.interaction({ connectionId: gmail, userId: user, source: 'email', occurredAt: '2026-03-01T10:00:00Z', title: `${user} ${i}` });
  }
  await data.event({ connectionId: calendar, userId: user, summary: `${user} standup`, startAt: '2026-03-02T09:00:00Z', endAt: '2026-03-02T09:15:00Z' });
  await pool.query(`INSERT INTO events (user_id, connection_id, type, provider_id, dedupe_key) VALUES ($1, $2, 'email.received', 'm1', $1 || '-e1')`, [user, gmail]);
  await pool.query(`INSERT INTO sync_states (connection_id, stream, cursor) VALUES ($1, 'threads', '{"historyId":"1"}')`, [gmail]);
  const { rows } = await pool.query(`INSERT INTO units (user_id, name, prompt, compiled) VALUES ($1, 'n', 'p', '{}') RETURNING id`, [user]);
  await pool.query(
    `INSERT INTO runs (user_id, unit_id, event_type, facts, status, finished_at) VALUES ($1, $2, 'email.received', '{}', 'completed', now())`,
    [user, rows[0].id],
  );
  await pool.query(`INSERT INTO webhook_events (delivery_key, type, nango_connection_id, provider_config_key, payload, status)
    VALUES ($1, 'sync', $2, 'google-mail', '{}', 'processed')`, [`${user}-delivery`, `gmail-${user}`]);
  await pool.query(`INSERT INTO jobs (kind, user_id, status, finished_at) VALUES ('sync.gmail', $1, 'succeeded', now())`, [user]);
}

/** Rows per table that belong to `user` (every table the catalog finds, the queue and the audit log). */
async function holdings(user: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await userTables(app.database.db)) {
    const where =
      table.via === 'user_id'
        ? sql`user_id = ${user}`
        : sql`connection_id IN (SELECT id FROM connections WHERE user_id = ${user})`;
    const result = await app.database.db.execute(sql`SELECT count(*)::int AS n FROM ${sql.identifier(table.name)} WHERE ${where}`);
    counts[table.name] = Number((result.rows[0] as { n: number }).n);
  }
  for (const table of ['jobs', 'job_users']) {
    const { rows } = await app.database.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [user]);
    counts[table] = rows[0].n;
  }
  const { rows } = await app.database.pool.query(
    `SELECT count(*)::int AS n FROM webhook_events WHERE nango_connection_id LIKE '%-' || $1`,
    [user],
  );
  counts.webhook_events = rows[0].n;
  return counts;
}

describe('GET /api/me/export', () => {
  it("streams everything held for the caller, as JSON, and nothing of anyone else's", async () => {
    const response = await fetch(`${app.url}/api/me/export`, { headers: { authorization: `Bearer ${await app.token('alice')}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/attachment/);
    const document = await response.json();
    expect(document).toMatchObject({ format: EXPORT_FORMAT, userId: 'alice' });
    const { tables } = document as { tables: Record<string, Record<string, unknown>[]> };
    expect(tables.connections).toHaveLength(2);
    expect(tables.email_threads).toHaveLength(7);
    expect(tables.email_messages).toHaveLength(7);
    expect(tables.email_messages!.every((m) => m.body_text === 'hello from alice')).toBe(true);
    expect(tables.calendar_events).toHaveLength(1);
    expect(tables.interactions).toHaveLength(7);
    expect(tables.events).toHaveLength(1);
    expect(tables.sync_states).toHaveLength(1);
    expect(tables.units).toHaveLength(1);
    expect(tables.runs).toHaveLength(1);
    expect(tables.webhook_events).toHaveLength(1);
    expect(tables.jobs!.length).toBeGreaterThanOrEqual(2); // the backfills queued by connecting, and a finished one
    expect(tables.audit_log!.map((e) => e.action)).toEqual(['connection.created', 'connection.created', 'user.exported']);
    // Every table holding alice's rows is in the export, with as many rows as Postgres holds.
    const held = await holdings('alice');
    for (const [table, n] of Object.entries(held)) if (table !== 'job_users') expect(tables[table]?.length ?? 0, table).toBe(n === 0 ? 0 : n);
    // Nothing of bob's.
    expect(JSON.stringify(document)).not.toContain('bob');
  });

  it('reads through a cursor in batches and streams them as they come', async () => {
    const reader = exportUserData(app.database.pool, 'alice', { batchSize: 2 }).getReader();
    const chunks: Uint8Array[] = [];
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
    const text = Buffer.concat(chunks).toString('utf8');
    expect(JSON.parse(text).tables.email_threads).toHaveLength(7);
    // 7 threads in batches of 2 are 4 chunks on their own.
    expect(chunks.length).toBeGreaterThan(20);
    // A reader that stops early releases its connection (the pool does not run dry).
    for (let i = 0; i < 15; i++) {
      const early = exportUserData(app.database.pool, 'alice', { batchSize: 1 }).getReader();
      await early.read();
      await early.cancel();
    }
    expect(app.database.pool.waitingCount).toBe(0);
    expect((await app.database.pool.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
  });

  it('is refused to an API key and to no credentials', async () => {
    expect((await fetch(`${app.url}/api/me/export`)).status).toBe(401);
    const created = await fetch(`${app.url}/api/api-keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await app.token('bob')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'export', scopes: ['read', 'write'] }),
    });
    const { key } = await created.json();
    expect((await fetch(`${app.url}/api/me/export`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(403);
    expect((await fetch(`${app.url}/api/me`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } })).status).toBe(403);
  });
});

describe('DELETE /api/me', () => {
  it("erases everything of the caller's, cancels their jobs, deletes their Nango connections, keeps one audit entry", async () => {
    const bobBefore = await holdings('bob');
    const aliceBefore = await holdings('alice');
    expect(Object.values(aliceBefore).every((n) => n >= 0)).toBe(true);
    const token = await app.token('alice');
    const response = await fetch(`${app.url}/api/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-erase-alice' },
    });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ erased: true, connections: 2, nangoConnectionsDeleted: 2 });
    expect(body.cancelledJobs).toBeGreaterThanOrEqual(1);

    const after = await holdings('alice');
    expect(Object.entries(after).filter(([, n]) => n > 0)).toEqual([]);
    expect(await holdings('bob')).toEqual(bobBefore);
    // Nango no longer has them.
    expect(await deleteNangoConnection('google-mail', 'gmail-alice')).toBe(false);
    expect(await deleteNangoConnection('google-calendar', 'calendar-alice')).toBe(false);

    const { rows } = await app.database.pool.query(`SELECT * FROM audit_log WHERE user_id = 'alice'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'user.erased', actor_type: 'user', actor_id: 'alice', request_id: 'req-erase-alice', ip: '127.0.0.1' });
    expect(JSON.stringify(rows[0].details)).not.toMatch(/hello|alice thread|@example/);
  });

  it('is safe to repeat', async () => {
    const again = await fetch(`${app.url}/api/me`, { method: 'DELETE', headers: { authorization: `Bearer ${await app.token('alice')}` } });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ erased: true, connections: 0, nangoConnectionsDeleted: 0, cancelledJobs: 0 });
    const { rows } = await app.database.pool.query(`SELECT action FROM audit_log WHERE user_id = 'alice'`);
    expect(rows.map((r) => r.action)).toEqual(['user.erased', 'user.erased']);
  });
});

describe('retention', () => {
  it('prunes raw events and finished runs past their days, in batches, and nothing newer', async () => {
    const { pool } = app.database;
    const connection = await connectionOf('bob', 'gmail');
    await pool.query(
      `INSERT INTO events (user_id, connection_id, type, provider_id, dedupe_key, created_at)
       SELECT 'bob', $1, 'email.received', 'old' || i, 'old-' || i, now() - interval '200 days' FROM generate_series(1, 25) i`,
      [connection],
    );
    const { rows } = await pool.query(`SELECT id FROM units WHERE user_id = 'bob'`);
    await pool.query(
      `INSERT INTO runs (user_id, unit_id, event_type, facts, status, finished_at, created_at) VALUES
        ('bob', $1, 'x', '{}', 'completed', now() - interval '100 days', now() - interval '100 days'),
        ('bob', $1, 'x', '{}', 'failed', now() - interval '95 days', now() - interval '95 days'),
        ('bob', $1, 'x', '{}', 'running', NULL, now() - interval '100 days')`,
      [rows[0].id],
    );
    const before = await holdings('bob');
    const result = await pruneRetention(app.database.db, { eventsRetentionDays: 180, runsRetentionDays: 90, batchSize: 10 });
    expect(result).toMatchObject({ events: 25, runs: 2, incomplete: false });
    const after = await holdings('bob');
    expect(after.events).toBe(before.events! - 25);
    expect(after.runs).toBe(before.runs! - 2);

    // A deadline already past stops after one batch and says so.
    await pool.query(
      `INSERT INTO events (user_id, connection_id, type, provider_id, dedupe_key, created_at)
       SELECT 'bob', $1, 'email.received', 'old2' || i, 'old2-' || i, now() - interval '200 days' FROM generate_series(1, 25) i`,
      [connection],
    );
    const partial = await pruneRetention(app.database.db, { eventsRetentionDays: 180, runsRetentionDays: 90, batchSize: 10, deadline: 0 });
    expect(partial).toMatchObject({ events: 10, incomplete: true });
  });
});
