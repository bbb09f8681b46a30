import { fork, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventIdFor } from '../lib/actions/calendar/events';
import { resetConfigForTests } from '../lib/config';
import { db } from '../lib/database';
import { resetProviderPoliciesForTests } from '../lib/providers/resilience';
import { handlers } from '../lib/worker/registry';
import { startActionsApp, type ActionsApp } from './helpers/actions';
import { testRunner } from './helpers/runner';

/**
 * Exactly once across a crash: a runner in a child process takes the action's job, the provider applies
 * the change and then never answers (the sandbox hangs after applying), and the child is SIGKILLed
 * before it can record anything more. Once its lease lapses another runner takes the job over; the
 * provider holds exactly one email, event or record afterwards, and the synced tables one row of it.
 * The API answers 202 at once here (no kicked runner): only the runners act.
 */
let app: ActionsApp;
beforeAll(async () => {
  app = await startActionsApp({ ACTIONS_KICK_RUNNER: 'false', ACTIONS_WAIT_MS: '0' });
});
afterAll(async () => {
  await app?.close();
});
afterEach(() => {
  for (const provider of ['gmail', 'calendar', 'salesforce'] as const) app.sandbox.setFaults(provider, {});
  resetProviderPoliciesForTests();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LEASE_S = 2;

/** A runner child; resolves once it has been killed (after `applied` said the change is made). */
async function killAfterApplied(applied: () => boolean, what: string): Promise<void> {
  const child: ChildProcess = fork(new URL('./fixtures/actions-runner-child.ts', import.meta.url).pathname, [String(LEASE_S)], {
    execArgv: ['--import', 'tsx'],
    stdio: 'ignore',
  });
  try {
    const started = Date.now();
    while (!applied()) {
      if (Date.now() - started > 45_000) throw new Error(`the child runner never applied ${what}`);
      await sleep(10);
    }
  } finally {
    child.kill('SIGKILL');
  }
  await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
}

/** A runner of this process takes over (after the dead runner's lease lapses) until no job is left. */
async function takeOver(): Promise<void> {
  const started = Date.now();
  while (true) {
    await testRunner(db(), { action: handlers.action! }, { backoffBaseMs: 100, backoffMaxMs: 500 }).run({ deadline: Date.now() + 15_000, idleMs: 300, pollMs: 100 });
    const [open] = await app.q<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE status IN ('queued', 'running')`);
    if (open!.n === 0) return;
    if (Date.now() - started > 60_000) throw new Error('the action job never finished');
    await sleep(200);
  }
}

async function heldByDeadRunner(actionId: number) {
  const [job] = await app.q(`SELECT j.status, j.locked_by FROM jobs j JOIN actions a ON a.job_id = j.id WHERE a.id = $1`, [actionId]);
  expect(job).toMatchObject({ status: 'running', locked_by: 'doomed' });
  const [action] = await app.q(`SELECT status, result FROM actions WHERE id = $1`, [actionId]);
  expect(action).toMatchObject({ status: 'running', result: null });
}

describe('exactly once with a runner killed after the provider applied the change', () => {
  it('email.send: the draft was sent; the next runner finds it sent and sends nothing more', { timeout: 120_000 }, async () => {
    await app.connect('crash-gm', 'gmail');
    const queued = await app.write('POST', '/api/emails/send', 'crash-gm', { to: ['x@example.com'], subject: 'Crash once', text: 'hello' });
    expect(queued.status).toBe(202);
    const actionId = queued.body.action.id;
    const sent = () =>
      (app.sandbox.gmail.listMessages('crash-gm', { labelIds: ['SENT'], q: 'subject:"Crash once"' }).messages ?? []).map((m) => m.id);
    // Every Gmail write is applied and left unanswered: the draft is made, then sent, and the child waits.
    app.sandbox.setFaults('gmail', { hangAfterApplyRate: 1, hangMs: 60_000 });
    await killAfterApplied(() => sent().length > 0, 'the send');
    await heldByDeadRunner(actionId);
    app.sandbox.setFaults('gmail', {});

    await takeOver();
    expect(sent()).toHaveLength(1);
    const [action] = await app.q(`SELECT status, result, attempts FROM actions WHERE id = $1`, [actionId]);
    expect(action).toMatchObject({ status: 'succeeded', result: { id: sent()[0] } });
    // At least the killed attempt and the one that took over.
    expect(action!.attempts).toBeGreaterThanOrEqual(2);
    expect(app.sandbox.gmail.draftIds('crash-gm').size).toBe(0);
    const [rows] = await app.q(`SELECT count(*)::int AS n FROM email_messages WHERE user_id = 'crash-gm' AND subject = 'Crash once'`);
    expect(rows!.n).toBe(1);
  });

  it('calendar.create_event: the event was inserted; the repeat insert is 409, so one event and one invitation each', { timeout: 120_000 }, async () => {
    await app.connect('crash-cal', 'calendar');
    const key = 'crash-event';
    const queued = await app.write(
      'POST',
      '/api/calendar/events?sendUpdates=all',
      'crash-cal',
      { summary: 'Crash meeting', start: { dateTime: '2030-03-10T09:00:00Z' }, end: { dateTime: '2030-03-10T10:00:00Z' }, attendees: [{ email: 'guest@example.com' }] },
      key,
    );
    const actionId = queued.body.action.id;
    const eventId = eventIdFor('crash-cal', key);
    app.sandbox.setFaults('calendar', { hangAfterApplyRate: 1, hangMs: 60_000 });
    await killAfterApplied(() => app.sandbox.calendar.getEvent('crash-cal', eventId) !== undefined, 'the insert');
    await heldByDeadRunner(actionId);
    app.sandbox.setFaults('calendar', {});

    await takeOver();
    expect(app.sandbox.calendar.events('crash-cal').filter((e) => e.summary === 'Crash meeting').map((e) => e.id)).toEqual([eventId]);
    expect(app.sandbox.calendar.notifications.filter((n) => n.eventId === eventId).map((n) => n.to)).toEqual(['guest@example.com']);
    const [action] = await app.q(`SELECT status, result->>'id' AS id FROM actions WHERE id = $1`, [actionId]);
    expect(action).toEqual({ status: 'succeeded', id: eventId });
    const [rows] = await app.q(`SELECT count(*)::int AS n FROM calendar_events WHERE user_id = 'crash-cal' AND summary = 'Crash meeting'`);
    expect(rows!.n).toBe(1);
  });

  it('crm.create without an External ID field: the record was created; the next runner finds it by its marker', { timeout: 120_000 }, async () => {
    await app.connect('crash-sf', 'salesforce');
    const queued = await app.write('POST', '/api/crm/lead', 'crash-sf', { LastName: 'Crashed', Company: 'Crash Co', Email: 'crashed@crash.example' });
    const actionId = queued.body.action.id;
    const leads = () => app.sandbox.salesforce.ids('crash-sf', 'Lead').filter((id) => app.sandbox.salesforce.getRecord('crash-sf', 'Lead', id)!.LastName === 'Crashed');
    app.sandbox.setFaults('salesforce', { hangAfterApplyRate: 1, hangMs: 60_000 });
    await killAfterApplied(() => leads().length > 0, 'the create');
    await heldByDeadRunner(actionId);
    app.sandbox.setFaults('salesforce', {});

    await takeOver();
    expect(leads()).toHaveLength(1);
    const [action] = await app.q(`SELECT status, result->>'id' AS id FROM actions WHERE id = $1`, [actionId]);
    expect(action).toEqual({ status: 'succeeded', id: leads()[0] });
    const [rows] = await app.q(`SELECT count(*)::int AS n FROM crm_records WHERE user_id = 'crash-sf' AND name = 'Crashed'`);
    expect(rows!.n).toBe(1);
  });

  it('crm.batch_create with an External ID field: the upsert was applied; the next runner upserts the same records', { timeout: 120_000 }, async () => {
    await app.connect('crash-sfx', 'salesforce');
    process.env.SALESFORCE_EXTERNAL_ID_FIELDS = 'Account=Switchyard_Key__c';
    resetConfigForTests();
    try {
      const queued = await app.write('POST', '/api/crm/account/batch', 'crash-sfx', { records: Array.from({ length: 5 }, (_, i) => ({ Name: `Crash account ${i}` })) });
      const actionId = queued.body.action.id;
      const accounts = () =>
        app.sandbox.salesforce.ids('crash-sfx', 'Account').filter((id) => String(app.sandbox.salesforce.getRecord('crash-sfx', 'Account', id)!.Name).startsWith('Crash account'));
      app.sandbox.setFaults('salesforce', { hangAfterApplyRate: 1, hangMs: 60_000 });
      await killAfterApplied(() => accounts().length === 5, 'the upsert');
      await heldByDeadRunner(actionId);
      app.sandbox.setFaults('salesforce', {});

      await takeOver();
      expect(accounts()).toHaveLength(5);
      const [action] = await app.q(`SELECT status, result->'succeeded' AS succeeded FROM actions WHERE id = $1`, [actionId]);
      expect(action).toEqual({ status: 'succeeded', succeeded: 5 });
      const [rows] = await app.q(`SELECT count(*)::int AS n FROM crm_records WHERE user_id = 'crash-sfx' AND name LIKE 'Crash account %'`);
      expect(rows!.n).toBe(5);
    } finally {
      delete process.env.SALESFORCE_EXTERNAL_ID_FIELDS;
      resetConfigForTests();
    }
  });
});
