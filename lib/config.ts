import { z } from 'zod';
import { DomainError } from './errors';

/**
 * Every setting switchyard reads, validated once. Nothing else in the code base reads process.env:
 * a missing or invalid setting stops start-up with one message naming each bad variable.
 */
const postgresUrl = z
  .string()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'expected a postgres:// or postgresql:// URL with a host, e.g. postgres://user:password@host:5432/db');

const intIn = (min: number, max: number, fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

/** A fraction in (0, 1], e.g. 0.05 for 5%. */
const fractionIn = (fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().gt(0).max(1).default(fallback));

const configSchema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'test', 'production']).default('development')),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  ),
  /** json: one JSON object a line (what log drains read); pretty: coloured lines for a terminal. */
  LOG_FORMAT: z.preprocess(emptyToUndefined, z.enum(['json', 'pretty']).optional()),

  // Database
  DATABASE_URL: z.preprocess(emptyToUndefined, postgresUrl.optional()),
  DATABASE_POOL_MAX: intIn(1, 100, 10),
  DATABASE_CONNECT_TIMEOUT_MS: intIn(100, 60_000, 5_000),
  DATABASE_STATEMENT_TIMEOUT_MS: intIn(100, 600_000, 15_000),
  DATABASE_IDLE_TIMEOUT_MS: intIn(1_000, 600_000, 10_000),

  // Cron and the job runner
  CRON_SECRET: z.preprocess(emptyToUndefined, z.string().min(16, 'expected at least 16 characters').optional()),
  JOBS_RUNNER_MAX_DURATION_S: intIn(5, 900, 60),
  JOBS_RUNNER_MARGIN_S: intIn(1, 120, 10),
  JOBS_RUNNER_CONCURRENCY: intIn(1, 1_000, 8),
  JOBS_RUNNER_BATCH_SIZE: intIn(1, 500, 500),
  JOBS_LEASE_S: intIn(5, 3_600, 30),
  JOBS_PER_USER_RUNNING_CAP: intIn(1, 100, 4),
  JOBS_BACKOFF_BASE_MS: intIn(10, 600_000, 2_000),
  JOBS_BACKOFF_MAX_MS: intIn(1_000, 86_400_000, 3_600_000),

  // Nango: OAuth connections and webhooks
  NANGO_HOST: z.preprocess(emptyToUndefined, z.string().url().default('https://api.nango.dev')),
  NANGO_SECRET_KEY: z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  /** Signs webhooks (X-Nango-Hmac-Sha256); from the Nango dashboard's environment settings. */
  NANGO_WEBHOOK_SIGNING_KEY: z.preprocess(emptyToUndefined, z.string().min(8, 'expected at least 8 characters').optional()),
  NANGO_PROVIDER_CONFIG_KEY_GMAIL: z.preprocess(emptyToUndefined, z.string().default('google-mail')),
  NANGO_PROVIDER_CONFIG_KEY_CALENDAR: z.preprocess(emptyToUndefined, z.string().default('google-calendar')),
  NANGO_PROVIDER_CONFIG_KEY_SALESFORCE: z.preprocess(emptyToUndefined, z.string().default('salesforce')),
  /** Start a runner pass from the webhook (waitUntil) instead of waiting for the next cron tick. */
  WEBHOOK_KICK_RUNNER: z.preprocess(emptyToUndefined, z.enum(['true', 'false']).default('true').transform((v) => v === 'true')),

  // Provider APIs
  /** Overrides Google's API roots (Gmail and Calendar), e.g. the local sandbox; unset in production. */
  GOOGLE_API_ROOT_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  SALESFORCE_API_VERSION: z.preprocess(emptyToUndefined, z.string().regex(/^\d+\.\d$/, 'expected a version like 59.0').default('59.0')),
  /** Timeout of every provider request. */
  PROVIDER_TIMEOUT_MS: intIn(100, 120_000, 10_000),
  /** Retries of one provider request (5xx, 429, timeouts) before the job itself fails. */
  PROVIDER_MAX_RETRIES: intIn(0, 10, 3),
  /** Per-user budgets, as the providers enforce them; syncs pace themselves at 98% of them. */
  GMAIL_QUOTA_UNITS_PER_MINUTE: intIn(1, 10_000_000, 15_000),
  CALENDAR_REQUESTS_PER_MINUTE: intIn(1, 1_000_000, 600),
  SALESFORCE_REQUESTS_PER_MINUTE: intIn(1, 1_000_000, 600),

  // Sync
  GMAIL_BACKFILL_THREADS: intIn(1, 100_000, 50),
  GMAIL_FETCH_CONCURRENCY: intIn(1, 50, 10),
  CALENDAR_BACKFILL_DAYS_BACK: intIn(0, 3_650, 30),
  CALENDAR_BACKFILL_DAYS_AHEAD: intIn(0, 3_650, 90),
  /**
   * Each incremental Salesforce sync re-reads the cursor's second and this many seconds before it:
   * SystemModstamp has one-second resolution, and a transaction stamped earlier can commit after rows
   * with a later stamp were read. Records re-read unchanged are neither rewritten nor emitted.
   */
  SALESFORCE_SYNC_LOOKBACK_SECONDS: intIn(0, 3_600, 10),
  /** The safety-net cron enqueues an incremental sync of any active connection idle longer than this. */
  SYNC_STALE_AFTER_MINUTES: intIn(1, 10_080, 60),

  // Actions (send mail, write events and CRM records)
  /** How long a write request waits for its action before answering 202 with the action's id. */
  ACTIONS_WAIT_MS: intIn(0, 50_000, 10_000),
  /** A write request starts a runner pass at once (waitUntil), instead of waiting for the next cron tick. */
  ACTIONS_KICK_RUNNER: z.preprocess(emptyToUndefined, z.enum(['true', 'false']).default('true').transform((v) => v === 'true')),
  /** Emails a user may send a minute (Gmail's own limits are per day; this stops a runaway loop). */
  GMAIL_SENDS_PER_MINUTE: intIn(1, 10_000, 50),
  /**
   * Per Salesforce object, an External ID field to upsert by (`Lead=Switchyard_Key__c,Contact=...`):
   * creates of those objects are then exactly once by Salesforce's own upsert.
   */
  SALESFORCE_EXTERNAL_ID_FIELDS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(
        /^(Lead|Contact|Account|Opportunity)=[A-Za-z][A-Za-z0-9_]*(,(Lead|Contact|Account|Opportunity)=[A-Za-z][A-Za-z0-9_]*)*$/,
        'expected Object=Field pairs separated by commas, e.g. Lead=Switchyard_Key__c,Contact=Switchyard_Key__c',
      )
      .optional(),
  ),
  /** Actions (and so their Idempotency-Keys) are kept this long; at least a day. */
  ACTIONS_RETENTION_DAYS: intIn(1, 3_650, 30),

  // Firebase Authentication: callers of the frontend API present an ID token
  FIREBASE_PROJECT_ID: z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  FIREBASE_JWKS_URL: z.preprocess(
    emptyToUndefined,
    z.string().url().default('https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com'),
  ),


  // Rate limits of the frontend API (sliding windows). Upstash when its REST URL is set; Postgres otherwise.
  /** Requests per user (token or API key) and minute. */
  RATE_LIMIT_PER_MINUTE: intIn(1, 100_000, 120),
  /** Requests without valid credentials per client IP, in RATE_LIMIT_IP_WINDOW_S. */
  RATE_LIMIT_IP_MAX: intIn(1, 1_000_000, 100),
  RATE_LIMIT_IP_WINDOW_S: intIn(1, 86_400, 900),
  /** Requests per organisation and hour, when the caller's token carries the claim RATE_LIMIT_ORG_CLAIM. */
  RATE_LIMIT_ORG_PER_HOUR: intIn(1, 10_000_000, 1_000),
  RATE_LIMIT_ORG_CLAIM: z.preprocess(
    emptyToUndefined,
    z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'expected a claim name such as org_id').optional(),
  ),
  UPSTASH_REDIS_REST_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  UPSTASH_REDIS_REST_TOKEN: z.preprocess(emptyToUndefined, z.string().min(1).optional()),

  /**
   * Browser origins allowed to call the frontend API (CORS), comma-separated, e.g.
   * `https://app.example.com,http://localhost:5173`; `*` allows any. Unset: none.
   */
  CORS_ORIGINS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default('')
      .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
      .refine(
        (origins) => origins.every((origin) => origin === '*' || isOrigin(origin)),
        'expected origins (scheme://host[:port], no path) separated by commas, or *',
      ),
  ),

  // Operators: Bearer key for the admin endpoints (api/admin/*); they answer 401 while it is unset.
  ADMIN_API_KEY: z.preprocess(emptyToUndefined, z.string().min(24, 'expected at least 24 characters').optional()),

  // Retention (the maintenance cron): finished jobs and webhook deliveries are deleted after this
  JOBS_RETENTION_DAYS: intIn(1, 3_650, 14),
  WEBHOOK_EVENTS_RETENTION_DAYS: intIn(1, 3_650, 30),

  // Health
  HEALTH_MAX_QUEUE_AGE_S: intIn(1, 86_400, 900),
  HEALTH_DB_TIMEOUT_MS: intIn(50, 30_000, 2_000),

  // Automations: units compiled from prompts, matched against synced events
  AUTOMATIONS_MAX_UNITS_PER_USER: intIn(1, 10_000, 100),
  AUTOMATIONS_MAX_PROMPT_LENGTH: intIn(20, 20_000, 2_000),
  AUTOMATIONS_MAX_STEPS: intIn(1, 50, 10),
  /** A unit that ran this often in the last hour makes skipped runs (a loop guard). */
  AUTOMATIONS_MAX_RUNS_PER_UNIT_PER_HOUR: intIn(1, 100_000, 60),
  /** Synced items a preview evaluates a prompt against, by default (at most 100 per request). */
  AUTOMATIONS_PREVIEW_ITEMS: intIn(1, 100, 20),
  /** Events one matcher job reads per statement (per user). */
  AUTOMATIONS_MATCH_BATCH: intIn(1, 5_000, 500),
  /** Optional: an OpenAI-compatible chat endpoint that turns free prose into the unit language (off while unset). */
  AUTOMATIONS_LLM_BASE_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  AUTOMATIONS_LLM_API_KEY: z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  AUTOMATIONS_LLM_MODEL: z.preprocess(emptyToUndefined, z.string().min(1).default('llama-3.3-70b-versatile')),
  AUTOMATIONS_LLM_TIMEOUT_MS: intIn(500, 60_000, 10_000),

  // Errors to Sentry (off while SENTRY_DSN is unset)
  SENTRY_DSN: z.preprocess(emptyToUndefined, z.string().url().optional()),
  /** Tags every event; defaults to VERCEL_ENV, then NODE_ENV. */
  SENTRY_ENVIRONMENT: z.preprocess(emptyToUndefined, z.string().min(1).max(64).optional()),
  /** Tags every event; defaults to VERCEL_GIT_COMMIT_SHA, then switchyard@<package version>. */
  SENTRY_RELEASE: z.preprocess(emptyToUndefined, z.string().min(1).max(200).optional()),
  /** How long a function waits for its events to reach Sentry before it returns. */
  SENTRY_FLUSH_TIMEOUT_MS: intIn(0, 10_000, 2_000),
  /** Set by Vercel on every deployment; read only as the Sentry defaults above. */
  VERCEL_ENV: z.preprocess(emptyToUndefined, z.string().optional()),
  VERCEL_GIT_COMMIT_SHA: z.preprocess(emptyToUndefined, z.string().optional()),

  // Metrics: GET /api/metrics answers 401 while this bearer is unset
  METRICS_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, 'expected at least 16 characters').optional()),

  // Alerts to Slack (api/cron/alerts, every 5 minutes): an incoming webhook, or a bot token and a channel
  SLACK_WEBHOOK_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  SLACK_BOT_TOKEN: z.preprocess(emptyToUndefined, z.string().min(1).optional()),
  SLACK_CHANNEL: z.preprocess(emptyToUndefined, z.string().min(1).max(80).optional()),
  SLACK_API_URL: z.preprocess(emptyToUndefined, z.string().url().default('https://slack.com/api')),
  /** Rates and percentiles are computed over this many minutes. */
  ALERT_WINDOW_MINUTES: intIn(1, 1_440, 15),
  /** A rate alerts only over at least this many calls, syncs or runs in the window. */
  ALERT_MIN_SAMPLES: intIn(1, 1_000_000, 20),
  ALERT_QUEUE_DEPTH_PER_USER: intIn(1, 10_000_000, 1_000),
  ALERT_PROVIDER_ERROR_RATE: fractionIn(0.05),
  ALERT_SYNC_FAILURE_RATE: fractionIn(0.1),
  ALERT_AUTOMATION_FAILURE_RATE: fractionIn(0.1),
  ALERT_WEBHOOK_P95_MS: intIn(1, 600_000, 500),
  /** Pool exhaustion: the server's connections in use over max_connections, or any client left waiting. */
  ALERT_DB_CONNECTIONS_RATIO: fractionIn(0.9),

  // Provider switches: providers turned off (webhooks recorded and ignored; syncs and actions refused)
  PROVIDERS_DISABLED: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\s*(gmail|calendar|salesforce)\s*(,\s*(gmail|calendar|salesforce)\s*)*$/, 'expected a comma-separated list of gmail, calendar, salesforce')
      .optional()
      .transform((value) => (value ? [...new Set(value.split(',').map((name) => name.trim()))] : []) as ('gmail' | 'calendar' | 'salesforce')[]),
  ),

  // Privacy: retention of raw provider events and finished runs (the maintenance cron)
  EVENTS_RETENTION_DAYS: intIn(1, 3_650, 180),
  /** Finished automation runs (completed, failed, skipped) and their steps. */
  RUNS_RETENTION_DAYS: intIn(1, 3_650, 90),

  // Backups (npm run db:backup / db:restore): where pg_dump and pg_restore are, when not found by themselves
  PG_BIN_DIR: z.preprocess(emptyToUndefined, z.string().min(1).optional()),

  // Local development
  PORT: intIn(1, 65_535, 3000),
  EMBEDDED_POSTGRES_PORT: intIn(1, 65_535, 54_329),
  SANDBOX_PORT: intIn(1, 65_535, 4010),
});

export type Config = z.infer<typeof configSchema>;

function checkPairs(config: Config): string[] {
  const problems: string[] = [];
  if (config.UPSTASH_REDIS_REST_URL && !config.UPSTASH_REDIS_REST_TOKEN) {
    problems.push('UPSTASH_REDIS_REST_TOKEN: required when UPSTASH_REDIS_REST_URL is set');
  }
  if (config.SLACK_BOT_TOKEN && !config.SLACK_CHANNEL) problems.push('SLACK_CHANNEL: required when SLACK_BOT_TOKEN is set');
  return problems;
}

/** The provider switch: false when PROVIDERS_DISABLED names it. */
export function providerEnabled(provider: string, settings: Config = config()): boolean {
  return !(settings.PROVIDERS_DISABLED as string[]).includes(provider);
}

/** Refuses work for a provider that is switched off: 422 `provider_disabled`, naming it. */
export function assertProviderEnabled(provider: string, settings: Config = config()): void {
  if (!providerEnabled(provider, settings)) {
    throw new DomainError('provider_disabled', `${provider} is turned off on this deployment (PROVIDERS_DISABLED)`, [
      { path: 'provider', message: `${provider} is disabled` },
    ]);
  }
}

export class ConfigError extends Error {
  readonly code = 'config_invalid';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `https://app.example.com` or `http://localhost:5173`: what a browser sends as Origin. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

function emptyToUndefined(value: unknown): unknown {
  return value === '' ? undefined : value;
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = configSchema.safeParse(env);
  if (result.success) {
    const problems = checkPairs(result.data);
    if (problems.length > 0) throw new ConfigError(problems);
    return result.data;
  }
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const variable = issue.path.join('.') || '(environment)';
      return `${variable}: ${issue.message}`;
    }),
  );
}

let cached: Config | undefined;

/** The process's configuration, parsed on first use. */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** For tests and the local server, which set the environment before the first request. */
export function resetConfigForTests(): void {
  cached = undefined;
}
