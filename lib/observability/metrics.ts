import { sql } from 'drizzle-orm';
import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../../db/client';
import { config, type Config } from '../config';
import { queueMetrics } from '../jobs/sql/metrics';
import { recordWebhookLatency, recordWindow } from './windows';

/**
 * Prometheus metrics (prom-client), served by GET /api/metrics.
 *
 * Two kinds of figure, named apart in the README:
 * - per instance (`switchyard_http_*`, `switchyard_job*`, `switchyard_provider_*_total`,
 *   `switchyard_webhook_*`, `switchyard_sync_items_*`, `switchyard_db_pool_*`, `switchyard_process_*`,
 *   `switchyard_nodejs_*`): what this function instance saw since it started. Serverless instances
 *   come and go, so a scrape sees one of them; sum across scrapes with care.
 * - cluster-wide (`switchyard_queue_*`, `switchyard_provider_quota_*`, `switchyard_connections`,
 *   `switchyard_sync_streams_failing`, `switchyard_webhook_deliveries_recent`, `switchyard_actions_recent`,
 *   `switchyard_automation_runs_recent`):
 *   read from Postgres at scrape time, the same whichever instance answers.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'switchyard_' });

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const httpRequests = new Counter({
  name: 'switchyard_http_requests_total',
  help: 'HTTP requests answered by this instance, by route, method and status',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [registry],
});
const httpDuration = new Histogram({
  name: 'switchyard_http_request_duration_seconds',
  help: 'HTTP request durations on this instance, by route, method and status',
  labelNames: ['route', 'method', 'status'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});
const jobsSettled = new Counter({
  name: 'switchyard_jobs_total',
  help: 'Jobs run by this instance, by kind and outcome (succeeded, retry, failed, dead, deferred, abandoned)',
  labelNames: ['kind', 'outcome'] as const,
  registers: [registry],
});
const jobDuration = new Histogram({
  name: 'switchyard_job_duration_seconds',
  help: 'Job handler durations on this instance, by kind and outcome',
  labelNames: ['kind', 'outcome'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});
const providerCalls = new Counter({
  name: 'switchyard_provider_calls_total',
  help: 'Provider requests made by this instance (retries included), by provider and result (ok, error)',
  labelNames: ['provider', 'result'] as const,
  registers: [registry],
});
const providerErrors = new Counter({
  name: 'switchyard_provider_errors_total',
  help: 'Provider request failures on this instance, by provider and type (quota, unauthorized, transient, client, timeout, circuit_open)',
  labelNames: ['provider', 'type'] as const,
  registers: [registry],
});
const circuitOpen = new Gauge({
  name: 'switchyard_provider_circuit_open',
  help: "1 while this instance's circuit breaker for the provider is open",
  labelNames: ['provider'] as const,
  registers: [registry],
});
const webhookDuration = new Histogram({
  name: 'switchyard_webhook_processing_seconds',
  help: 'Nango webhook processing time on this instance (verify, record, enqueue, commit), by status',
  labelNames: ['status'] as const,
  buckets: SECONDS_BUCKETS,
  registers: [registry],
});
const syncItems = new Counter({
  name: 'switchyard_sync_items_processed_total',
  help: 'Records stored by syncs that finished on this instance, by provider',
  labelNames: ['provider'] as const,
  registers: [registry],
});
const poolClients = new Gauge({
  name: 'switchyard_db_pool_clients',
  help: "This instance's database pool: total, idle and waiting clients",
  labelNames: ['state'] as const,
  registers: [registry],
});

// Cluster-wide, from Postgres at scrape time.
const queueJobs = new Gauge({
  name: 'switchyard_queue_jobs',
  help: 'Live jobs by kind and status (queued, running), from Postgres',
  labelNames: ['kind', 'status'] as const,
  registers: [registry],
});
const queueDead = new Gauge({ name: 'switchyard_queue_dead_jobs', help: 'Dead jobs (the dead-letter queue), from Postgres', registers: [registry] });
const queueOldest = new Gauge({
  name: 'switchyard_queue_oldest_runnable_age_seconds',
  help: 'How long the oldest runnable job has waited (0 when none), from Postgres',
  registers: [registry],
});
const queueDeepestUser = new Gauge({
  name: 'switchyard_queue_deepest_user_jobs',
  help: 'The most jobs one user has queued, from Postgres',
  registers: [registry],
});
const quotaUsed = new Gauge({
  name: 'switchyard_provider_quota_used_ratio',
  help: "The highest share of a user's per-minute provider budget spent this minute, by provider, from Postgres",
  labelNames: ['provider'] as const,
  registers: [registry],
});
const quotaUnits = new Gauge({
  name: 'switchyard_provider_quota_units_this_minute',
  help: 'Provider quota units (Gmail) or requests (Calendar, Salesforce) spent this minute by all users, from Postgres',
  labelNames: ['provider'] as const,
  registers: [registry],
});
const connectionsByStatus = new Gauge({
  name: 'switchyard_connections',
  help: 'Connections by provider and status, from Postgres',
  labelNames: ['provider', 'status'] as const,
  registers: [registry],
});
const streamsFailing = new Gauge({
  name: 'switchyard_sync_streams_failing',
  help: 'Synced streams whose last sync failed, by provider, from Postgres',
  labelNames: ['provider'] as const,
  registers: [registry],
});
const deliveriesRecent = new Gauge({
  name: 'switchyard_webhook_deliveries_recent',
  help: 'Nango webhook deliveries received in the last 5 minutes, by status, from Postgres',
  labelNames: ['status'] as const,
  registers: [registry],
});
const actionsRecent = new Gauge({
  name: 'switchyard_actions_recent',
  help: 'Actions created in the last hour, by provider and status, from Postgres',
  labelNames: ['provider', 'status'] as const,
  registers: [registry],
});

const runsRecent = new Gauge({
  name: 'switchyard_automation_runs_recent',
  help: 'Automation runs that finished in the last hour, by outcome (completed, failed, skipped), from Postgres',
  labelNames: ['status'] as const,
  registers: [registry],
});

/** Per-request figures (the route wrapper calls this for every response). */
export function observeHttpRequest(route: string, method: string, status: number, durationMs: number): void {
  const labels = { route, method, status: String(status) };
  httpRequests.inc(labels);
  httpDuration.observe(labels, durationMs / 1000);
  if (route === '/api/webhooks/nango' && method === 'POST') {
    webhookDuration.observe({ status: String(status) }, durationMs / 1000);
    recordWebhookLatency(durationMs);
  }
}

export type JobOutcome = 'succeeded' | 'retry' | 'failed' | 'dead' | 'deferred' | 'abandoned';

export function observeJob(kind: string, outcome: JobOutcome, durationMs: number, result?: unknown): void {
  jobsSettled.inc({ kind, outcome });
  jobDuration.observe({ kind, outcome }, durationMs / 1000);
  recordWindow('job_outcomes', `${kind}:${outcome}`);
  if (kind.startsWith('sync.') && outcome === 'succeeded') {
    const records = (result as { records?: unknown } | undefined)?.records;
    if (typeof records === 'number' && records > 0) syncItems.inc({ provider: kind.slice('sync.'.length) }, records);
  }
}

export type ProviderErrorType = 'quota' | 'unauthorized' | 'transient' | 'client' | 'timeout' | 'circuit_open';

/** One provider request (each attempt, retries included). */
export function observeProviderCall(provider: string, errorType?: ProviderErrorType): void {
  providerCalls.inc({ provider, result: errorType ? 'error' : 'ok' });
  recordWindow('provider_calls', provider);
  if (errorType) {
    providerErrors.inc({ provider, type: errorType });
    recordWindow('provider_errors', provider);
  }
}

export function observeCircuit(provider: string, open: boolean): void {
  circuitOpen.set({ provider }, open ? 1 : 0);
  if (open) recordWindow('circuit_open', provider);
}

/** Samples the pool's waiting clients into the shared windows (the pool-exhaustion alert). */
export function samplePool(pool: pg.Pool | undefined): void {
  if (pool && pool.waitingCount > 0) recordWindow('pool_waiting', '', 1, pool.waitingCount);
}

function budgets(settings: Config): Record<string, number> {
  return {
    gmail: settings.GMAIL_QUOTA_UNITS_PER_MINUTE,
    calendar: settings.CALENDAR_REQUESTS_PER_MINUTE,
    salesforce: settings.SALESFORCE_REQUESTS_PER_MINUTE,
  };
}

/** Reads the cluster-wide figures from Postgres, then renders everything in Prometheus text. */
export async function renderMetrics(db: Db): Promise<string> {
  const settings = config();
  const pool = (db as unknown as { $client?: pg.Pool }).$client;
  if (pool) {
    poolClients.set({ state: 'total' }, pool.totalCount);
    poolClients.set({ state: 'idle' }, pool.idleCount);
    poolClients.set({ state: 'waiting' }, pool.waitingCount);
  }
  const [queue, usage, business] = await Promise.all([
    queueMetrics(db),
    db.execute(sql`
      SELECT provider, sum(units)::float8 AS units, max(units)::float8 AS top_user_units
      FROM provider_usage WHERE window_start = date_trunc('minute', now()) GROUP BY provider
    `),
    db.execute(sql`
      SELECT 'connections' AS figure, provider AS a, status AS b, count(*)::float8 AS n FROM connections GROUP BY provider, status
      UNION ALL
      SELECT 'failing', c.provider, '', count(*)::float8 FROM sync_states s JOIN connections c ON c.id = s.connection_id
        WHERE s.last_error IS NOT NULL AND c.status <> 'deleted' GROUP BY c.provider
      UNION ALL
      SELECT 'deliveries', status, '', count(*)::float8 FROM webhook_events
        WHERE received_at >= now() - interval '5 minutes' GROUP BY status
      UNION ALL
      SELECT 'actions', provider, status, count(*)::float8 FROM actions
        WHERE created_at >= now() - interval '1 hour' GROUP BY provider, status
      UNION ALL
      SELECT 'runs', status, '', count(*)::float8 FROM runs
        WHERE status IN ('completed', 'failed', 'skipped') AND finished_at >= now() - interval '1 hour' GROUP BY status
    `),
  ]);

  queueJobs.reset();
  for (const row of queue.depth) queueJobs.set({ kind: row.kind, status: row.status }, row.jobs);
  queueDead.set(queue.dead);
  queueOldest.set(queue.oldestRunnableAgeSeconds ?? 0);
  queueDeepestUser.set(queue.deepestUserQueued);

  quotaUsed.reset();
  quotaUnits.reset();
  const budget = budgets(settings);
  for (const row of usage.rows as { provider: string; units: number; top_user_units: number }[]) {
    quotaUnits.set({ provider: row.provider }, Number(row.units));
    if (budget[row.provider]) quotaUsed.set({ provider: row.provider }, Number(row.top_user_units) / budget[row.provider]!);
  }

  connectionsByStatus.reset();
  streamsFailing.reset();
  deliveriesRecent.reset();
  actionsRecent.reset();
  runsRecent.reset();
  for (const row of business.rows as { figure: string; a: string; b: string; n: number }[]) {
    const n = Number(row.n);
    if (row.figure === 'connections') connectionsByStatus.set({ provider: row.a, status: row.b }, n);
    else if (row.figure === 'failing') streamsFailing.set({ provider: row.a }, n);
    else if (row.figure === 'deliveries') deliveriesRecent.set({ status: row.a }, n);
    else if (row.figure === 'runs') runsRecent.set({ status: row.a }, n);
    else actionsRecent.set({ provider: row.a, status: row.b }, n);
  }
  return registry.metrics();
}

export const METRICS_CONTENT_TYPE = registry.contentType;

/**
 * The route of a request as a bounded label: the api/ file's path, not the URL. Vercel (and the
 * local server) append a dynamic segment as a query parameter of the same value (`?id=42`), so a
 * segment equal to a parameter's value is that parameter; a segment of digits is an id.
 */
export function routeLabel(url: URL): string {
  const params = [...url.searchParams.entries()];
  const segments = url.pathname.split('/').map((segment) => {
    if (segment === '') return segment;
    const decoded = safeDecode(segment);
    const param = params.find(([, value]) => value === decoded);
    if (param) return `[${param[0]}]`;
    return /^\d+$/.test(segment) ? '[id]' : segment;
  });
  const label = segments.join('/').replace(/\/+$/, '') || '/';
  return label.length > 120 ? label.slice(0, 120) : label;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Runs one provider request attempt and counts it: calls, errors by type, and the breaker seen open
 * (lib/providers/resilience.ts wraps each attempt in this). Errors pass through unchanged.
 */
export async function observeProviderAttempt<T>(provider: string, attempt: () => Promise<T>): Promise<T> {
  try {
    const value = await attempt();
    observeProviderCall(provider);
    observeCircuit(provider, false);
    return value;
  } catch (error) {
    const type = providerErrorType(error);
    observeProviderCall(provider, type);
    if (type === 'circuit_open') observeCircuit(provider, true);
    throw error;
  }
}

function providerErrorType(error: unknown): ProviderErrorType {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'BrokenCircuitError') return 'circuit_open';
  if (name === 'TaskCancelledError') return 'timeout';
  const failure = error as { status?: unknown; isQuota?: unknown } | null;
  if (failure?.isQuota === true) return 'quota';
  if (failure?.status === 401) return 'unauthorized';
  if (typeof failure?.status === 'number' && failure.status >= 400 && failure.status < 500 && failure.status !== 408) return 'client';
  return 'transient';
}
