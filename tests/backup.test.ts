import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { findPgTools } from '../dev/pg-tools';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { SyncedData } from './helpers/synced-data';

/**
 * The backup drill on a real server: `npm run db:backup`, the database destroyed, `npm run
 * db:restore`, and every table's row count and checksum compared. It needs pg_dump and pg_restore of
 * the server's major version: the machine's Postgres (CI runs the suite against it with DATABASE_URL
 * set) has them; the embedded Postgres ships none, so there the drill is skipped, saying why.
 */
const { adminUrl } = inject('postgres');
const tools = await findPgTools(adminUrl);
if (!tools) {
  console.warn(
    'backup drill skipped: no pg_dump/pg_restore for this Postgres server (the embedded one ships none); ' +
      'it runs with DATABASE_URL=postgres://postgres@127.0.0.1:5432/test, the machine\'s Postgres',
  );
}

describe.skipIf(!tools)('db:backup and db:restore', () => {
  let database: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'switchyard-backup-'));
    const data = new SyncedData(database.pool);
    for (const user of ['alice', 'bob']) {
      const connection = await data.connection({ userId: user, provider: 'gmail' });
      for (let i = 0; i < 50; i++) {
        const thread = await data.thread({ connectionId: connection, userId: user, subject: `s${i} ünïcödé 'quoted'`, lastMessageAt: `2026-03-01T10:00:${String(i % 60).padStart(2, '0')}.123456Z` });
        await data.message({ threadId: thread, connectionId: connection, userId: user, fromAddress: `${user}@example.com`, internalDate: '2026-03-01T10:00:00Z', bodyText: 'x'.repeat(i * 10) });
      }
    }
    await database.pool.query(`INSERT INTO jobs (kind, user_id, payload) SELECT 'sync.gmail', 'alice', jsonb_build_object('i', i) FROM generate_series(1, 200) i`);
    await database.pool.query(`INSERT INTO audit_log (user_id, actor_type, action, ip, details) VALUES ('alice', 'user', 'connection.created', '127.0.0.1', '{"provider":"gmail"}')`);
  });
  afterAll(async () => {
    await database?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Every table's row count and an md5 of its rows in a stable order, and the identity sequences. */
  async function fingerprint(): Promise<Record<string, string>> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows: tables } = await client.query<{ schema: string; name: string }>(
        `SELECT schemaname AS schema, tablename AS name FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
      );
      const print: Record<string, string> = {};
      for (const { schema, name } of tables) {
        const { rows } = await client.query(
          `SELECT count(*) AS n, coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS sum FROM "${schema}"."${name}" t`,
        );
        print[`${schema}.${name}`] = `${rows[0].n}:${rows[0].sum}`;
      }
      const { rows: sequences } = await client.query(`SELECT schemaname || '.' || sequencename AS name, last_value FROM pg_sequences ORDER BY 1`);
      for (const sequence of sequences) print[`sequence ${sequence.name}`] = String(sequence.last_value);
      return print;
    } finally {
      await client.end();
    }
  }

  function npm(script: string, args: string[]) {
    const result = spawnSync('npm', ['run', '--silent', script, '--', ...args], {
      env: { ...process.env, DATABASE_URL: database.url, NODE_ENV: 'test' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  it('backs up, survives the destruction of the database, restores, and every table matches', async () => {
    const before = await fingerprint();
    expect(Number(before['public.jobs']!.split(':')[0])).toBe(200);
    expect(Number(before['public.email_messages']!.split(':')[0])).toBe(100);

    const file = join(dir, 'drill.dump');
    const backup = npm('db:backup', [file]);
    expect(backup.output, backup.output).toMatch(/^backup: .*drill\.dump \(\d+ KiB, pg_dump \d+ of a Postgres \d+ server/m);
    expect(backup.status).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(1_000);

    // Disaster: every table gone.
    await database.pool.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public; DROP SCHEMA IF EXISTS drizzle CASCADE');
    const { rows } = await database.pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    expect(rows[0].n).toBe(0);

    const restore = npm('db:restore', [file]);
    expect(restore.output).toMatch(/^restore: .*drill\.dump into /m);
    expect(restore.status).toBe(0);
    expect(await fingerprint()).toEqual(before);

    // Restoring over a database that has tables needs --yes; with it, the result is the same.
    const refused = npm('db:restore', [file]);
    expect(refused.status).toBe(1);
    expect(refused.output).toMatch(/pass --yes/);
    await database.pool.query(`DELETE FROM jobs WHERE id % 2 = 0`);
    expect(npm('db:restore', [file, '--yes']).status).toBe(0);
    expect(await fingerprint()).toEqual(before);
  });
});
