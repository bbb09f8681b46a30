import { sql } from 'drizzle-orm';
import { QuotaExhaustedError } from './errors';
import type { DbOrTx } from '../../db/client';

/**
 * Paces a user's calls to a provider so the provider never has to refuse them.
 *
 * Locally, a token bucket refills at 98% of the per-minute budget with a burst of one second's worth:
 * over any rolling minute that spends at most 0.98 × budget + burst (99.6% of it), under what Google
 * enforces, while a long backfill keeps close to the whole budget. Across
 * function instances, the units are also added to provider_usage (user, provider, minute) once a
 * second; when the minute's total there reaches the budget, the pacer waits for the next minute.
 * When the wait would outlast the caller's time budget, it throws QuotaExhaustedError with the time
 * the units will be available (a job is then deferred to it, without spending an attempt).
 */
export interface PacerOptions {
  /** Resolved at each flush: a pacer may outlive one pool (tests reopen the database). */
  db: () => DbOrTx;
  userId: string;
  provider: string;
  perMinute: number;
  /** Share of the budget to use (default 0.98). */
  safety?: number;
  now?: () => number;
}

const FLUSH_EVERY_MS = 1_000;

export class QuotaPacer {
  private readonly ratePerMs: number;
  private readonly capacity: number;
  private tokens: number;
  private refilledAt: number;
  private unflushed = 0;
  private flushedAt: number;
  private blockedUntil = 0;
  private readonly now: () => number;
  /** Units taken so far by this pacer. */
  spent = 0;

  constructor(private readonly options: PacerOptions) {
    this.now = options.now ?? Date.now;
    const perMinute = options.perMinute * (options.safety ?? 0.98);
    this.ratePerMs = perMinute / 60_000;
    this.capacity = Math.max(1, perMinute / 60);
    this.tokens = this.capacity;
    this.refilledAt = this.now();
    this.flushedAt = this.refilledAt;
  }

  /**
   * Waits until `units` may be spent, then spends them. `deadline` (epoch ms) bounds the wait: past it,
   * QuotaExhaustedError with the time the units will be available.
   */
  async take(units: number, deadline: number, signal?: AbortSignal): Promise<void> {
    while (true) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      const now = this.now();
      this.refill(now);
      const readyAt = Math.max(
        this.blockedUntil,
        this.tokens >= units ? now : now + (Math.min(units, this.capacity) - this.tokens) / this.ratePerMs,
      );
      if (readyAt <= now && this.tokens >= Math.min(units, this.capacity)) {
        this.tokens -= units;
        this.spent += units;
        this.unflushed += units;
        if (now - this.flushedAt >= FLUSH_EVERY_MS) await this.flush();
        return;
      }
      if (readyAt > deadline) {
        await this.flush();
        throw new QuotaExhaustedError(this.options.provider, new Date(readyAt));
      }
      await sleep(readyAt - now, signal);
    }
  }

  /** Records the units spent since the last flush in provider_usage; learns what other instances spent. */
  async flush(): Promise<void> {
    const units = this.unflushed;
    this.unflushed = 0;
    this.flushedAt = this.now();
    if (units === 0) return;
    const result = await this.options.db().execute(sql`
      INSERT INTO provider_usage (user_id, provider, window_start, units)
      VALUES (${this.options.userId}, ${this.options.provider}, date_trunc('minute', now()), ${units})
      ON CONFLICT (user_id, provider, window_start) DO UPDATE SET units = provider_usage.units + EXCLUDED.units
      RETURNING units, extract(epoch FROM date_trunc('minute', now()) + interval '1 minute') * 1000 AS next_window
    `);
    const row = (result as unknown as { rows: { units: number; next_window: string | number }[] }).rows[0];
    if (row && row.units >= this.options.perMinute) this.blockedUntil = Number(row.next_window);
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.refilledAt) * this.ratePerMs);
    this.refilledAt = now;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      signal?.removeEventListener('abort', done);
      clearTimeout(timer);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Deletes the usage windows older than any pacer looks at (the last minute): the retention cron. */
export async function pruneProviderUsage(db: DbOrTx): Promise<number> {
  const result = await db.execute(sql`DELETE FROM provider_usage WHERE window_start < now() - interval '1 day'`);
  return result.rowCount ?? 0;
}

/**
 * One pacer per database, user and provider in this process, kept across runs: a checkpointed sync
 * that continues here must not start with a fresh burst on top of what it just spent.
 */
const pacers = new WeakMap<object, Map<string, QuotaPacer>>();
const MAX_PACERS = 10_000;

export function sharedPacer(db: DbOrTx, userId: string, provider: string, perMinute: number): QuotaPacer {
  let ofDatabase = pacers.get(db);
  if (!ofDatabase) pacers.set(db, (ofDatabase = new Map()));
  const key = `${provider}:${userId}`;
  let pacer = ofDatabase.get(key);
  if (!pacer) {
    if (ofDatabase.size >= MAX_PACERS) ofDatabase.delete(ofDatabase.keys().next().value!);
    pacer = new QuotaPacer({ db: () => db, userId, provider, perMinute });
    ofDatabase.set(key, pacer);
  }
  return pacer;
}
