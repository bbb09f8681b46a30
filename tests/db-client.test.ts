import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobs } from '../db/schema';
import { executePrepared } from '../db/prepared';
import { parseTimestamp, parseTimestamptz } from '../db/timestamps';
import { createTestDatabase, type TestDatabase } from './helpers/db';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ poolMax: 2 });
});
afterAll(async () => {
  await database.destroy();
});

describe('timestamps from the database client', () => {
  it('are Dates in raw statements, typed queries and plain pool queries alike', async () => {
    const raw = await database.db.execute(sql`
      SELECT '2026-11-24 08:16:01.123456+00'::timestamptz AS tz, '2026-11-24 08:16:01.5'::timestamp AS plain,
             NULL::timestamptz AS missing, '2026-11-24'::date AS day, interval '90 minutes' AS span, now() AS now`);
    const row = raw.rows[0] as Record<string, unknown>;
    expect(row.tz).toEqual(new Date('2026-11-24T08:16:01.123Z'));
    expect(row.plain).toEqual(new Date('2026-11-24T08:16:01.500Z'));
    expect(row.missing).toBeNull();
    expect(Math.abs((row.now as Date).getTime() - Date.now())).toBeLessThan(60_000);
    // Drizzle's other text types stay as they were in raw statements.
    expect(row.day).toBe('2026-11-24');
    expect(row.span).toBe('01:30:00');

    const inTransaction = await database.db.transaction((tx) => tx.execute(sql`SELECT '2026-01-02 03:04:05+02'::timestamptz AS at`));
    expect(inTransaction.rows[0]).toEqual({ at: new Date('2026-01-02T01:04:05Z') });

    const [inserted] = await database.db.insert(jobs).values({ kind: 'k', userId: 'u' }).returning({ runAt: jobs.runAt });
    expect(inserted!.runAt).toBeInstanceOf(Date);
    const pooled = await database.pool.query(`SELECT run_at FROM jobs`);
    expect(pooled.rows[0].run_at).toEqual(inserted!.runAt);
  });

  it('keep microseconds as text where asked (the keyset cursors read to_char)', async () => {
    const raw = await database.db.execute(sql`
      SELECT to_char('2026-11-24 08:16:01.123456+00'::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t`);
    expect(raw.rows[0]).toEqual({ t: '2026-11-24T08:16:01.123456Z' });
  });

  it('read every shape Postgres writes in any session time zone', async () => {
    const client = await database.pool.connect();
    try {
      for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Europe/Amsterdam']) {
        await client.query(`SET TIME ZONE '${zone}'`);
        const { rows } = await client.query(`SELECT x, to_char(x AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso
          FROM unnest(ARRAY['2026-11-24 08:16:01.123456Z', '2026-03-01 00:00:00Z', '1850-06-01 12:00:00Z',
                            '0050-01-01 00:00:00Z', '2000-02-29 23:59:59.999Z']::timestamptz[]) AS x`);
        for (const row of rows) expect((row.x as Date).toISOString(), zone).toBe(row.iso);
      }
    } finally {
      await client.query('RESET TIME ZONE');
      client.release();
    }
  });

  it('parse as pg would, where the fast path does not apply', () => {
    const pgParse = pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ);
    for (const text of ['infinity', '-infinity', '0044-03-15 12:00:00+00 BC', '1850-01-01 00:00:00+00:19:32', '2026-11-24T08:16:01Z']) {
      expect(parseTimestamptz(text), text).toEqual(pgParse(text));
    }
    expect(parseTimestamp('2026-11-24 08:16:01.12')).toEqual(new Date('2026-11-24T08:16:01.120Z'));
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9998-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }),
        (date, micros, offsetMinutes) => {
          const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString();
          const sign = offsetMinutes < 0 ? '-' : '+';
          const offset = `${sign}${String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0')}:${String(Math.abs(offsetMinutes) % 60).padStart(2, '0')}`;
          const text = `${local.slice(0, 10)} ${local.slice(11, 23)}${String(micros).padStart(3, '0')}${offset.endsWith(':00') ? offset.slice(0, 3) : offset}`;
          expect(parseTimestamptz(text)).toEqual(pgParse(text));
          expect(parseTimestamptz(text).getTime()).toBe(date.getTime());
        },
      ),
    );
  });
});

describe('executePrepared', () => {
  // One connection: what one test prepared, the next query sees.
  let single: TestDatabase;
  beforeAll(async () => {
    single = await createTestDatabase({ poolMax: 1 });
  });
  afterAll(async () => {
    await single.destroy();
  });
  const rowsOf = (result: unknown) => (result as { rows: Record<string, unknown>[] }).rows;
  const preparedOnServer = async () =>
    (await single.pool.query(`SELECT name, statement FROM pg_prepared_statements ORDER BY name`)).rows as { name: string; statement: string }[];

  it('prepares a statement once per connection under its name and binds new values each call', async () => {
    for (const n of [1, 2, 3]) {
      const result = await executePrepared(single.db, 'test_double', sql`SELECT ${n}::int * 2 AS twice`);
      expect(rowsOf(result)).toEqual([{ twice: n * 2 }]);
    }
    expect(await preparedOnServer()).toEqual([{ name: 'switchyard_test_double', statement: 'SELECT $1::int * 2 AS twice' }]);
  });

  it('runs a different text under a name already taken unnamed, with its own answer', async () => {
    await executePrepared(single.db, 'test_taken', sql`SELECT ${1}::int AS one`);
    const other = await executePrepared(single.db, 'test_taken', sql`SELECT ${'x'}::text AS letter, ${2}::int AS two`);
    expect(rowsOf(other)).toEqual([{ letter: 'x', two: 2 }]);
    const again = await executePrepared(single.db, 'test_taken', sql`SELECT ${7}::int AS one`);
    expect(rowsOf(again)).toEqual([{ one: 7 }]);
    expect((await preparedOnServer()).filter((p) => p.name === 'switchyard_test_taken')).toEqual([
      { name: 'switchyard_test_taken', statement: 'SELECT $1::int AS one' },
    ]);
  });

  it('inside a transaction runs as an ordinary statement of that transaction', async () => {
    const seen = await single.db.transaction(async (tx) => {
      await tx.execute(sql`CREATE TEMP TABLE prepared_probe (v int) ON COMMIT DROP`);
      await executePrepared(tx, 'test_in_transaction', sql`INSERT INTO prepared_probe VALUES (${5})`);
      return rowsOf(await tx.execute(sql`SELECT v FROM prepared_probe`));
    });
    expect(seen).toEqual([{ v: 5 }]);
    expect((await preparedOnServer()).map((p) => p.name)).not.toContain('switchyard_test_in_transaction');
  });
});
