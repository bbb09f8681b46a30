import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUpstashRest, type UpstashRest } from '../dev/upstash-rest';
import { postgresRateLimiter, slidingWindowResult, upstashRateLimiter, type LimitPolicy } from '../lib/http/rate-limit';
import { useSandboxedApp } from './helpers/sandbox-app';

/**
 * The frontend API's rate limits: sliding windows per user, per organisation (a token claim) and per
 * client IP for requests without valid credentials, with RateLimit headers on every limited response;
 * the Postgres limiter through real HTTP and directly, and the Upstash adapter.
 */
describe('rate limits over HTTP (Postgres limiter)', () => {
  const app = useSandboxedApp({
    RATE_LIMIT_PER_MINUTE: '3',
    RATE_LIMIT_IP_MAX: '3',
    RATE_LIMIT_IP_WINDOW_S: '900',
    RATE_LIMIT_ORG_CLAIM: 'org_id',
    RATE_LIMIT_ORG_PER_HOUR: '4',
  });

  const call = (token: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}/api/connections`, { headers: { authorization: `Bearer ${token}`, ...headers } });

  it('answers 429 with Retry-After past the budget, per user, and says where the caller stands on every response', async () => {
    const alice = await app.token('alice');
    const responses = [];
    for (let i = 0; i < 4; i++) responses.push(await call(alice));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(responses.map((r) => r.headers.get('ratelimit-policy'))).toEqual(Array(4).fill('"user";q=3;w=60'));
    expect(responses.slice(0, 3).map((r) => /"user";r=(\d+);t=\d+/.exec(r.headers.get('ratelimit') ?? '')?.[1])).toEqual(['2', '1', '0']);
    const limited = responses[3]!;
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(120);
    expect(limited.headers.get('ratelimit')).toMatch(/^"user";r=0;t=\d+$/);
    const body = await limited.json();
    expect(body.error).toMatchObject({ code: 'rate_limited', requestId: limited.headers.get('x-request-id') });
    expect((await call(await app.token('bob'))).status).toBe(200);
  });

  it('charges requests without valid credentials to the client IP, and never a valid caller', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call('not-a-token')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const limited = await fetch(`${app.url}/api/emails`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('ratelimit-policy')).toBe('"ip";q=3;w=900');
    // A spoofed address is overwritten by the server, as Vercel does.
    expect((await fetch(`${app.url}/api/emails`, { headers: { 'x-forwarded-for': '203.0.113.9', 'x-real-ip': '203.0.113.9' } })).status).toBe(429);
    // The cron and admin secrets are guessed under the same budget.
    expect((await fetch(`${app.url}/api/cron/run-jobs`, { headers: { authorization: 'Bearer guess-guess-guess' } })).status).toBe(429);
    expect((await call(await app.token('carol'))).status).toBe(200);
  });

  it('limits an organisation across its users when the token carries the configured claim', async () => {
    const org = { claims: { org_id: 'acme' } };
    const tokens = await Promise.all(['o1', 'o2', 'o3'].map((user) => app.sandbox.mintIdToken(user, org)));
    const statuses = [];
    for (const token of [...tokens, ...tokens]) statuses.push((await call(token)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const last = await call(tokens[0]!);
    expect(last.headers.get('ratelimit-policy')).toBe('"user";q=3;w=60, "org";q=4;w=3600');
    expect(last.headers.get('ratelimit')).toMatch(/"org";r=0;t=\d+/);
    // Another organisation, and a user with none, are not held back by it.
    expect((await call(await app.sandbox.mintIdToken('p1', { claims: { org_id: 'other' } }))).status).toBe(200);
    expect((await call(await app.token('solo'))).status).toBe(200);
  });

  it('counts refused requests nowhere: the window slides, the budget comes back', async () => {
    const limiter = postgresRateLimiter(app.database.db);
    const policy: LimitPolicy = { name: 'direct', limit: 2, windowSeconds: 60 };
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await limiter.limit(policy, 'k'));
    expect(results.map((r) => [r.success, r.remaining])).toEqual([[true, 1], [true, 0], [false, 0], [false, 0], [false, 0]]);
    const { rows } = await app.database.pool.query(`SELECT count FROM rate_limit_windows WHERE key = 'direct:k'`);
    expect(rows).toEqual([{ count: 2 }]);
  });

  it('lets through no second burst right after a window boundary, unlike a fixed window', async () => {
    // A full burst in the previous window (as if sent just before the boundary), then a second one at
    // once: a fixed window would admit it all. Windows of 10 s keep the wait for a boundary short.
    const limit = 50;
    const policy: LimitPolicy = { name: 'burst', limit, windowSeconds: 10 };
    const bin = `date_bin(interval '10 seconds', now(), TIMESTAMPTZ '2000-01-01 00:00:00+00')`;
    const elapsed = async () =>
      Number((await app.database.pool.query(`SELECT extract(epoch FROM now() - ${bin})::float8 AS e`)).rows[0].e);
    const now = await elapsed();
    if (now > 2) await new Promise((resolve) => setTimeout(resolve, (10 - now) * 1000 + 200));
    await app.database.pool.query(`INSERT INTO rate_limit_windows (key, window_start, count) VALUES ('burst:b', ${bin} - interval '10 seconds', ${limit})`);
    const limiter = postgresRateLimiter(app.database.db);
    let admitted = 0;
    for (let i = 0; i < limit; i++) if ((await limiter.limit(policy, 'b')).success) admitted += 1;
    // The previous window still weighs limit × (1 − elapsed/10): only what it no longer covers fits.
    const after = await elapsed();
    expect(after).toBeLessThan(9);
    expect(admitted).toBeLessThanOrEqual(Math.ceil((limit * after) / 10));
    expect(admitted).toBeLessThan(limit / 2);
  });
});

describe('the sliding window arithmetic', () => {
  const policy: LimitPolicy = { name: 'p', limit: 10, windowSeconds: 60 };

  it('weighs the previous window by how much of it the sliding window still covers', () => {
    // 30 s in: previous 10 weighs 5, plus 3 now = 8 → 2 left.
    expect(slidingWindowResult(policy, { admitted: 3, current: 2, previous: 10, elapsed: 30 })).toEqual({ success: true, remaining: 2, resetSeconds: 30 });
  });

  it('tells a refused caller when one more request fits: later in this window, or in the next', () => {
    // 6 now, previous 10 weighing 5 at 30 s: one more fits once the previous weighs ≤ 3, at 42 s → 12 s.
    expect(slidingWindowResult(policy, { admitted: null, current: 6, previous: 10, elapsed: 30 }).resetSeconds).toBe(12);
    // 10 now (full): the next window starts at 60 s, where this one weighs 10 and must fall to 9: 6 s more.
    expect(slidingWindowResult(policy, { admitted: null, current: 10, previous: 0, elapsed: 30 }).resetSeconds).toBe(36);
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

  it('limits with @upstash/ratelimit sliding windows through @upstash/redis, state kept in Redis', async () => {
    const identifier = `test-${process.pid}-${Date.now()}`;
    const limiter = upstashRateLimiter(rest.url, rest.token);
    const policy: LimitPolicy = { name: 'user', limit: 3, windowSeconds: 60 };
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.limit(policy, identifier));
    expect(results.map((r) => r.success)).toEqual([true, true, true, false]);
    expect(results[2]!.remaining).toBe(0);
    expect(results[3]!.resetSeconds).toBeGreaterThanOrEqual(1);
    const redis = createClient({ url: process.env.REDIS_URL });
    await redis.connect();
    const keys = await redis.keys(`switchyard:ratelimit:user:${identifier}:*`);
    await redis.quit();
    expect(keys.length).toBeGreaterThan(0);
  });

  it('refuses a wrong token as Upstash does', async () => {
    const limiter = upstashRateLimiter(rest.url, 'wrong-token');
    await expect(limiter.limit({ name: 'user', limit: 3, windowSeconds: 60 }, 'x')).rejects.toThrow();
  });
});
