import { Nango } from '@nangohq/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../dev/sandbox/index';
import { NANGO_SECRET, failure, gmailClient, header, startTestSandbox } from '../helpers/sandbox';

let sandbox: Sandbox;
let now = Date.UTC(2025, 5, 1, 12, 0, 0);
const clock = () => now;

beforeAll(async () => {
  sandbox = await startTestSandbox({ clock, anchorTime: now });
  for (const u of ['q1', 'q2', 'f1', 'f2']) sandbox.ensureUser(u, { gmailThreads: 30 });
});
afterAll(() => sandbox.close());
afterEach(() => {
  for (const p of ['nango', 'gmail', 'calendar', 'salesforce'] as const) sandbox.setFaults(p, {});
});

describe('per-user quotas', () => {
  it('accounts Gmail quota units per method', async () => {
    const g = gmailClient(sandbox, sandbox.accessToken('q1', 'gmail'));
    await g.users.getProfile({ userId: 'me' }); // 1
    const list = await g.users.threads.list({ userId: 'me', maxResults: 5 }); // 10
    const id = list.data.threads![0]!.id as string;
    await g.users.threads.get({ userId: 'me', id }); // 10
    await g.users.messages.list({ userId: 'me', maxResults: 5 }); // 5
    await g.users.messages.get({ userId: 'me', id }); // 5
    await g.users.history.list({ userId: 'me', startHistoryId: list.data.threads![0]!.historyId as string }); // 2
    await g.users.messages.send({ userId: 'me', requestBody: { raw: Buffer.from('To: a@example.com\r\nSubject: s\r\n\r\nb').toString('base64url') } }); // 100
    const usage = sandbox.quotaUsage('q1').gmail;
    expect(usage).toEqual({ windowUnits: 133, limit: 15_000, totalUnits: 133, requests: 7, refusals: 0 });
    expect(sandbox.quotaUsage('q2').gmail.totalUnits).toBe(0); // per user
  });

  it('refuses Gmail calls past 15,000 units in a rolling minute, with Google 429 body', async () => {
    const g = gmailClient(sandbox, sandbox.accessToken('q2', 'gmail'));
    sandbox.quotas.preload('q2', 'gmail', 14_990);
    await g.users.messages.list({ userId: 'me', maxResults: 1 }); // 14,995
    const refused = await failure(g.users.threads.list({ userId: 'me', maxResults: 1 })); // +10 > 15,000
    expect(refused.status).toBe(429);
    expect(refused.data.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(refused.data.error.message).toContain("Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user'");
    expect(refused.data.error.errors[0]).toMatchObject({ domain: 'usageLimits', reason: 'rateLimitExceeded' });
    await g.users.messages.get({ userId: 'me', id: (await sandbox.gmail.listThreads('q2', { maxResults: 1 })).threads![0]!.id }); // exactly 15,000
    expect((await failure(g.users.getProfile({ userId: 'me' }))).status).toBe(429);
    const usage = sandbox.quotaUsage('q2').gmail;
    expect(usage.windowUnits).toBe(15_000);
    expect(usage.refusals).toBe(2);

    // the window rolls: 30 s later still full, 61 s later free
    now += 30_000;
    expect((await failure(g.users.getProfile({ userId: 'me' }))).status).toBe(429);
    now += 31_000;
    expect((await g.users.getProfile({ userId: 'me' })).status).toBe(200);
    expect(sandbox.quotaUsage('q2').gmail.windowUnits).toBe(1);

    const viaHttp = (await (await fetch(`${sandbox.url}/_sandbox/quotas`)).json()) as Record<string, any>;
    expect(viaHttp['q2'].gmail.refusals).toBe(3);
    expect(viaHttp['q2'].gmail.totalUnits).toBeGreaterThanOrEqual(15_001);
  });

  it('limits Calendar to 600 requests per user per minute and counts Salesforce API usage', async () => {
    const calToken = sandbox.accessToken('q1', 'calendar');
    sandbox.quotas.preload('q1', 'calendar', 599);
    const ok = await fetch(`${sandbox.url}/calendar/v3/calendars/primary/events`, { headers: { Authorization: `Bearer ${calToken}` } });
    expect(ok.status).not.toBe(403);
    const refused = await fetch(`${sandbox.url}/calendar/v3/calendars/primary/events`, { headers: { Authorization: `Bearer ${calToken}` } });
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as any;
    expect(body.error.errors[0]).toMatchObject({ domain: 'usageLimits', reason: 'rateLimitExceeded' });
    expect(sandbox.quotaUsage('q1').calendar.refusals).toBe(1);

    const sfToken = sandbox.accessToken('q1', 'salesforce');
    const r1 = await fetch(`${sandbox.url}/services/data/v59.0/sobjects`, { headers: { Authorization: `Bearer ${sfToken}` } });
    const r2 = await fetch(`${sandbox.url}/services/data/v59.0/query?q=${encodeURIComponent('SELECT Id FROM Lead')}`, { headers: { Authorization: `Bearer ${sfToken}` } });
    expect(r1.headers.get('sforce-limit-info')).toBe('api-usage=1/15000');
    expect(r2.headers.get('sforce-limit-info')).toBe('api-usage=2/15000');
    expect(sandbox.quotaUsage('q1').salesforce.totalUnits).toBe(2);
  });
});

describe('faults', () => {
  it('errorRate answers a seeded share of 500/503 with Google error bodies, deterministically', async () => {
    const run = async (s: Sandbox) => {
      s.setFaults('gmail', { errorRate: 0.3 });
      const g = gmailClient(s, s.accessToken('f1', 'gmail'));
      const statuses: number[] = [];
      for (let i = 0; i < 200; i++) {
        try {
          await g.users.getProfile({ userId: 'me' });
          statuses.push(200);
        } catch (err) {
          const e = err as { response: { status: number; data: any } };
          statuses.push(e.response.status);
          expect(e.response.data.error.code).toBe(e.response.status);
          expect(e.response.data.error.errors[0].reason).toBe('backendError');
        }
      }
      return statuses;
    };
    const first = await run(sandbox);
    const failed = first.filter((s) => s !== 200);
    expect(new Set(failed)).toEqual(new Set([500, 503]));
    expect(failed.length / first.length).toBeGreaterThan(0.18);
    expect(failed.length / first.length).toBeLessThan(0.42);
    expect(sandbox.faultStats('gmail').errors).toBeGreaterThanOrEqual(failed.length);

    const twin = await startTestSandbox({ clock, anchorTime: now });
    try {
      twin.ensureUser('f1', { gmailThreads: 30 });
      expect(await run(twin)).toEqual(first);
    } finally {
      await twin.close();
    }
  });

  it('rateLimitRate answers 429 with Retry-After', async () => {
    sandbox.setFaults('gmail', { rateLimitRate: 1, retryAfterSeconds: 7 });
    const res = await failure(gmailClient(sandbox, sandbox.accessToken('f1', 'gmail')).users.getProfile({ userId: 'me' }));
    expect(res.status).toBe(429);
    expect(header(res.headers, 'retry-after')).toBe('7');
    expect(res.data.error.errors[0].reason).toBe('rateLimitExceeded');

    sandbox.setFaults('salesforce', { rateLimitRate: 1, retryAfterSeconds: 3 });
    const sf = await fetch(`${sandbox.url}/services/data/v59.0/sobjects`, { headers: { Authorization: `Bearer ${sandbox.accessToken('f1', 'salesforce')}` } });
    expect(sf.status).toBe(429);
    expect(sf.headers.get('retry-after')).toBe('3');
    expect(Array.isArray(await sf.json())).toBe(true);
  });

  it('faults Nango too', async () => {
    sandbox.setFaults('nango', { errorRate: 1 });
    const nango = new Nango({ host: sandbox.url, secretKey: NANGO_SECRET });
    const res = await failure(nango.getConnection('google-mail', 'gmail-f1'));
    expect([500, 503]).toContain(res.status);
    expect(res.data.error.code).toBe('server_error');
  });

  it('expireTokens gives 401 until the client fetches the current token from Nango', async () => {
    const nango = new Nango({ host: sandbox.url, secretKey: NANGO_SECRET });
    const old = (await nango.getToken('google-mail', 'gmail-f2')) as string;
    const res = await fetch(`${sandbox.url}/_sandbox/faults/gmail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ expireTokens: true }) });
    expect(res.status).toBe(200);
    const denied = await failure(gmailClient(sandbox, old).users.getProfile({ userId: 'me' }));
    expect(denied.status).toBe(401);
    expect(header(denied.headers, 'www-authenticate')).toContain('invalid_token');
    const fresh = (await nango.getToken('google-mail', 'gmail-f2')) as string; // no force needed
    expect(fresh).not.toBe(old);
    expect((await gmailClient(sandbox, fresh).users.getProfile({ userId: 'me' })).status).toBe(200);
    // other providers' tokens were not touched
    const sf = await fetch(`${sandbox.url}/services/data/v59.0/sobjects`, { headers: { Authorization: `Bearer ${sandbox.accessToken('f2', 'salesforce')}` } });
    expect(sf.status).not.toBe(401);
  });

  it('latencyMs delays and hangRate hangs until the client gives up', async () => {
    sandbox.setFaults('gmail', { latencyMs: 150 });
    const g = gmailClient(sandbox, sandbox.accessToken('f1', 'gmail'));
    let t0 = performance.now();
    await g.users.getProfile({ userId: 'me' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);

    sandbox.setFaults('gmail', { hangRate: 1 });
    const hangsBefore = sandbox.faultStats('gmail').hangs;
    const impatient = gmailClient(sandbox, sandbox.accessToken('f1', 'gmail'), { timeout: 300 });
    t0 = performance.now();
    await expect(impatient.users.getProfile({ userId: 'me' })).rejects.toThrow();
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(5_000);
    expect(sandbox.faultStats('gmail').hangs).toBe(hangsBefore + 1);

    // a bounded hang answers by itself
    sandbox.setFaults('gmail', { hangRate: 1, hangMs: 200 });
    const bounded = await fetch(`${sandbox.url}/gmail/v1/users/me/profile`, { headers: { Authorization: `Bearer ${sandbox.accessToken('f1', 'gmail')}` } });
    expect(bounded.status).toBe(503);
  });

  it('close() does not wait for hanging requests', async () => {
    const s = await startTestSandbox();
    s.ensureUser('h', { gmailThreads: 2 });
    s.setFaults('gmail', { hangRate: 1 });
    const pending = fetch(`${s.url}/gmail/v1/users/me/profile`, { headers: { Authorization: `Bearer ${s.accessToken('h', 'gmail')}` } }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await s.close();
    expect(performance.now() - t0).toBeLessThan(2_000);
    await pending;
  });
});
