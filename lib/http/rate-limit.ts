import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis';
import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { config } from '../config';
import { db } from '../database';
import { logger } from '../observability/logger';
import { rateLimited } from './errors';

export interface RateLimitResult {
  success: boolean;
  limit: number;
  remaining: number;
  /** Epoch ms when the window resets. */
  reset: number;
}

/** What both backends answer, the shape of @upstash/ratelimit's `limit()`. */
export interface RateLimiter {
  limit(identifier: string): Promise<RateLimitResult>;
}

/** Upstash Redis (REST): a sliding window per identifier. */
export function upstashRateLimiter(url: string, token: string, perMinute: number): RateLimiter {
  const ratelimit = new Ratelimit({
    redis: new Redis({ url, token }),
    limiter: Ratelimit.slidingWindow(perMinute, '60 s'),
    prefix: 'switchyard:ratelimit',
    // A slow or unreachable Redis lets the request through after this long rather than failing it.
    timeout: 1_000,
  });
  return { limit: (identifier) => ratelimit.limit(identifier) };
}

/** Postgres: a fixed one-minute window per identifier, counted in one statement. */
export function postgresRateLimiter(database: Db, perMinute: number): RateLimiter {
  return {
    async limit(identifier) {
      const result = await database.execute(sql`
        INSERT INTO rate_limit_windows (key, window_start, count)
        VALUES (${identifier}, date_trunc('minute', now()), 1)
        ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_windows.count + 1
        RETURNING count, (extract(epoch FROM window_start + interval '1 minute') * 1000)::float8 AS reset
      `);
      const row = (result.rows as { count: number; reset: number }[])[0]!;
      return { success: row.count <= perMinute, limit: perMinute, remaining: Math.max(0, perMinute - row.count), reset: row.reset };
    },
  };
}

let limiter: RateLimiter | undefined;

export function rateLimiter(): RateLimiter {
  if (!limiter) {
    const settings = config();
    limiter =
      settings.UPSTASH_REDIS_REST_URL && settings.UPSTASH_REDIS_REST_TOKEN
        ? upstashRateLimiter(settings.UPSTASH_REDIS_REST_URL, settings.UPSTASH_REDIS_REST_TOKEN, settings.RATE_LIMIT_PER_MINUTE)
        : postgresRateLimiter(db(), settings.RATE_LIMIT_PER_MINUTE);
  }
  return limiter;
}

export function resetRateLimiterForTests(): void {
  limiter = undefined;
}

/** 429 with Retry-After once the caller's budget is spent; a limiter that fails lets the request through. */
export async function enforceRateLimit(identifier: string): Promise<void> {
  let result: RateLimitResult;
  try {
    result = await rateLimiter().limit(identifier);
  } catch (error) {
    logger().warn({ err: error }, 'rate limiter unavailable; request allowed');
    return;
  }
  if (!result.success) throw rateLimited(Math.max(1, Math.ceil((result.reset - Date.now()) / 1000)));
}
