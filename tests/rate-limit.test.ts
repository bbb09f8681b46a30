import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstashRest, type UpstashRest } from '../dev/upstash-rest';
import { postgresRateLimiter, upstashRateLimiter } from '../lib/http/rate-limit';
import { startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';

/** The frontend API's per-user rate limit: the Postgres limiter through real HTTP, and the Upstash adapter. */
describe('rate limits over HTTP (Postgres limiter)', () => {
  let app: SandboxedApp;
  beforeAll(async () => {
    app = await startSandboxedApp({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers 429 with Retry-After past the budget, per user', async () => {
    const call = async (user: string) =>
      fetch(`${app.url}/api/connections`, { headers: { authorization: `Bearer ${await app.token(user)}` } });
    // Keep the four calls in one minute window: start right after a minute boundary if close to one.
    const secondsLeft = 60 - new Date().getUTCSeconds();
    if (secondsLeft < 5) await new Promise((r) => setTimeout(r, secondsLeft * 1000 + 100));
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('alice')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await call('alice');
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await limited.json()).error.code).toBe('rate_limited');
    expect((await call('bob')).status).toBe(200);
  });

  it('counts in one row per user and minute', async () => {
    const limiter = postgresRateLimiter(app.database.db, 2);
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await limiter.limit('direct'));
    expect(results.map((r) => [r.success, r.remaining])).toEqual([[true, 1], [true, 0], [false, 0]]);
    expect(results[2]!.reset).toBeGreaterThan(Date.now());
  });
});

// The Upstash adapter needs a Redis: CI passes REDIS_URL (the machine's Redis); without one, npm test
// has nothing to run it against.
describe.runIf(Boolean(process.env.REDIS_URL))('the Upstash adapter against a real Redis', () => {
  let rest: UpstashRest;
  beforeAll(async () => {
    rest = await startUpstashRest(process.env.REDIS_URL!);
  });
  afterAll(async () => {
    await rest?.close();
  });

  it('limits with @upstash/ratelimit through @upstash/redis, state kept in Redis', async () => {
    const identifier = `test-${process.pid}-${Date.now()}`;
    const limiter = upstashRateLimiter(rest.url, rest.token, 3);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.limit(identifier));
    expect(results.map((r) => r.success)).toEqual([true, true, true, false]);
    expect(results[2]!.remaining).toBe(0);
    const redis = createClient({ url: process.env.REDIS_URL });
    await redis.connect();
    const keys = await redis.keys(`switchyard:ratelimit:${identifier}:*`);
    await redis.quit();
    expect(keys.length).toBeGreaterThan(0);
  });

  it('refuses a wrong token as Upstash does', async () => {
    const limiter = upstashRateLimiter(rest.url, 'wrong-token', 3);
    await expect(limiter.limit('x')).rejects.toThrow();
  });
});
