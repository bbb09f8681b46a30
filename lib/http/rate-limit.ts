import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { config } from '../config';
import { db } from '../database';
import { logger } from '../observability/logger';
import { rateLimited } from './errors';

/**
 * Rate limits of the frontend API, as sliding windows: a request is admitted while the requests of the
 * current window plus the previous window's, weighted by how much of it still overlaps the sliding
 * window, stay within the limit (the algorithm of Upstash's slidingWindow and Cloudflare's limiter). A
 * fixed window lets twice the limit through across a boundary; this lets through at most the limit in
 * any window-long span, give or take the weighting's approximation. Refused requests are not counted,
 * so a client that backs off gets back in as the window slides.
 *
 * Three policies: per user (`RATE_LIMIT_PER_MINUTE`), per organisation when the caller's token carries
 * the claim `RATE_LIMIT_ORG_CLAIM` (`RATE_LIMIT_ORG_PER_HOUR`), and per client IP for requests without
 * valid credentials (`RATE_LIMIT_IP_MAX` per `RATE_LIMIT_IP_WINDOW_S`). Every limited response says
 * where the caller stands (RateLimit-Policy and RateLimit, IETF draft-ietf-httpapi-ratelimit-headers).
 */

export interface LimitPolicy {
  /** Names the policy in headers and keys: `user`, `org`, `ip`. */
  name: string;
  limit: number;
  windowSeconds: number;
}

export interface LimitResult {
  success: boolean;
  /** Requests left in the sliding window after this one. */
  remaining: number;
  /** Seconds until the caller may try again (refused), or until the current window ends (admitted). */
  resetSeconds: number;
}

export interface RateLimiter {
  limit(policy: LimitPolicy, identifier: string): Promise<LimitResult>;
}

/** Upstash Redis (REST): @upstash/ratelimit's sliding window, one Ratelimit per policy. */
export function upstashRateLimiter(url: string, token: string): RateLimiter {
  const redis = new Redis({ url, token });
  const limiters = new Map<string, Ratelimit>();
  return {
    async limit(policy, identifier) {
      const key = `${policy.name}:${policy.limit}:${policy.windowSeconds}`;
      let ratelimit = limiters.get(key);
      if (!ratelimit) {
        ratelimit = new Ratelimit({
          redis,
          limiter: Ratelimit.slidingWindow(policy.limit, `${policy.windowSeconds} s`),
          prefix: `switchyard:ratelimit:${policy.name}`,
          // A slow or unreachable Redis lets the request through after this long rather than failing it.
          timeout: 1_000,
        });
        limiters.set(key, ratelimit);
      }
      const result = await ratelimit.limit(identifier);
      return {
        success: result.success,
        remaining: Math.max(0, result.remaining),
        resetSeconds: Math.max(1, Math.ceil((result.reset - Date.now()) / 1000)),
      };
    },
  };
}

/** Bins windows from a fixed origin so every instance agrees on where a window starts. */
const WINDOW_ORIGIN = sql.raw(`TIMESTAMPTZ '2000-01-01 00:00:00+00'`);

/**
 * Postgres: the same sliding window, counted in rate_limit_windows (one row per key and window). One
 * statement reads the previous window, and admits the request by inserting or incrementing the current
 * window's row only if the weighted count stays within the limit; the upsert's WHERE is evaluated on
 * the locked row, so concurrent requests cannot overshoot.
 */
export function postgresRateLimiter(database: Db): RateLimiter {
  return {
    async limit(policy, identifier) {
      const key = `${policy.name}:${identifier}`;
      const window = sql`make_interval(secs => ${policy.windowSeconds})`;
      const result = await database.execute(sql`
        WITH clock AS (
          SELECT now() AS at, date_bin(${window}, now(), ${WINDOW_ORIGIN}) AS window_start
        ),
        previous AS (
          SELECT coalesce((
            SELECT r.count FROM rate_limit_windows r, clock
            WHERE r.key = ${key} AND r.window_start = clock.window_start - ${window}
          ), 0) AS count
        ),
        carried AS (
          SELECT previous.count * (1 - extract(epoch FROM clock.at - clock.window_start) / ${policy.windowSeconds}) AS weight
          FROM previous, clock
        ),
        admitted AS (
          INSERT INTO rate_limit_windows AS r (key, window_start, count)
          SELECT ${key}, clock.window_start, 1 FROM clock, carried WHERE carried.weight + 1 <= ${policy.limit}
          ON CONFLICT (key, window_start) DO UPDATE SET count = r.count + 1
            WHERE r.count + 1 + (SELECT weight FROM carried) <= ${policy.limit}
          RETURNING r.count
        )
        SELECT
          (SELECT count FROM admitted) AS admitted,
          coalesce((SELECT r.count FROM rate_limit_windows r WHERE r.key = ${key} AND r.window_start = clock.window_start), 0) AS current,
          (SELECT count FROM previous) AS previous,
          extract(epoch FROM clock.at - clock.window_start)::float8 AS elapsed
        FROM clock
      `);
      const row = (result.rows as { admitted: number | null; current: number; previous: number; elapsed: number }[])[0]!;
      return slidingWindowResult(policy, {
        admitted: row.admitted === null ? null : Number(row.admitted),
        current: Number(row.current),
        previous: Number(row.previous),
        elapsed: Number(row.elapsed),
      });
    },
  };
}

/**
 * Where the caller stands, from the two windows' counts: `admitted` is the current window's count
 * after this request (null when refused), `current` the count before it, `elapsed` the seconds into
 * the current window.
 */
export function slidingWindowResult(
  policy: LimitPolicy,
  counts: { admitted: number | null; current: number; previous: number; elapsed: number },
): LimitResult {
  const { limit, windowSeconds: w } = policy;
  const overlap = 1 - counts.elapsed / w;
  if (counts.admitted !== null) {
    const used = counts.previous * overlap + counts.admitted;
    return { success: true, remaining: Math.max(0, Math.floor(limit - used)), resetSeconds: Math.max(1, Math.ceil(w - counts.elapsed)) };
  }
  // Refused: when does one more request fit? Within this window, once the previous window's weight
  // has slid out far enough; otherwise in the next, once this window's count weighs little enough.
  const current = counts.current;
  let wait: number;
  if (current + 1 <= limit && counts.previous > 0) {
    const fitsAt = w * (1 - (limit - current - 1) / counts.previous);
    wait = fitsAt - counts.elapsed;
  } else {
    const fitsAtNext = current > 0 ? w * (1 - (limit - 1) / current) : 0;
    wait = w - counts.elapsed + Math.max(0, fitsAtNext);
  }
  return { success: false, remaining: 0, resetSeconds: Math.max(1, Math.ceil(wait)) };
}

/**
 * Deletes windows no limit looks at any more: older than the previous window of their policy (the key's
 * first part names it; a policy this module does not know, e.g. another module's, keeps its windows
 * as long as the longest known one).
 */
export async function pruneRateLimitWindows(database: Db): Promise<number> {
  const policies = limitPolicies();
  const longest = Math.max(...policies.map((p) => p.windowSeconds));
  const result = await database.execute(sql`
    DELETE FROM rate_limit_windows
    WHERE window_start < now() - make_interval(secs => 2 * coalesce(
      (SELECT p.seconds FROM unnest(${sql.param(policies.map((p) => p.name))}::text[], ${sql.param(policies.map((p) => p.windowSeconds))}::int[]) AS p(name, seconds)
       WHERE p.name = split_part(rate_limit_windows.key, ':', 1)),
      ${longest}))
  `);
  return result.rowCount ?? 0;
}

/** The policies, from the configuration. */
export function limitPolicies(): LimitPolicy[] {
  const settings = config();
  return [
    { name: 'user', limit: settings.RATE_LIMIT_PER_MINUTE, windowSeconds: 60 },
    { name: 'org', limit: settings.RATE_LIMIT_ORG_PER_HOUR, windowSeconds: 3_600 },
    { name: 'ip', limit: settings.RATE_LIMIT_IP_MAX, windowSeconds: settings.RATE_LIMIT_IP_WINDOW_S },
  ];
}

export function policy(name: 'user' | 'org' | 'ip'): LimitPolicy {
  return limitPolicies().find((candidate) => candidate.name === name)!;
}

let limiter: RateLimiter | undefined;

export function rateLimiter(): RateLimiter {
  if (!limiter) {
    const settings = config();
    limiter =
      settings.UPSTASH_REDIS_REST_URL && settings.UPSTASH_REDIS_REST_TOKEN
        ? upstashRateLimiter(settings.UPSTASH_REDIS_REST_URL, settings.UPSTASH_REDIS_REST_TOKEN)
        : postgresRateLimiter(db());
  }
  return limiter;
}

export function resetRateLimiterForTests(): void {
  limiter = undefined;
}

/** What the responses of a limited route say about the caller's budget. */
export class RateLimitStatus {
  private readonly entries: { policy: LimitPolicy; result: LimitResult }[] = [];

  record(policy: LimitPolicy, result: LimitResult): void {
    this.entries.push({ policy, result });
  }

  /** RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers-10), one item per policy applied. */
  headers(): Record<string, string> {
    if (this.entries.length === 0) return {};
    return {
      'RateLimit-Policy': this.entries.map(({ policy: p }) => `"${p.name}";q=${p.limit};w=${p.windowSeconds}`).join(', '),
      RateLimit: this.entries.map(({ policy: p, result: r }) => `"${p.name}";r=${r.remaining};t=${r.resetSeconds}`).join(', '),
    };
  }
}

/**
 * Charges one request to `identifier` under the policy: 429 with Retry-After and the RateLimit headers
 * once the budget is spent. A limiter that fails lets the request through (and says so in the log).
 */
export async function enforceRateLimit(status: RateLimitStatus, limitPolicy: LimitPolicy, identifier: string): Promise<void> {
  let result: LimitResult;
  try {
    result = await rateLimiter().limit(limitPolicy, identifier);
  } catch (error) {
    logger().warn({ err: error, policy: limitPolicy.name }, 'rate limiter unavailable; request allowed');
    return;
  }
  status.record(limitPolicy, result);
  if (!result.success) throw rateLimited(result.resetSeconds, status.headers());
}
