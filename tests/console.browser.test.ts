import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncSuccessPayload } from '../dev/sandbox/index';
import { db } from '../lib/database';
import { enqueue } from '../lib/jobs';
import { browserAvailable, useChromium } from './helpers/browser';
import { useSandboxedApp } from './helpers/sandbox-app';
import { ADMIN_API_KEY, CRON_SECRET } from './helpers/server';

/**
 * The operator console in a real browser (Debian's chromium through playwright-core) over the real local
 * server, database and provider sandbox, with the runner driven as Vercel Cron drives it (only more often).
 * One story, in order: sign in, watch a Gmail backfill progress to done, an automation's run and its
 * steps, a dead job found and retried, a connection paused, the webhook deliveries.
 *
 * With CONSOLE_SCREENSHOTS=1 (npm run screenshots:console) each view's screenshot goes to docs/, where
 * the README shows them; otherwise to a temporary folder.
 */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? join(process.cwd(), 'docs') : mkdtempSync(join(tmpdir(), 'console-shots-'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Polls until the assertion holds, 30 s at most by default: the page and the runner are not instant. */
const eventually = <T>(read: () => Promise<T> | T, timeout = 30_000) => expect.poll(read, { timeout, interval: 100 });
/** One attempt's wait for an element inside a poll (the poll retries). */
const brief = { timeout: 1_000 };

describe.runIf(browserAvailable())('the operator console in chromium', () => {
  const app = useSandboxedApp({
    JOBS_BACKOFF_BASE_MS: '100',
    JOBS_BACKOFF_MAX_MS: '1000',
    PROVIDER_MAX_RETRIES: '0',
    RATE_LIMIT_PER_MINUTE: '100000',
  });
  const browser = useChromium();
  let page: Page;
  const offOrigin: string[] = [];
  const pageErrors: string[] = [];
  let ticking = true;
  let ticker: Promise<void>;

  const api = async (method: string, path: string, user: string, body?: unknown) => {
    const response = await fetch(app.url + path, {
      method,
      headers: { authorization: `Bearer ${await app.token(user)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };
  const admin = async (path: string) => {
    const response = await fetch(app.url + path, { headers: { authorization: `Bearer ${ADMIN_API_KEY}` } });
    expect(response.status).toBe(200);
    return response.json();
  };
  const shoot = async (name: string) => {
    await page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    // Vercel Cron calls the runner every minute; here, back to back, so the page sees work happen.
    ticker = (async () => {
      while (ticking) {
        await fetch(`${app.url}/api/cron/run-jobs`, { headers: { authorization: `Bearer ${CRON_SECRET}` } }).catch(() => undefined);
        await sleep(200);
      }
    })();
    page = await browser.context.newPage();
    page.setDefaultTimeout(30_000);
    // A script error, a Content-Security-Policy violation or an API error (but the wrong key's 401) is a
    // failure of the page; each is listed when the file ends, to say why a step timed out.
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) pageErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on('response', async (response) => {
      if (response.status() >= 400 && response.status() !== 401) {
        pageErrors.push(`${response.request().method()} ${response.url()} -> ${response.status()} ${await response.text().catch(() => '')}`);
      }
    });
    page.on('request', (request) => {
      if (!request.url().startsWith(`${app.url}/`) && !request.url().startsWith('data:')) offOrigin.push(request.url());
    });
  });
  afterAll(async () => {
    if (pageErrors.length > 0) console.error(`the console's errors:\n${pageErrors.join('\n')}`);
    ticking = false;
    await ticker;
  });

  it('signs in with the admin key, and only with it', async () => {
    await page.goto(`${app.url}/console/`);
    await page.getByLabel('Admin key').fill('not-the-admin-key-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(() => page.getByRole('alert').textContent(brief)).toContain('That is not the admin key.');
    await shoot('sign-in');
    await page.getByLabel('Admin key').fill(ADMIN_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('[data-view=overview] .card').first().waitFor();
    expect(await page.locator('.card', { hasText: 'Health' }).textContent()).toContain('ok');
    // Kept for the tab's session only, and the page works after a reload.
    expect(await page.evaluate(() => sessionStorage.getItem('switchyard.adminKey'))).toBe(ADMIN_API_KEY);
    await page.reload();
    await page.locator('[data-view=overview] .card').first().waitFor();
  });

  it('shows a Gmail backfill progressing, then done', async () => {
    app.sandbox.ensureUser('ada', { gmailThreads: 100, calendarEvents: 5 });
    // Each provider request takes 3 s: the backfill's 50 threads are fetched 10 at a time and stored in
    // two batches of 25, seconds apart, longer than the page's poll, so the bar is seen between them on a
    // quiet machine as on a loaded one (with 300 ms, a quiet machine finished between two polls).
    app.sandbox.setFaults('gmail', { latencyMs: 3_000 });
    const connected = await api('POST', '/api/connections', 'ada', { provider: 'gmail', connectionId: 'gmail-ada' });
    expect(connected.status).toBe(201);
    const connectionId = connected.body.connection.id as number;

    await page.getByRole('link', { name: 'Connections & syncs' }).click();
    const row = page.locator(`[data-connection="${connectionId}"] [data-stream="threads"]`);
    const bar = row.getByRole('progressbar');
    await bar.waitFor();
    // "backfill: 12 of ~40 records, 1 pages": records stored so far, growing page by page.
    await eventually(async () => Number(/: (\d+)/.exec((await bar.textContent(brief)) ?? '')?.[1] ?? 0), 60_000).toBeGreaterThan(0);
    await shoot('connections');
    // Done: the bar is gone, the stream is idle with a last success.
    await row.getByText('idle').waitFor({ timeout: 90_000 });
    expect(await row.locator('time').first().textContent()).toMatch(/ago$|just now/);
    app.sandbox.setFaults('gmail', {});
    const { connection } = await admin(`/api/admin/connections/${connectionId}`);
    expect(connection.streams[0]).toMatchObject({ stream: 'threads', job: null, lastError: null });
    expect(connection.streams[0].lastSuccessAt).not.toBeNull();
  }, 150_000);

  it('opens a run of an automation and reads its steps', async () => {
    const unit = await api('POST', '/api/units', 'ada', {
      name: 'Acme invoices',
      prompt: 'when: email from:billing@acme.com subject:invoice then: label Invoices, reply "Thanks, received."',
    });
    expect(unit.status).toBe(201);
    app.sandbox.gmail.addMessage('ada', { from: 'Acme Billing <billing@acme.com>', subject: 'Invoice 2291 for November', text: 'Amount due: 120 EUR' });
    expect((await app.webhook(syncSuccessPayload({ connectionId: 'gmail-ada', providerConfigKey: 'google-mail', syncName: 'emails', model: 'GmailEmail' }))).status).toBe(202);

    await page.getByRole('link', { name: 'Automations' }).click();
    const unitRow = page.locator(`[data-unit="${unit.body.unit.id}"]`);
    await unitRow.waitFor();
    const run = page.locator('[data-run][data-status=completed]').first();
    await run.waitFor({ timeout: 60_000 });
    await shoot('automations');
    await run.getByRole('link').first().click();
    const steps = page.locator('.timeline > li');
    await eventually(() => steps.count()).toBe(2);
    expect(await steps.nth(0).locator('.step-tool').textContent()).toMatch(/label/i);
    expect(await steps.nth(1).locator('.step-tool').textContent()).toBe('email.send');
    for (const index of [0, 1]) expect(await steps.nth(index).locator('.badge').textContent()).toBe('succeeded');
    expect(await steps.nth(0).locator('.step-body').textContent()).toContain('Invoices');
    expect(await steps.nth(1).locator('.step-body').textContent()).toContain('Thanks, received.');
    await shoot('run');

    // The unit's status toggle: paused from the console, and active again.
    await page.getByRole('link', { name: '← Automations' }).click();
    await unitRow.getByRole('button', { name: 'Pause' }).click();
    await eventually(() => unitRow.getAttribute('data-status', brief)).toBe('paused');
    await unitRow.getByRole('button', { name: 'Activate' }).click();
    await eventually(() => unitRow.getAttribute('data-status', brief)).toBe('active');
  }, 120_000);

  it('finds a dead job from the overview and retries it once the provider is back', async () => {
    const connected = await api('POST', '/api/connections', 'ada', { provider: 'calendar', connectionId: 'calendar-ada' });
    expect(connected.status).toBe(201);
    await eventually(async () => (await admin(`/api/admin/connections/${connected.body.connection.id}`)).connection.streams[0].lastSuccessAt, 60_000).not.toBeNull();
    // Calendar is down; a sync allowed one attempt fails for good: dead, with the provider's error.
    app.sandbox.setFaults('calendar', { errorRate: 1 });
    const { job } = await enqueue(db(), {
      kind: 'sync.calendar',
      userId: 'ada',
      payload: { connectionId: connected.body.connection.id, stream: 'events', mode: 'incremental' },
      maxAttempts: 1,
    });
    await eventually(async () => (await admin(`/api/admin/jobs/${job.id}`)).job.status, 60_000).toBe('dead');
    app.sandbox.setFaults('calendar', {});

    await page.getByRole('link', { name: 'Overview' }).click();
    const deadCard = page.locator('.card', { hasText: 'Dead jobs' });
    await eventually(() => deadCard.locator('.card-value').textContent(brief)).toBe('1');
    await shoot('overview');
    await deadCard.getByRole('link').click();
    const row = page.locator(`[data-job="${job.id}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('dead');
    await shoot('jobs');
    await row.getByRole('link', { name: String(job.id) }).click();
    await page.getByText('Last error').waitFor();
    await shoot('job');
    await page.getByRole('button', { name: 'Retry' }).click();
    await eventually(() => page.locator('.facts .badge').first().textContent(brief), 60_000).toBe('succeeded');
    expect((await admin(`/api/admin/jobs/${job.id}`)).job).toMatchObject({ status: 'succeeded', lastError: null });
  }, 150_000);

  it('filters the queue by kind and cancels the jobs selected', async () => {
    const later = new Date(Date.now() + 3_600_000);
    const jobs = await Promise.all(
      ['one', 'two'].map(async (name) => (await enqueue(db(), { kind: 'report.weekly', userId: 'ada', payload: { name }, runAt: later })).job),
    );
    await page.getByRole('link', { name: 'Queue & jobs' }).click();
    await page.getByLabel('Kind').fill('report.weekly');
    await page.getByRole('button', { name: 'Filter' }).click();
    await eventually(() => page.url()).toContain('kind=report.weekly');
    const rows = page.locator('[data-view=jobs] tbody tr');
    await eventually(() => rows.count()).toBe(2);
    await page.getByLabel('select all').check();
    await page.getByRole('button', { name: 'Cancel selected (2)' }).click();
    await page.getByRole('status').getByText('Cancelled 2 of 2 job(s).').waitFor();
    for (const job of jobs) expect((await admin(`/api/admin/jobs/${job.id}`)).job.status).toBe('cancelled');
    await eventually(() => rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-status')))).toEqual(['cancelled', 'cancelled']);
  });

  it('pauses a connection', async () => {
    const { data } = await admin('/api/admin/connections?provider=gmail&userId=ada');
    const gmail = data[0];
    await page.getByRole('link', { name: 'Connections & syncs' }).click();
    const panel = page.locator(`[data-connection="${gmail.id}"]`);
    await panel.getByRole('button', { name: 'Pause' }).click();
    await eventually(() => panel.getAttribute('data-status', brief)).toBe('paused');
    await panel.getByRole('button', { name: 'Resume' }).waitFor();
    expect((await admin(`/api/admin/connections/${gmail.id}`)).connection.status).toBe('paused');
  });

  it('lists webhook deliveries, the rejected ones with their reason', async () => {
    // A delivery for a connection nobody has: recorded, and said why it was not acted on.
    expect((await app.webhook(syncSuccessPayload({ connectionId: 'gmail-nobody', providerConfigKey: 'google-mail', syncName: 'emails', model: 'GmailEmail' }))).status).toBe(202);
    await page.getByRole('link', { name: 'Webhooks' }).click();
    const rows = page.locator('[data-view=webhooks] tbody tr');
    await page.locator('[data-view=webhooks] tr[data-status=rejected]').waitFor();
    expect(await rows.count()).toBeGreaterThanOrEqual(2);
    await shoot('webhooks');
    await page.getByLabel('Status').selectOption('rejected');
    await eventually(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('unknown connection "gmail-nobody"');
    // Nothing the page loaded came from anywhere but the deployment, and nothing went wrong in it.
    expect(offOrigin).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
