import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';

/**
 * Per-minute counters shared by every function instance, for the alerts cron. An instance's own
 * prom-client counters die with it and a serverless deployment has many; what an alert must see
 * across all of them (provider calls and errors, job outcomes, webhook latencies, breakers seen
 * open, clients waiting for a pooled connection) is summed here in memory and written to
 * `ops_metric_windows` in one statement every few seconds.
 */

export type WindowMetric =
  | 'provider_calls'
  | 'provider_errors'
  | 'job_outcomes'
  | 'webhook_ms'
  | 'circuit_open'
  | 'pool_waiting';

interface Pending {
  metric: WindowMetric;
  label: string;
  minute: number;
  count: number;
  max: number;
}

/** Webhook latency buckets (upper bounds, ms); a count per bucket and minute gives the p95. */
export const WEBHOOK_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, Infinity];

const pending = new Map<string, Pending>();
const MAX_PENDING = 5_000;
let lastFlush = 0;
let flushing: Promise<void> | null = null;

/** Adds `count` to the metric's current minute (and keeps the largest `value` seen). */
export function recordWindow(metric: WindowMetric, label: string, count = 1, value = 0): void {
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  const key = `${metric}\u0000${label}\u0000${minute}`;
  const entry = pending.get(key);
  if (entry) {
    entry.count += count;
    if (value > entry.max) entry.max = value;
    return;
  }
  // A database that stays away must not grow memory without bound: the oldest minute goes first.
  if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
  pending.set(key, { metric, label, minute, count, max: value });
}

export function recordWebhookLatency(ms: number): void {
  const bound = WEBHOOK_BUCKETS_MS.find((upper) => ms <= upper)!;
  recordWindow('webhook_ms', bound === Infinity ? 'inf' : String(bound), 1, ms);
}

/** Writes what was recorded since the last flush; on failure it is kept for the next one. */
export async function flushWindows(db: DbOrTx): Promise<void> {
  while (flushing) await flushing.catch(() => undefined);
  if (pending.size === 0) return;
  const batch = [...pending.values()];
  pending.clear();
  lastFlush = Date.now();
  flushing = (async () => {
    try {
      await db.execute(sql`
        INSERT INTO ops_metric_windows AS w (metric, label, window_start, count, max)
        SELECT metric, label, to_timestamp(minute / 1000.0), count, max
        FROM unnest(
          ${sql.param(batch.map((e) => e.metric))}::text[],
          ${sql.param(batch.map((e) => e.label))}::text[],
          ${sql.param(batch.map((e) => e.minute))}::float8[],
          ${sql.param(batch.map((e) => e.count))}::bigint[],
          ${sql.param(batch.map((e) => e.max))}::float8[]
        ) AS i(metric, label, minute, count, max)
        ON CONFLICT (metric, label, window_start) DO UPDATE
          SET count = w.count + excluded.count, max = greatest(w.max, excluded.max)
      `);
    } catch (error) {
      for (const entry of batch) recordWindowEntry(entry);
      throw error;
    }
  })().finally(() => {
    flushing = null;
  });
  return flushing;
}

function recordWindowEntry(entry: Pending): void {
  const key = `${entry.metric}\u0000${entry.label}\u0000${entry.minute}`;
  const existing = pending.get(key);
  if (existing) {
    existing.count += entry.count;
    existing.max = Math.max(existing.max, entry.max);
  } else if (pending.size < MAX_PENDING) {
    pending.set(key, { ...entry });
  }
}

/** True when a flush is due: something recorded and the last flush a few seconds ago. */
export function windowsFlushDue(everyMs = 5_000): boolean {
  return pending.size > 0 && !flushing && Date.now() - lastFlush >= everyMs;
}

/** For tests: forget what was recorded and not flushed. */
export function resetWindowsForTests(): void {
  pending.clear();
  lastFlush = 0;
}

export interface WindowTotal {
  metric: WindowMetric;
  label: string;
  count: number;
  max: number;
}

/** Sums per (metric, label) over the last `minutes` minutes, across every instance that flushed. */
export async function windowTotals(db: DbOrTx, minutes: number, metrics?: WindowMetric[]): Promise<WindowTotal[]> {
  const result = await db.execute(sql`
    SELECT metric, label, sum(count)::float8 AS count, max(max)::float8 AS max
    FROM ops_metric_windows
    WHERE window_start >= date_trunc('minute', now()) - make_interval(mins => ${minutes - 1})
      ${metrics ? sql`AND metric = ANY(${sql.param(metrics)}::text[])` : sql``}
    GROUP BY metric, label
  `);
  return (result.rows as { metric: WindowMetric; label: string; count: number; max: number }[]).map((row) => ({
    metric: row.metric,
    label: row.label,
    count: Number(row.count),
    max: Number(row.max),
  }));
}

/** The webhook latency quantile over the window, interpolated in its bucket as Prometheus does. */
export function webhookQuantile(totals: WindowTotal[], quantile: number): { ms: number | null; samples: number } {
  const counts = new Map(totals.filter((t) => t.metric === 'webhook_ms').map((t) => [t.label, t.count]));
  const samples = [...counts.values()].reduce((sum, n) => sum + n, 0);
  if (samples === 0) return { ms: null, samples };
  const rank = quantile * samples;
  let cumulative = 0;
  let lower = 0;
  for (const upper of WEBHOOK_BUCKETS_MS) {
    const inBucket = counts.get(upper === Infinity ? 'inf' : String(upper)) ?? 0;
    if (cumulative + inBucket >= rank && inBucket > 0) {
      if (upper === Infinity) {
        // Above the last bound: the slowest seen is the honest figure.
        const slowest = totals.find((t) => t.metric === 'webhook_ms' && t.label === 'inf')?.max ?? lower;
        return { ms: slowest, samples };
      }
      return { ms: lower + ((upper - lower) * (rank - cumulative)) / inBucket, samples };
    }
    cumulative += inBucket;
    if (upper !== Infinity) lower = upper;
  }
  return { ms: lower, samples };
}

/** Retention: minutes older than `days` are deleted (the maintenance cron). */
export async function pruneWindows(db: DbOrTx, days: number): Promise<number> {
  const result = await db.execute(sql`DELETE FROM ops_metric_windows WHERE window_start < now() - make_interval(days => ${days})`);
  return result.rowCount ?? 0;
}
