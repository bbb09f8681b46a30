import { z } from 'zod';

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

const configSchema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'test', 'production']).default('development')),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),

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
  JOBS_RUNNER_BATCH_SIZE: intIn(1, 500, 50),
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
  /** Per-user budgets, as the providers enforce them; syncs pace themselves at 95% of them. */
  GMAIL_QUOTA_UNITS_PER_MINUTE: intIn(1, 10_000_000, 15_000),
  CALENDAR_REQUESTS_PER_MINUTE: intIn(1, 1_000_000, 600),
  SALESFORCE_REQUESTS_PER_MINUTE: intIn(1, 1_000_000, 600),

  // Sync
  GMAIL_BACKFILL_THREADS: intIn(1, 100_000, 50),
  GMAIL_FETCH_CONCURRENCY: intIn(1, 50, 10),
  CALENDAR_BACKFILL_DAYS_BACK: intIn(0, 3_650, 30),
  CALENDAR_BACKFILL_DAYS_AHEAD: intIn(0, 3_650, 90),
  /** The safety-net cron enqueues an incremental sync of any active connection idle longer than this. */
  SYNC_STALE_AFTER_MINUTES: intIn(1, 10_080, 60),

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

  // Local development
  PORT: intIn(1, 65_535, 3000),
  EMBEDDED_POSTGRES_PORT: intIn(1, 65_535, 54_329),
  SANDBOX_PORT: intIn(1, 65_535, 4010),
});

export type Config = z.infer<typeof configSchema>;

function checkPairs(config: Config): string[] {
  return config.UPSTASH_REDIS_REST_URL && !config.UPSTASH_REDIS_REST_TOKEN
    ? ['UPSTASH_REDIS_REST_TOKEN: required when UPSTASH_REDIS_REST_URL is set']
    : [];
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
