import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LLM_PATH, authPayload, syncSuccessPayload } from '../dev/sandbox/index';
import { resetConfigForTests } from '../lib/config';
import { resetProviderPoliciesForTests } from '../lib/providers/resilience';
import { startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';
import { CRON_SECRET } from './helpers/server';

/**
 * Automations end to end (seed 002's flows): units over real HTTP, mail arriving in the sandbox's
 * Gmail, Nango's sync webhook, the real runner (cron passes), runs and steps read back over HTTP.
 */
let app: SandboxedApp;
const query = async <T = any>(text: string, values: unknown[] = []) => (await app.database.pool.query(text, values)).rows as T[];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  app = await startSandboxedApp({
    WEBHOOK_KICK_RUNNER: 'false',
    RATE_LIMIT_PER_MINUTE: '100000',
    JOBS_BACKOFF_BASE_MS: '100',
    JOBS_BACKOFF_MAX_MS: '2000',
    AUTOMATIONS_MAX_RUNS_PER_UNIT_PER_HOUR: '3',
  });
  Object.assign(process.env, {
    GOOGLE_API_ROOT_URL: app.sandbox.url,
    AUTOMATIONS_LLM_BASE_URL: app.sandbox.url + LLM_PATH,
    AUTOMATIONS_LLM_API_KEY: 'test-llm-key',
  });
  resetConfigForTests();
});
afterAll(async () => {
  await app?.close();
});
beforeEach(() => {
  resetProviderPoliciesForTests();
});

async function call(method: string, path: string, user: string, body?: unknown, headers: Record<string, string> = {}) {
  const all: Record<string, string> = { authorization: `Bearer ${await app.token(user)}`, ...headers };
  if (body !== undefined) all['content-type'] = 'application/json';
  const response = await fetch(app.url + path, { method, headers: all, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** Cron passes until no job is queued or running. */
async function settle(timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (true) {
    const [state] = await query<{ live: number; runnable: number }>(`
      SELECT count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS live,
             count(*) FILTER (WHERE (status = 'queued' AND run_at <= now()) OR (status = 'running' AND locked_until < now()))::int AS runnable
      FROM jobs`);
    if (state!.live === 0) return;
    if (Date.now() > end) throw new Error(`jobs did not settle: ${JSON.stringify(await query(`SELECT id, kind, status, last_error FROM jobs WHERE status IN ('queued', 'running')`))}`);
    if (state!.runnable > 0) {
      const response = await fetch(`${app.url}/api/cron/run-jobs`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
      expect(response.status).toBe(200);
    } else await sleep(50);
  }
}

/** A Gmail connection through Nango's auth webhook, its backfill done. */
async function connectGmail(userId: string): Promise<string> {
  app.sandbox.ensureUser(userId, { gmailThreads: 3 });
  const connectionId = `gmail-${userId}`;
  const response = await app.webhook(authPayload({ connectionId, providerConfigKey: 'google-mail', endUser: { endUserId: userId } }));
  expect(response.status).toBe(202);
  await settle();
  return connectionId;
}

/** Mail arrives in the sandbox and Nango says so: the sync, the matcher and the runs all run. */
async function mailArrives(userId: string, connectionId: string, ...mails: { from: string; subject: string; text?: string }[]) {
  for (const mail of mails) app.sandbox.gmail.addMessage(userId, { text: 'Hello', ...mail });
  const response = await app.webhook(syncSuccessPayload({ connectionId, providerConfigKey: 'google-mail', syncName: 'emails', model: 'GmailEmail' }));
  expect(response.status).toBe(202);
  await settle();
}

describe('automations: seed 002 flow 1, create and execute', () => {
  it('a mail from test@test.com makes a completed run of "do nothing"; other mail makes none', async () => {
    const connection = await connectGmail('ada');
    const created = await call('POST', '/api/units', 'ada', { name: 'Test sender', prompt: 'when: email from test@test.com then: do nothing' });
    expect(created.status).toBe(201);
    expect(created.body.unit).toMatchObject({ name: 'Test sender', status: 'active', compiled: { trigger: { source: 'email', eventTypes: ['email.received'] } } });
    const list = await call('GET', '/api/units', 'ada');
    expect(list.body.data.map((u: { id: number; status: string }) => [u.id, u.status])).toEqual([[created.body.unit.id, 'active']]);

    await mailArrives('ada', connection, { from: 'Tess <test@test.com>', subject: 'Ping' }, { from: 'other@example.org', subject: 'Not this one' });

    const runs = await call('GET', '/api/runs?limit=10', 'ada');
    expect(runs.status).toBe(200);
    expect(runs.body.data).toHaveLength(1);
    const [run] = runs.body.data;
    expect(run).toMatchObject({ unitId: created.body.unit.id, eventType: 'email.received', status: 'completed', error: null });
    expect(run.facts).toMatchObject({ from: 'test@test.com', fromName: 'Tess', subject: 'Ping' });
    const steps = await call('GET', `/api/runs/${run.id}/steps`, 'ada');
    expect(steps.body.data).toEqual([
      expect.objectContaining({ index: 0, tool: 'noop', status: 'succeeded', error: null, durationMs: expect.any(Number) }),
    ]);
    expect((await call('GET', `/api/runs/${run.id}`, 'ada')).body.run.id).toBe(run.id);

    // Polling is cheap: nothing changed, 304 without the list.
    const etag = runs.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    const again = await call('GET', '/api/runs?limit=10', 'ada', undefined, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    // Another user's runs are not these: a different validator, and none of ada's rows.
    const bob = await call('GET', '/api/runs?limit=10', 'bob', undefined, { 'if-none-match': etag });
    expect(bob.status).toBe(200);
    expect(bob.body.data).toEqual([]);
    expect((await call('GET', `/api/runs/${run.id}`, 'bob')).status).toBe(404);
    expect((await call('GET', `/api/runs/${run.id}/steps`, 'bob')).status).toBe(404);

    // The same sync delivered again makes no second run.
    const response = await app.webhook(syncSuccessPayload({ connectionId: connection, providerConfigKey: 'google-mail', syncName: 'emails', model: 'GmailEmail' }));
    expect(response.status).toBe(202);
    await settle();
    expect(await query(`SELECT count(*)::int AS n FROM runs`)).toEqual([{ n: 1 }]);
    expect(await query(`SELECT count(*)::int AS n FROM events WHERE user_id = 'ada' AND matched_at IS NULL`)).toEqual([{ n: 0 }]);
  });
});

describe('automations: seed 002 flow 2, pause and resume', () => {
  it('no run while paused, a run after resume, and mail from before the resume is not replayed', async () => {
    const connection = await connectGmail('pat');
    const { body } = await call('POST', '/api/units', 'pat', { name: 'Invoices', prompt: 'when: email subject:invoice -category:promotion then: do nothing' });
    const id = body.unit.id;
    const paused = await call('PATCH', `/api/units/${id}/status`, 'pat', { status: 'paused' });
    expect(paused.body.unit.status).toBe('paused');
    await mailArrives('pat', connection, { from: 'billing@acme.com', subject: 'Invoice 7' });
    expect((await call('GET', '/api/runs', 'pat')).body.data).toEqual([]);

    const resumed = await call('PATCH', `/api/units/${id}/status`, 'pat', { status: 'active' });
    expect(resumed.body.unit.status).toBe('active');
    await mailArrives('pat', connection, { from: 'billing@acme.com', subject: 'Invoice 8' });
    const runs = (await call('GET', `/api/runs?unitId=${id}`, 'pat')).body.data;
    expect(runs.map((r: { status: string; facts: { subject: string } }) => [r.status, r.facts.subject])).toEqual([['completed', 'Invoice 8']]);
  });

  it('bounds runs per unit per hour: past the bound a match is a skipped run that says why', async () => {
    const connection = await connectGmail('lou');
    const { body } = await call('POST', '/api/units', 'lou', { name: 'Every mail', prompt: 'when: email then: do nothing' });
    await mailArrives('lou', connection, ...[1, 2, 3, 4, 5].map((n) => ({ from: 'x@example.com', subject: `Mail ${n}` })));
    const runs = (await call('GET', `/api/runs?unitId=${body.unit.id}`, 'lou')).body.data as { status: string; error: string | null }[];
    expect(runs.filter((r) => r.status === 'completed')).toHaveLength(3);
    const skipped = runs.filter((r) => r.status === 'skipped');
    expect(skipped).toHaveLength(2);
    expect(skipped[0]!.error).toMatch(/at most 3 runs per unit per hour/);
    const steps = await call('GET', `/api/runs/${(skipped[0] as unknown as { id: number }).id}/steps`, 'lou');
    expect(steps.body.data).toEqual([expect.objectContaining({ status: 'skipped' })]);
  });
});

describe('automations: seed 002 flow 3, errors', () => {
  it('an invalid prompt is 422 "Invalid compilation ... at line:column" and stores nothing', async () => {
    await connectGmail('eve');
    const response = await call('POST', '/api/units', 'eve', { name: 'Bad', prompt: 'when: something' });
    expect(response.status).toBe(422);
    expect(response.body.error.message).toMatch(/^Invalid compilation: unknown trigger "something".* at 1:7$/);
    expect(response.body.error.requestId).toEqual(expect.any(String));
    expect(await query(`SELECT count(*)::int AS n FROM units WHERE user_id = 'eve'`)).toEqual([{ n: 0 }]);
  });

  it('a unit needing a provider the user has not connected is 422 "No connection found for provider ..."', async () => {
    await connectGmail('zed');
    const calendar = await call('POST', '/api/units', 'zed', { name: 'C', prompt: 'when: calendar event cancelled then: do nothing' });
    expect(calendar.status).toBe(422);
    expect(calendar.body.error.message).toBe('No connection found for provider calendar');
    const crm = await call('POST', '/api/units', 'zed', { name: 'L', prompt: 'when: email from:a@b.com then: create lead' });
    expect(crm.status).toBe(422);
    expect(crm.body.error.message).toBe('No connection found for provider salesforce');
  });

  it('an expired token is 401', async () => {
    const expired = await app.sandbox.mintIdToken('eve', { expiresInSeconds: -60 });
    const response = await fetch(`${app.url}/api/units`, { headers: { authorization: `Bearer ${expired}` } });
    expect(response.status).toBe(401);
    expect((await response.json()).error.code).toBe('unauthenticated');
  });

  it('limits: a malformed body is 400 naming the field; an unknown unit is 404', async () => {
    const response = await call('POST', '/api/units', 'eve', { name: '', prompt: 7 });
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['name', 'prompt']);
    expect((await call('GET', '/api/units/999999', 'eve')).status).toBe(404);
    expect((await call('PATCH', '/api/units/999999/status', 'eve', { status: 'paused' })).status).toBe(404);
    expect((await call('PATCH', '/api/units/1/status', 'eve', { status: 'sleeping' })).status).toBe(400);
  });
});

describe('automations: units and preview', () => {
  it('rename, recompile, test against synced mail and delete', async () => {
    const connection = await connectGmail('kim');
    await mailArrives('kim', connection, { from: 'billing@acme.com', subject: 'Invoice 12' }, { from: 'news@shop.example', subject: 'Sale!' });
    const { body } = await call('POST', '/api/units', 'kim', { name: 'A', prompt: 'when: email from:@acme.com then: do nothing' });
    const id = body.unit.id;
    const renamed = await call('PATCH', `/api/units/${id}`, 'kim', { name: 'Acme mail' });
    expect(renamed.body.unit).toMatchObject({ name: 'Acme mail', prompt: 'when: email from:@acme.com then: do nothing' });
    const recompiled = await call('PATCH', `/api/units/${id}`, 'kim', { prompt: 'when: email subject:invoice then: do nothing' });
    expect(recompiled.body.unit.compiled.conjuncts).toEqual([{ cel: expect.any(String), text: 'subject:invoice' }]);
    expect((await call('PATCH', `/api/units/${id}`, 'kim', { prompt: 'when: email then: explode' })).status).toBe(422);

    const tested = await call('POST', `/api/units/${id}/test`, 'kim', {});
    expect(tested.status).toBe(200);
    const byTitle = Object.fromEntries(tested.body.items.map((i: { title: string }) => [i.title, i]));
    expect(byTitle['Invoice 12']).toMatchObject({ matches: true });
    expect(byTitle['Sale!']).toMatchObject({ matches: false, reason: 'condition failed: subject:invoice' });

    const preview = await call('POST', '/api/units/preview', 'kim', { prompt: 'when: email from:@shop.example -subject:sale then: do nothing', limit: 10 });
    expect(preview.status).toBe(200);
    const verdicts = Object.fromEntries(preview.body.items.map((i: { title: string; matches: boolean; reason?: string }) => [i.title, i.reason ?? 'match']));
    expect(verdicts['Sale!']).toBe('condition failed: -subject:sale');
    expect(verdicts['Invoice 12']).toBe('condition failed: from:@shop.example');
    expect(await query(`SELECT count(*)::int AS n FROM units WHERE user_id = 'kim'`)).toEqual([{ n: 1 }]);

    expect((await call('DELETE', `/api/units/${id}`, 'kim')).status).toBe(204);
    expect((await call('GET', `/api/units/${id}`, 'kim')).status).toBe(404);
    expect((await call('DELETE', `/api/units/${id}`, 'kim')).status).toBe(404);
  });
});

describe('automations: steps act through the actions, exactly once', () => {
  it('label and reply: each step is one action, the label is on the thread, the reply is in it', async () => {
    const connection = await connectGmail('ivy');
    const { body } = await call('POST', '/api/units', 'ivy', {
      name: 'Invoices',
      prompt: 'when: email from:billing@acme.com subject:invoice then: label Invoices, reply "Thanks, received: {{email.subject}}"',
    });
    expect(body.unit.compiled.steps.map((s: { tool: string }) => s.tool)).toEqual(['email.label', 'email.send']);
    await mailArrives('ivy', connection, { from: 'Billing <billing@acme.com>', subject: 'Invoice 42' });

    const [run] = (await call('GET', '/api/runs', 'ivy')).body.data;
    expect(run).toMatchObject({ status: 'completed', error: null });
    const steps = (await call('GET', `/api/runs/${run.id}/steps`, 'ivy')).body.data;
    expect(steps.map((s: { tool: string; status: string }) => [s.tool, s.status])).toEqual([
      ['email.label', 'succeeded'],
      ['email.send', 'succeeded'],
    ]);
    expect(steps[0].output).toMatchObject({ label: 'Invoices', labelId: expect.stringMatching(/^Label_/) });
    expect(steps[1].input).toMatchObject({ to: ['billing@acme.com'], subject: 'Re: Invoice 42', text: 'Thanks, received: Invoice 42' });
    const threadId = run.facts.threadId as string;
    const thread = app.sandbox.gmail.getThread('ivy', threadId, 'minimal');
    expect(thread.messages[0]!.labelIds).toContain(steps[0].output.labelId);
    // One reply, in the thread; the actions are the steps' own (idempotency key run:<run>:<index>).
    expect(thread.messages).toHaveLength(2);
    const actions = await query(`SELECT tool, idempotency_key, status FROM actions WHERE user_id = 'ivy' ORDER BY id`);
    expect(actions).toEqual([
      { tool: 'email.label', idempotency_key: `run:${run.id}:0`, status: 'succeeded' },
      { tool: 'email.send', idempotency_key: `run:${run.id}:1`, status: 'succeeded' },
    ]);
    // The label shows at once in the read API (read your writes).
    const [stored] = await query(`SELECT label_ids FROM email_threads WHERE user_id = 'ivy' AND provider_thread_id = $1`, [threadId]);
    expect(stored.label_ids).toContain(steps[0].output.labelId);
  });

  it('a unit whose own mail syncs back does not run again for it', async () => {
    const connection = await connectGmail('max');
    const self = app.sandbox.gmail.profile('max').emailAddress;
    await call('POST', '/api/units', 'max', { name: 'Echo', prompt: `when: email subject:ping then: send email to ${self} subject "ping back"` });
    await mailArrives('max', connection, { from: 'friend@example.com', subject: 'ping' });
    // The sent mail is in the mailbox now: the next sync brings it back as received mail.
    await mailArrives('max', connection);
    const runs = (await call('GET', '/api/runs', 'max')).body.data;
    expect(runs.map((r: { status: string; facts: { subject: string } }) => [r.status, r.facts.subject])).toEqual([['completed', 'ping']]);
    expect(await query(`SELECT count(*)::int AS n FROM actions WHERE user_id = 'max' AND tool = 'email.send'`)).toEqual([{ n: 1 }]);
  });

  it('a step whose action is refused fails the run with its error and skips the rest', async () => {
    const connection = await connectGmail('rex');
    await call('POST', '/api/units', 'rex', { name: 'Bad', prompt: 'when: email subject:hello then: send email to {{email.cc}} subject "x", label Done' });
    await mailArrives('rex', connection, { from: 'a@example.com', subject: 'hello' });
    const [run] = (await call('GET', '/api/runs', 'rex')).body.data;
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^step 0 \(email.send\) failed: /);
    const steps = (await call('GET', `/api/runs/${run.id}/steps`, 'rex')).body.data;
    expect(steps.map((s: { status: string }) => s.status)).toEqual(['failed', 'skipped']);
    expect(steps[0].error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  });
});

describe('automations: prose through the configured LLM', () => {
  it('a request in prose is compiled from the model’s proposal; the unit keeps the compiled prompt', async () => {
    await connectGmail('lia');
    const response = await call('POST', '/api/units', 'lia', { name: 'Prose', prompt: 'When someone from billing@acme.com emails about an invoice, label it Invoices' });
    expect(response.status).toBe(201);
    expect(response.body.unit.prompt).toBe('when: email from:billing@acme.com subject:invoice then: label Invoices');
    expect(response.body.unit.compiled.steps).toEqual([expect.objectContaining({ tool: 'email.label' })]);
  });

  it('a proposal that does not compile is refused like any invalid prompt, and nothing is stored', async () => {
    await connectGmail('lia2');
    const response = await call('POST', '/api/units', 'lia2', { name: 'Nonsense', prompt: 'do some gibberish for me' });
    expect(response.status).toBe(422);
    expect(response.body.error.message).toMatch(/^Invalid compilation: .* at 1:\d+ \(in the LLM's proposal "when: weather is sunny then: go outside"\)$/);
    expect(await query(`SELECT count(*)::int AS n FROM units WHERE user_id = 'lia2'`)).toEqual([{ n: 0 }]);
  });
});
