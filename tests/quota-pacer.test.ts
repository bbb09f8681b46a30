import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuotaExhaustedError } from '../lib/providers/errors';
import { QuotaPacer } from '../lib/providers/quota';
import { createTestDatabase, type TestDatabase } from './helpers/db';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.destroy();
});

describe('QuotaPacer', () => {
  it('spends at 98% of the budget after a one-second burst, and records the units per minute', async () => {
    // 6,000 units a minute: 98 a second once the burst of 98 is spent.
    const pacer = new QuotaPacer({ db: () => database.db, userId: 'u1', provider: 'gmail', perMinute: 6_000 });
    const started = performance.now();
    for (let i = 0; i < 60; i++) await pacer.take(5, Date.now() + 60_000);
    const seconds = (performance.now() - started) / 1000;
    // 300 units: 98 at once, 202 more at 98/s.
    expect(seconds).toBeGreaterThan((300 - 98 - 5) / 98);
    expect(seconds).toBeLessThan((300 - 98) / 98 + 0.5);
    await pacer.flush();
    const { rows } = await database.pool.query(`SELECT sum(units)::int AS units FROM provider_usage WHERE user_id = 'u1'`);
    expect(rows[0].units).toBe(300);
    expect(pacer.spent).toBe(300);
  });

  it('defers, not fails, when the wait would outlast the job', async () => {
    const pacer = new QuotaPacer({ db: () => database.db, userId: 'u2', provider: 'calendar', perMinute: 60 });
    await pacer.take(1, Date.now() + 10_000);
    const before = Date.now();
    const error = await pacer.take(1, Date.now() + 100).catch((e) => e);
    expect(error).toBeInstanceOf(QuotaExhaustedError);
    expect((error as QuotaExhaustedError).until.getTime()).toBeGreaterThan(before + 500);
  });

  it('waits for the next minute once other instances spent the budget in provider_usage', async () => {
    // The insert and the pacer's flush must fall in the same minute.
    const msLeft = 60_000 - (Date.now() % 60_000);
    if (msLeft < 3_000) await new Promise((r) => setTimeout(r, msLeft + 100));
    await database.pool.query(
      `INSERT INTO provider_usage VALUES ('u3', 'salesforce', date_trunc('minute', now()), 600)`,
    );
    const pacer = new QuotaPacer({ db: () => database.db, userId: 'u3', provider: 'salesforce', perMinute: 600 });
    await pacer.take(1, Date.now() + 1_000);
    await pacer.flush();
    const error = await pacer.take(1, Date.now() + 1_000).catch((e) => e);
    expect(error).toBeInstanceOf(QuotaExhaustedError);
    const nextMinute = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
    expect((error as QuotaExhaustedError).until.getTime()).toBe(nextMinute);
  });
});
