import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneActions } from '../lib/actions/store';
import { resetConfigForTests } from '../lib/config';
import { db } from '../lib/database';
import { startActionsApp, type ActionsApp } from './helpers/actions';

/**
 * What every action shares over HTTP: GET /api/actions and /api/actions/{id}, 202 while an action runs,
 * the connection it needs, and read-your-writes that the next sync updates without duplicating.
 */
let app: ActionsApp;
beforeAll(async () => {
  app = await startActionsApp();
});
afterAll(async () => {
  await app?.close();
});

const DAY = 86_400_000;
const at = (days: number, hour: number) => new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY + hour * 3_600_000).toISOString();

describe('GET /api/actions', () => {
  it('lists the caller\'s actions newest first, filtered by status and tool, paged; one action by id; another user\'s is 404', async () => {
    await app.connect('api-ann', 'calendar');
    await app.connect('api-ann', 'salesforce');
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push((await app.write('POST', '/api/calendar/events', 'api-ann', { summary: `Listed ${i}`, start: { dateTime: at(3, 9 + i) }, end: { dateTime: at(3, 10 + i) } })).body.action);
    }
    const refused = await app.write('POST', '/api/crm/lead', 'api-ann', { FirstName: 'No last name' });
    expect(refused.status).toBe(422);

    const page1 = await app.get('/api/actions?limit=2', 'api-ann');
    expect(page1.status).toBe(200);
    expect(page1.body.data.map((a: any) => a.id)).toEqual([refused.body.action.id, made[2].id]);
    const page2 = await app.get(`/api/actions?limit=2&cursor=${page1.body.nextCursor}`, 'api-ann');
    expect(page2.body).toMatchObject({ data: [{ id: made[1].id }, { id: made[0].id }], nextCursor: null });
    const failed = await app.get('/api/actions?status=failed', 'api-ann');
    expect(failed.body.data).toMatchObject([{ id: refused.body.action.id, tool: 'crm.create', error: { status: 422, code: 'unprocessable' } }]);
    const calendar = await app.get('/api/actions?tool=calendar.create_event', 'api-ann');
    expect(calendar.body.data).toHaveLength(3);
    expect((await app.get('/api/actions?status=nope', 'api-ann')).status).toBe(400);
    expect((await app.get('/api/actions?foo=1', 'api-ann')).status).toBe(400);

    const one = await app.get(`/api/actions/${made[0].id}`, 'api-ann');
    expect(one.body.action).toMatchObject({ id: made[0].id, status: 'succeeded', tool: 'calendar.create_event', result: { summary: 'Listed 0' } });
    expect((await app.get(`/api/actions/${made[0].id}`, 'api-bob')).status).toBe(404);
    expect((await app.get('/api/actions/999999', 'api-ann')).status).toBe(404);
    expect((await app.get('/api/actions/abc', 'api-ann')).status).toBe(400);
    expect((await app.get('/api/actions', 'api-bob')).body).toEqual({ data: [], nextCursor: null });
  });
});

describe('answers', () => {
  it('202 with the action and its Location while it runs; the next runner pass finishes it', async () => {
    await app.connect('api-cy', 'calendar');
    Object.assign(process.env, { ACTIONS_WAIT_MS: '0', ACTIONS_KICK_RUNNER: 'false' });
    resetConfigForTests();
    try {
      const queued = await app.write('POST', '/api/calendar/events', 'api-cy', { summary: 'Later', start: { dateTime: at(4, 9) }, end: { dateTime: at(4, 10) } }, 'later-1');
      expect(queued.status).toBe(202);
      expect(queued.headers.get('location')).toBe(`/api/actions/${queued.body.action.id}`);
      expect(queued.body.action).toMatchObject({ status: 'queued', result: null });
      const replay = await app.write('POST', '/api/calendar/events', 'api-cy', { summary: 'Later', start: { dateTime: at(4, 9) }, end: { dateTime: at(4, 10) } }, 'later-1');
      expect(replay.status).toBe(202);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      await app.drain();
      const done = await app.get(queued.headers.get('location')!, 'api-cy');
      expect(done.body.action).toMatchObject({ status: 'succeeded', result: { summary: 'Later' } });
    } finally {
      delete process.env.ACTIONS_WAIT_MS;
      delete process.env.ACTIONS_KICK_RUNNER;
      resetConfigForTests();
    }
  });

  it('an action whose job died (its attempts spent by runners that kept dying) fails as 503; the same request resumes it', async () => {
    await app.connect('api-gil', 'calendar');
    const body = { summary: 'Abandoned', start: { dateTime: at(6, 9) }, end: { dateTime: at(6, 10) } };
    Object.assign(process.env, { ACTIONS_WAIT_MS: '0', ACTIONS_KICK_RUNNER: 'false' });
    resetConfigForTests();
    let queued;
    try {
      queued = await app.write('POST', '/api/calendar/events', 'api-gil', body, 'abandoned-1');
      expect(queued.status).toBe(202);
    } finally {
      delete process.env.ACTIONS_WAIT_MS;
      delete process.env.ACTIONS_KICK_RUNNER;
      resetConfigForTests();
    }
    // What the queue does to a job whose last lease lapsed.
    const [{ job_id: jobId }] = (await app.q(`SELECT job_id FROM actions WHERE id = $1`, [queued.body.action.id])) as [{ job_id: number }];
    await app.q(`UPDATE jobs SET status = 'dead', last_error = 'lease expired: runner r stopped renewing it', finished_at = now() WHERE id = $1`, [jobId]);
    const read = await app.get(`/api/actions/${queued.body.action.id}`, 'api-gil');
    expect(read.body.action).toMatchObject({ status: 'failed', error: { status: 503, code: 'dependency_unavailable' } });
    expect(read.body.action.error.message).toContain('lease expired');
    const resumed = await app.write('POST', '/api/calendar/events', 'api-gil', body, 'abandoned-1');
    expect(resumed.status).toBe(200);
    expect(resumed.body.action).toMatchObject({ id: queued.body.action.id, status: 'succeeded', result: { summary: 'Abandoned' } });
  });

  it('422 without an active connection of the provider; nothing recorded', async () => {
    app.sandbox.ensureUser('api-dee');
    const refused = await app.write('POST', '/api/emails/send', 'api-dee', { to: ['x@example.com'], subject: 's', text: 't' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details[0].path).toBe('connection');
    const [recorded] = await app.q<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE user_id = 'api-dee'`);
    expect(recorded!.n).toBe(0);
  });
});

describe('read your writes, then the sync', () => {
  it('the next full sync updates the rows the actions wrote and never duplicates them', { timeout: 120_000 }, async () => {
    const user = 'api-eve';
    for (const provider of ['gmail', 'calendar', 'salesforce'] as const) await app.connect(user, provider);
    const email = (await app.write('POST', '/api/emails/send', user, { to: ['x@example.com'], subject: 'Synced later', text: 'hi' })).body.action.result;
    const event = (await app.write('POST', '/api/calendar/events', user, { summary: 'Synced later', start: { dateTime: at(2, 9) }, end: { dateTime: at(2, 10) } })).body.action.result;
    const lead = (await app.write('POST', '/api/crm/lead', user, { LastName: 'Synced later', Company: 'Later Inc' })).body.action.result;
    const before = await app.q(`SELECT time_zone FROM calendar_events WHERE provider_event_id = $1`, [event.id]);
    expect(before).toEqual([{ time_zone: null }]);

    const synced = await app.write('POST', '/api/syncs', user, { providers: ['gmail', 'calendar', 'salesforce'], mode: 'full' });
    expect(synced.status).toBe(202);
    await app.drain(90_000);
    const [jobs] = await app.q(`SELECT count(*) FILTER (WHERE status <> 'succeeded')::int AS bad FROM jobs WHERE kind LIKE 'sync.%'`);
    expect(jobs!.bad).toBe(0);

    expect(await app.q(`SELECT count(*)::int AS n FROM email_messages WHERE user_id = $1 AND provider_message_id = $2`, [user, email.id])).toEqual([{ n: 1 }]);
    expect(await app.q(`SELECT count(*)::int AS n FROM email_threads WHERE user_id = $1 AND provider_thread_id = $2`, [user, email.threadId])).toEqual([{ n: 1 }]);
    // The sync stores the calendar's zone for a timed event that gave none: the action's row was updated.
    expect(await app.q(`SELECT count(*)::int AS n, max(time_zone) AS zone FROM calendar_events WHERE user_id = $1 AND provider_event_id = $2`, [user, event.id])).toEqual([
      { n: 1, zone: app.sandbox.calendar.timeZoneOf(user) },
    ]);
    expect(await app.q(`SELECT count(*)::int AS n FROM crm_records WHERE user_id = $1 AND provider_id = $2`, [user, lead.id])).toEqual([{ n: 1 }]);
    const [interactions] = await app.q(
      `SELECT count(*)::int AS n, count(DISTINCT (source, source_id))::int AS d FROM interactions WHERE user_id = $1`,
      [user],
    );
    expect(interactions!.n).toBe(interactions!.d);
    const [events] = await app.q(
      `SELECT count(*)::int AS n FROM events WHERE user_id = $1 AND type IN ('email.received', 'calendar.event.created', 'crm.lead.created') AND provider_id = ANY($2)`,
      [user, [email.id, event.id, lead.id]],
    );
    expect(events!.n).toBe(3);
  });
});

describe('retention', () => {
  it('finished actions older than ACTIONS_RETENTION_DAYS go, and their keys with them; recent and unfinished ones stay', async () => {
    await app.connect('api-fay', 'calendar');
    const old = await app.write('POST', '/api/calendar/events', 'api-fay', { summary: 'Old', start: { dateTime: at(5, 9) }, end: { dateTime: at(5, 10) } }, 'old-key');
    const recent = await app.write('POST', '/api/calendar/events', 'api-fay', { summary: 'Recent', start: { dateTime: at(5, 11) }, end: { dateTime: at(5, 12) } });
    await app.q(`UPDATE actions SET created_at = now() - interval '31 days' WHERE id = $1`, [old.body.action.id]);
    expect(await pruneActions(db(), 30)).toBe(1);
    const kept = await app.q(`SELECT id FROM actions WHERE user_id = 'api-fay'`);
    expect(kept.map((r) => r.id)).toEqual([recent.body.action.id]);
    // The key is free again: a new action (and the event id derived from the key already exists: 409, adopted).
    const again = await app.write('POST', '/api/calendar/events', 'api-fay', { summary: 'Old', start: { dateTime: at(5, 9) }, end: { dateTime: at(5, 10) } }, 'old-key');
    expect(again.status).toBe(200);
    expect(again.body.action.id).not.toBe(old.body.action.id);
    expect(again.body.action.result.id).toBe(old.body.action.result.id);
  });
});
