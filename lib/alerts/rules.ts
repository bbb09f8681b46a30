import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { Config } from '../config';
import { deadJobsSince, usersOverQueueDepth } from '../jobs/sql/metrics';
import { hashUserId } from '../observability/scrub';
import { webhookQuantile, windowTotals, type WindowTotal } from '../observability/windows';

/**
 * The alert rules (seed 001's thresholds, in config). Each rule reads figures that hold across every
 * function instance: the queue from the jobs table, rates and latencies from `ops_metric_windows`
 * (what each instance recorded, flushed every few seconds), the database's own connection count.
 * A rule answers the conditions that fire now; a condition's key names what it is about, so one
 * incident is opened per key and closed when the key stops firing.
 */
export const ALERTS = [
  'queue_depth_user',
  'provider_error_rate',
  'sync_failure_rate',
  'automation_failure_rate',
  'pool_exhaustion',
  'webhook_p95',
  'circuit_open',
  'dead_jobs_growing',
] as const;
export type AlertName = (typeof ALERTS)[number];

export interface Condition {
  key: string;
  alert: AlertName;
  summary: string;
  value: number;
  threshold: number;
}

export interface Evaluation {
  firing: Condition[];
  /** Rules that ran to the end: only their incidents may be resolved. */
  checked: AlertName[];
  /** Rules whose figures could not be read, with why. */
  failed: { alert: AlertName; error: string }[];
}

export type Thresholds = Pick<
  Config,
  | 'ALERT_WINDOW_MINUTES'
  | 'ALERT_MIN_SAMPLES'
  | 'ALERT_QUEUE_DEPTH_PER_USER'
  | 'ALERT_PROVIDER_ERROR_RATE'
  | 'ALERT_SYNC_FAILURE_RATE'
  | 'ALERT_AUTOMATION_FAILURE_RATE'
  | 'ALERT_WEBHOOK_P95_MS'
  | 'ALERT_DB_CONNECTIONS_RATIO'
>;

/** Breakers half-open after seconds: only the last few minutes say whether one is open now. */
const CIRCUIT_WINDOW_MINUTES = 5;

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;

export async function evaluate(db: DbOrTx, t: Thresholds): Promise<Evaluation> {
  const evaluation: Evaluation = { firing: [], checked: [], failed: [] };
  let totals: Promise<WindowTotal[]> | undefined;
  const windowed = () => (totals ??= windowTotals(db, t.ALERT_WINDOW_MINUTES));

  const rules: Record<AlertName, () => Promise<Condition[]>> = {
    queue_depth_user: async () =>
      (await usersOverQueueDepth(db, t.ALERT_QUEUE_DEPTH_PER_USER)).map(({ userId, queued }) => {
        const user = hashUserId(userId);
        return {
          key: `queue_depth_user:${user}`,
          alert: 'queue_depth_user',
          summary: `user ${user} has ${queued} queued jobs (threshold ${t.ALERT_QUEUE_DEPTH_PER_USER})`,
          value: queued,
          threshold: t.ALERT_QUEUE_DEPTH_PER_USER,
        };
      }),

    provider_error_rate: async () => {
      const all = await windowed();
      const calls = sumBy(all, 'provider_calls', (label) => label);
      const errors = sumBy(all, 'provider_errors', (label) => label);
      return [...calls].flatMap(([provider, n]) => {
        const rate = (errors.get(provider) ?? 0) / n;
        if (n < t.ALERT_MIN_SAMPLES || rate <= t.ALERT_PROVIDER_ERROR_RATE) return [];
        return [{
          key: `provider_error_rate:${provider}`,
          alert: 'provider_error_rate' as const,
          summary: `${provider}: ${percent(rate)} of ${n} requests failed in ${t.ALERT_WINDOW_MINUTES} min (threshold ${percent(t.ALERT_PROVIDER_ERROR_RATE)})`,
          value: rate,
          threshold: t.ALERT_PROVIDER_ERROR_RATE,
        }];
      });
    },

    sync_failure_rate: async () => failureRates(await windowed(), 'sync.', 'sync_failure_rate', t.ALERT_SYNC_FAILURE_RATE, t),

    // From the runs table (lib/automations): runs that finished in the window; skipped ones are neither.
    automation_failure_rate: async () => {
      const result = await db.execute(sql`
        SELECT count(*) FILTER (WHERE status = 'failed')::int AS failed, count(*)::int AS finished FROM runs
        WHERE status IN ('completed', 'failed', 'skipped') AND status <> 'skipped'
          AND finished_at >= now() - make_interval(mins => ${t.ALERT_WINDOW_MINUTES})
      `);
      const { failed, finished } = result.rows[0] as { failed: number; finished: number };
      const rate = finished > 0 ? failed / finished : 0;
      if (finished < t.ALERT_MIN_SAMPLES || rate <= t.ALERT_AUTOMATION_FAILURE_RATE) return [];
      return [{
        key: 'automation_failure_rate',
        alert: 'automation_failure_rate',
        summary: `${percent(rate)} of ${finished} automation runs failed in ${t.ALERT_WINDOW_MINUTES} min (threshold ${percent(t.ALERT_AUTOMATION_FAILURE_RATE)})`,
        value: rate,
        threshold: t.ALERT_AUTOMATION_FAILURE_RATE,
      }];
    },

    pool_exhaustion: async () => {
      const result = await db.execute(sql`
        SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::float8
          / current_setting('max_connections')::float8 AS ratio
      `);
      const ratio = Number((result.rows[0] as { ratio: number }).ratio);
      const waiting = (await windowed()).find((w) => w.metric === 'pool_waiting');
      const conditions: Condition[] = [];
      if (ratio >= t.ALERT_DB_CONNECTIONS_RATIO) {
        conditions.push({
          key: 'pool_exhaustion:server',
          alert: 'pool_exhaustion',
          summary: `the database has ${percent(ratio)} of max_connections in use (threshold ${percent(t.ALERT_DB_CONNECTIONS_RATIO)})`,
          value: ratio,
          threshold: t.ALERT_DB_CONNECTIONS_RATIO,
        });
      }
      if (waiting && waiting.count >= t.ALERT_MIN_SAMPLES) {
        conditions.push({
          key: 'pool_exhaustion:instances',
          alert: 'pool_exhaustion',
          summary: `${waiting.count} requests in ${t.ALERT_WINDOW_MINUTES} min found their instance's pool exhausted (up to ${waiting.max} waiting; DATABASE_POOL_MAX)`,
          value: waiting.count,
          threshold: t.ALERT_MIN_SAMPLES,
        });
      }
      return conditions;
    },

    webhook_p95: async () => {
      const { ms, samples } = webhookQuantile(await windowed(), 0.95);
      if (ms === null || samples < t.ALERT_MIN_SAMPLES || ms <= t.ALERT_WEBHOOK_P95_MS) return [];
      return [{
        key: 'webhook_p95',
        alert: 'webhook_p95',
        summary: `Nango webhooks p95 ${Math.round(ms)} ms over ${samples} deliveries in ${t.ALERT_WINDOW_MINUTES} min (threshold ${t.ALERT_WEBHOOK_P95_MS} ms)`,
        value: ms,
        threshold: t.ALERT_WEBHOOK_P95_MS,
      }];
    },

    circuit_open: async () =>
      (await windowTotals(db, CIRCUIT_WINDOW_MINUTES, ['circuit_open']))
        .filter((w) => w.count > 0)
        .map((w) => ({
          key: `circuit_open:${w.label}`,
          alert: 'circuit_open' as const,
          summary: `the ${w.label} circuit breaker was open in the last ${CIRCUIT_WINDOW_MINUTES} min (${w.count} refusals or openings): requests to ${w.label} are failing`,
          value: w.count,
          threshold: 0,
        })),

    dead_jobs_growing: async () => {
      const dead = await deadJobsSince(db, t.ALERT_WINDOW_MINUTES);
      if (dead === 0) return [];
      return [{
        key: 'dead_jobs_growing',
        alert: 'dead_jobs_growing',
        summary: `${dead} jobs went dead in the last ${t.ALERT_WINDOW_MINUTES} min (the dead-letter queue is growing)`,
        value: dead,
        threshold: 0,
      }];
    },
  };

  for (const alert of ALERTS) {
    try {
      evaluation.firing.push(...(await rules[alert]()));
      evaluation.checked.push(alert);
    } catch (error) {
      evaluation.failed.push({ alert, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return evaluation;
}

function sumBy(totals: WindowTotal[], metric: WindowTotal['metric'], keyOf: (label: string) => string | null): Map<string, number> {
  const sums = new Map<string, number>();
  for (const total of totals) {
    if (total.metric !== metric) continue;
    const key = keyOf(total.label);
    if (key !== null) sums.set(key, (sums.get(key) ?? 0) + total.count);
  }
  return sums;
}

/** Failed attempts (retried, failed, dead) over finished attempts, per job kind with `prefix`. */
function failureRates(totals: WindowTotal[], prefix: string, alert: AlertName, threshold: number, t: Thresholds): Condition[] {
  const finished = new Map<string, number>();
  const failures = new Map<string, number>();
  for (const total of totals) {
    if (total.metric !== 'job_outcomes' || !total.label.startsWith(prefix)) continue;
    const split = total.label.lastIndexOf(':');
    const kind = total.label.slice(0, split);
    const outcome = total.label.slice(split + 1);
    if (outcome === 'deferred') continue; // a checkpoint or a quota wait is neither
    finished.set(kind, (finished.get(kind) ?? 0) + total.count);
    if (outcome !== 'succeeded') failures.set(kind, (failures.get(kind) ?? 0) + total.count);
  }
  return [...finished].flatMap(([kind, n]) => {
    const rate = (failures.get(kind) ?? 0) / n;
    if (n < t.ALERT_MIN_SAMPLES || rate <= threshold) return [];
    return [{
      key: `${alert}:${kind}`,
      alert,
      summary: `${kind}: ${percent(rate)} of ${n} runs failed in ${t.ALERT_WINDOW_MINUTES} min (threshold ${percent(threshold)})`,
      value: rate,
      threshold,
    }];
  });
}
