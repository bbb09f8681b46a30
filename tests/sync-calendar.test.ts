import { fork } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SYNCS, syncPayloadFor } from '../dev/sandbox/index';
import { enqueueSyncs } from '../lib/connections';
import { db } from '../lib/database';
import { DeferJobError } from '../lib/jobs/errors';
import { defineHandler } from '../lib/jobs/runner';
import { createCalendarSync } from '../lib/sync/calendar';
import { syncHandler } from '../lib/sync/engine/handler';
import { testRunner } from './helpers/runner';
import { useSyncTestApp } from './helpers/sync';
import * as truth from './helpers/truth-calendar';
import { byId, configuredWindow } from './helpers/truth-calendar';

/**
 * The Google Calendar sync end to end: the real googleapis client against the provider sandbox, the
 * real runner (the cron endpoint, or a Runner with smaller pages), real Postgres. Every test has its
 * own sandbox user, so calendars, quotas and connections do not mix.
 */

const DAY = 86_400_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sync = useSyncTestApp('calendar');
const { app, query: q, cronPass, drain } = sync;

/** The connection, created as the frontend creates it (which enqueues the initial backfill). */
const connect = async (userId: string, calendarEvents?: number) =>
  (await sync.connect('calendar', userId, calendarEvents === undefined ? {} : { calendarEvents })).id;

/** The registry the cron uses, but with smaller pages, so that a sync spans many requests. */
const smallPages = (pageSize: number) => ({ 'sync.calendar': syncHandler('calendar', createCalendarSync({ pageSize })) });

const jobsOf = (connectionId: number) =>
  q(`SELECT id, status, attempts, payload->>'mode' AS mode, progress, result, last_error FROM jobs
     WHERE (payload->>'connectionId')::bigint = $1 ORDER BY id`, [connectionId]);

const cursorOf = (connectionId: number) => sync.cursorOf(connectionId, 'events');

const sandboxEvents = (userId: string, window: { timeMin: string; timeMax: string }) => truth.sandboxEvents(app.sandbox, userId, window);
const liveRows = (connectionId: number) => truth.liveRows(q, connectionId);

/** The stored live events are exactly what Google lists for the window(s), field by field. */
async function expectMatchesSandbox(connectionId: number, userId: string, windows: { timeMin: string; timeMax: string }[]) {
  const expected = truth.calendarTruth(app.sandbox, userId, windows);
  const actual = await liveRows(connectionId);
  expect(actual.length).toBe(expected.length);
  expect(byId(actual)).toEqual(expected);
  return actual;
}

async function eventRows(connectionId: number, afterId = 0) {
  return q<{ id: number; type: string; provider_id: string; dedupe_key: string; payload: any }>(
    `SELECT id, type, provider_id, dedupe_key, payload FROM events WHERE connection_id = $1 AND id > $2 ORDER BY id`,
    [connectionId, afterId],
  );
}

const maxEventId = async () => Number((await q(`SELECT coalesce(max(id), 0) AS id FROM events`))[0]!.id);
const changes = (rows: { type: string; provider_id: string }[]) =>
  rows.map((r) => `${r.type} ${r.provider_id}`).sort();

/** One-off timed events well inside the window, which stay inside it when moved by an hour. */
function middleOneOffs(userId: string) {
  const now = Date.now();
  return sandboxEvents(userId, configuredWindow()).filter(
    (e) => !e.recurringEventId && e.start.dateTime && Date.parse(e.start.dateTime) > now + 2 * DAY && Date.parse(e.start.dateTime) < now + 60 * DAY,
  );
}

async function connectionIdOf(userId: string) {
  return Number((await q(`SELECT id FROM connections WHERE nango_connection_id = $1`, [`calendar-${userId}`]))[0]!.id);
}

describe('calendar sync: backfill', () => {
  it('stores exactly the window\'s events (all-day apart from timed, recurring instances, attendees), each with one created event and one interaction', async () => {
    const connectionId = await connect('alice');
    expect(await drain()).toBeGreaterThanOrEqual(1);

    const [job] = await jobsOf(connectionId);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, mode: 'initial' });
    const window = configuredWindow();
    const cursor = await cursorOf(connectionId);
    expect(cursor).toEqual({ v: 1, syncToken: expect.stringMatching(/^CP/), lastFullSync: { ...window, completedAt: expect.any(String) } });

    const rows = await expectMatchesSandbox(connectionId, 'alice', [window]);
    // The data set has every shape the sync must keep apart.
    const allDay = rows.filter((r) => r.all_day);
    const timed = rows.filter((r) => !r.all_day);
    const instances = rows.filter((r) => r.recurring_event_id !== null);
    expect(allDay.length).toBeGreaterThan(0);
    expect(timed.length).toBeGreaterThan(0);
    expect(instances.length).toBeGreaterThan(0);
    expect(new Set(instances.map((r) => r.recurring_event_id)).size).toBeGreaterThan(1);
    expect(new Set(timed.map((r) => r.time_zone)).size).toBeGreaterThan(1);
    const statuses = new Set(rows.flatMap((r) => r.attendees.map((a: any) => a.responseStatus)));
    expect([...statuses].sort()).toEqual(['accepted', 'declined', 'needsAction', 'tentative']);
    for (const r of allDay) {
      expect(r.start_at.toISOString()).toBe(`${r.start_date}T00:00:00.000Z`);
      expect(r.end_at.toISOString()).toBe(`${r.end_date}T00:00:00.000Z`);
      expect(r.time_zone).toBeNull();
    }
    for (const r of timed) expect([r.start_date, r.end_date]).toEqual([null, null]);
    const instance = instances[0]!;
    expect(instance.provider_event_id.startsWith(`${instance.recurring_event_id}_`)).toBe(true);

    // One calendar.event.created per stored event, versioned by `updated`, and nothing else.
    const events = await eventRows(connectionId);
    expect(events.length).toBe(rows.length);
    expect(events.every((e) => e.type === 'calendar.event.created')).toBe(true);
    expect(new Set(events.map((e) => e.provider_id))).toEqual(new Set(rows.map((r) => r.provider_event_id)));
    const sample = rows.find((r) => r.attendees.length > 1)!;
    const sampleEvent = events.find((e) => e.provider_id === sample.provider_event_id)!;
    expect(sampleEvent.dedupe_key).toBe(`${connectionId}:calendar.event.created:${sample.provider_event_id}:${sample.provider_updated_at.toISOString()}`);
    expect(sampleEvent.payload).toMatchObject({
      eventId: sample.provider_event_id,
      summary: sample.summary,
      startAt: sample.start_at.toISOString(),
      attendees: sample.attendees,
      allDay: false,
    });

    const interactions = await q(
      `SELECT source_id, kind, occurred_at, title, participants, deleted_at FROM interactions WHERE connection_id = $1 AND source = 'calendar'`,
      [connectionId],
    );
    expect(byId(interactions.map((i) => ({ provider_event_id: i.source_id, ...i })))).toEqual(
      byId(rows).map((r) => ({
        provider_event_id: r.provider_event_id,
        source_id: r.provider_event_id,
        kind: 'meeting',
        occurred_at: r.start_at,
        title: r.summary,
        participants: r.attendees,
        deleted_at: null,
      })),
    );

    // Paced: every request accepted; one request per page of 250.
    const usage = app.sandbox.quotaUsage('alice').calendar;
    expect(usage.refusals).toBe(0);
    expect(usage.requests).toBe(Math.max(1, Math.ceil(rows.length / 250)));
    expect(job!.progress).toEqual({ phase: 'done', pages: usage.requests, records: rows.length, detail: `backfill ${window.timeMin}..${window.timeMax}` });
    expect(job!.result).toEqual({ records: rows.length });
  });
});

describe('calendar sync: incremental', () => {
  it('after moveEvent, addEvent and cancelEvent stores exactly those changes; events once each', async () => {
    const connectionId = await connect('bob');
    await drain();
    const before = await maxEventId();
    const requestsBefore = app.sandbox.quotaUsage('bob').calendar.requests;
    const tokenBefore = (await cursorOf(connectionId)).syncToken;

    const [moved, cancelled] = middleOneOffs('bob');
    const instance = sandboxEvents('bob', configuredWindow()).find(
      (e) => e.recurringEventId && Date.parse(e.start.dateTime ?? `${e.start.date}T00:00:00Z`) > Date.now() + DAY,
    )!;
    expect(moved && cancelled && instance).toBeTruthy();
    const cal = app.sandbox.calendar;
    const movedNow = cal.moveEvent('bob', moved!.id, 60);
    cal.cancelEvent('bob', cancelled!.id);
    cal.cancelEvent('bob', instance.id);
    const day = (offset: number) => new Date(Math.floor(Date.now() / DAY) * DAY + offset * DAY);
    const addedTimed = cal.addEvent('bob', {
      summary: 'Deal review',
      location: 'Zoom',
      // An offset and no timeZone: the event is in the calendar's zone.
      start: { dateTime: new Date(day(5).getTime() + 10 * 3_600_000).toISOString() },
      end: { dateTime: new Date(day(5).getTime() + 11 * 3_600_000).toISOString() },
      attendees: [
        { email: 'Olivia@Customer.example.com', displayName: 'Olivia Brown', responseStatus: 'accepted' },
        { email: 'noah@vendor.example.com', responseStatus: 'tentative', optional: true },
      ],
    });
    const addedAllDay = cal.addEvent('bob', {
      summary: 'Offsite',
      start: { date: day(12).toISOString().slice(0, 10) },
      end: { date: day(14).toISOString().slice(0, 10) },
    });

    // Nango says the calendar changed: the webhook enqueues an incremental sync.
    const response = await app.webhook(syncPayloadFor('bob', 'calendar', SYNCS.calendar, { added: 2, updated: 1, deleted: 2 }));
    expect(response.status).toBe(202);
    await drain();

    const jobs = await jobsOf(connectionId);
    expect(jobs.map((j) => [j.mode, j.status])).toEqual([['initial', 'succeeded'], ['incremental', 'succeeded']]);
    expect(jobs[1]!.progress).toMatchObject({ phase: 'done', pages: 1, records: 5 });
    expect(app.sandbox.quotaUsage('bob').calendar.requests - requestsBefore).toBe(1);

    const events = await eventRows(connectionId, before);
    expect(changes(events)).toEqual(
      [
        `calendar.event.updated ${moved!.id}`,
        `calendar.event.cancelled ${cancelled!.id}`,
        `calendar.event.cancelled ${instance.id}`,
        `calendar.event.created ${addedTimed.id}`,
        `calendar.event.created ${addedAllDay.id}`,
      ].sort(),
    );
    const movedEvent = events.find((e) => e.provider_id === moved!.id)!;
    expect(movedEvent.payload).toMatchObject({ startAt: new Date(movedNow.start.dateTime!).toISOString(), updated: movedNow.updated });
    expect(events.find((e) => e.provider_id === instance.id)!.payload).toMatchObject({ status: 'cancelled', reason: 'cancelled', recurringEventId: instance.recurringEventId });

    const rows = await expectMatchesSandbox(connectionId, 'bob', [configuredWindow()]);
    const timedRow = rows.find((r) => r.provider_event_id === addedTimed.id)!;
    expect(timedRow).toMatchObject({
      all_day: false,
      time_zone: cal.timeZoneOf('bob'),
      start_at: new Date(day(5).getTime() + 10 * 3_600_000),
      attendees: [
        { email: 'olivia@customer.example.com', displayName: 'Olivia Brown', responseStatus: 'accepted' },
        { email: 'noah@vendor.example.com', responseStatus: 'tentative', optional: true },
      ],
    });
    expect(rows.find((r) => r.provider_event_id === addedAllDay.id)).toMatchObject({
      all_day: true,
      start_date: day(12).toISOString().slice(0, 10),
      end_date: day(14).toISOString().slice(0, 10),
      start_at: day(12),
      end_at: day(14),
      time_zone: null,
    });
    const gone = await q(
      `SELECT c.provider_event_id, c.status, c.deleted_at IS NOT NULL AS deleted, i.deleted_at IS NOT NULL AS interaction_deleted
       FROM calendar_events c JOIN interactions i ON i.source = 'calendar' AND i.source_id = c.provider_event_id AND i.user_id = c.user_id
       WHERE c.connection_id = $1 AND c.deleted_at IS NOT NULL ORDER BY 1`,
      [connectionId],
    );
    expect(gone).toEqual(
      [cancelled!.id, instance.id].sort().map((id) => ({ provider_event_id: id, status: 'cancelled', deleted: true, interaction_deleted: true })),
    );
    expect((await cursorOf(connectionId)).syncToken).not.toBe(tokenBefore);

    // Nothing changed since: another incremental sync stores and emits nothing.
    await app.webhook(syncPayloadFor('bob', 'calendar', SYNCS.calendar, {}));
    await drain();
    expect(await eventRows(connectionId, before)).toHaveLength(5);
    expect((await jobsOf(connectionId)).at(-1)).toMatchObject({ status: 'succeeded', result: { records: 0 } });
    expect(app.sandbox.quotaUsage('bob').calendar.refusals).toBe(0);
  });

  it('a 410 (sync token invalidated) is recovered by a full resync: the same final data, changes made meanwhile not lost', async () => {
    const connectionId = await connect('carol');
    await drain();
    const before = await maxEventId();
    const tokenBefore = (await cursorOf(connectionId)).syncToken;

    const [moved, cancelled] = middleOneOffs('carol');
    const cal = app.sandbox.calendar;
    cal.moveEvent('carol', moved!.id, -30);
    cal.cancelEvent('carol', cancelled!.id);
    const added = cal.addEvent('carol', {
      summary: 'Pipeline review',
      start: { dateTime: new Date(Date.now() + 3 * DAY).toISOString(), timeZone: 'Europe/Berlin' },
      end: { dateTime: new Date(Date.now() + 3 * DAY + 3_600_000).toISOString(), timeZone: 'Europe/Berlin' },
    });
    cal.invalidateSyncTokens('carol');

    await app.webhook(syncPayloadFor('carol', 'calendar', SYNCS.calendar, { updated: 3 }));
    await drain();

    const jobs = await jobsOf(connectionId);
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
    expect(jobs[1]).toMatchObject({ attempts: 1, mode: 'incremental', last_error: null });
    expect(jobs[1]!.progress).toMatchObject({ phase: 'done', detail: expect.stringMatching(/^sync_token_expired /) });

    const rows = await expectMatchesSandbox(connectionId, 'carol', [configuredWindow()]);
    expect(rows.find((r) => r.provider_event_id === added.id)).toMatchObject({ time_zone: 'Europe/Berlin' });
    // Unchanged events were listed again but emit nothing; the cancellation is found by the sweep.
    const events = await eventRows(connectionId, before);
    expect(changes(events)).toEqual(
      [`calendar.event.updated ${moved!.id}`, `calendar.event.cancelled ${cancelled!.id}`, `calendar.event.created ${added.id}`].sort(),
    );
    expect(events.find((e) => e.type === 'calendar.event.cancelled')!.payload).toMatchObject({ reason: 'missing_from_full_sync' });
    const [row] = await q(`SELECT status, deleted_at IS NOT NULL AS deleted FROM calendar_events WHERE connection_id = $1 AND provider_event_id = $2`, [
      connectionId,
      cancelled!.id,
    ]);
    expect(row).toEqual({ status: 'cancelled', deleted: true });

    // The new token is valid: the next incremental sync finds nothing and emits nothing.
    const cursor = await cursorOf(connectionId);
    expect(cursor.syncToken).not.toBe(tokenBefore);
    expect(cursor.listing).toBeUndefined();
    await app.webhook(syncPayloadFor('carol', 'calendar', SYNCS.calendar, {}));
    await drain();
    expect((await jobsOf(connectionId)).at(-1)).toMatchObject({ status: 'succeeded', result: { records: 0 } });
    expect(await eventRows(connectionId, before)).toHaveLength(3);
    expect(app.sandbox.quotaUsage('carol').calendar.refusals).toBe(0);
  });
});

describe('calendar sync: failures', () => {
  it('under 30% server errors and 5% 429s, converges to exactly the fault-free data, events once each', { timeout: 180_000 }, async () => {
    const connectionId = await connect('dave');
    app.sandbox.setFaults('calendar', { errorRate: 0.3, rateLimitRate: 0.05, retryAfterSeconds: 1 });
    const handlers = smallPages(20);
    const pass = () => testRunner(db(), handlers, { backoffBaseMs: 100, backoffMaxMs: 1_000 }).run({ deadline: Date.now() + 30_000 });
    await drain(pass, 150_000);
    expect((await jobsOf(connectionId))[0]).toMatchObject({ status: 'succeeded' });

    // And an incremental sync under the same faults.
    const [moved] = middleOneOffs('dave');
    app.sandbox.calendar.moveEvent('dave', moved!.id, 45);
    const added = app.sandbox.calendar.addEvent('dave', {
      summary: 'Vendor negotiation',
      start: { dateTime: new Date(Date.now() + 4 * DAY).toISOString(), timeZone: 'UTC' },
      end: { dateTime: new Date(Date.now() + 4 * DAY + 1_800_000).toISOString(), timeZone: 'UTC' },
    });
    await enqueueSyncs(db(), { id: connectionId, userId: 'dave', provider: 'calendar' }, 'incremental');
    await drain(pass, 150_000);

    const stats = app.sandbox.faultStats('calendar');
    expect(stats.errors).toBeGreaterThan(0);
    expect(stats.rateLimited).toBeGreaterThan(0);
    app.sandbox.setFaults('calendar', {});
    expect((await jobsOf(connectionId)).map((j) => j.status)).toEqual(['succeeded', 'succeeded']);

    const rows = await expectMatchesSandbox(connectionId, 'dave', [configuredWindow()]);
    const events = await eventRows(connectionId);
    const created = events.filter((e) => e.type === 'calendar.event.created');
    expect(created.length).toBe(rows.length);
    expect(new Set(created.map((e) => e.provider_id)).size).toBe(rows.length);
    expect(changes(events.filter((e) => e.type !== 'calendar.event.created'))).toEqual([`calendar.event.updated ${moved!.id}`]);
    expect(created.some((e) => e.provider_id === added.id)).toBe(true);
    expect(app.sandbox.quotaUsage('dave').calendar.refusals).toBe(0);
  });

  it('an access token expired mid-sync is refreshed once through Nango and the sync goes on', async () => {
    const connectionId = await connect('erin', 200);
    app.sandbox.setFaults('calendar', { latencyMs: 40 });
    const tokenBefore = app.sandbox.accessToken('erin', 'calendar');
    const refusedBefore = unauthenticatedCalendarRequests();
    const running = testRunner(db(), smallPages(10)).run({ deadline: Date.now() + 50_000 });
    // Expire the token the running job holds, once some pages are stored.
    while (((await cursorOf(connectionId))?.listing?.pages ?? 0) < 2) await sleep(20);
    app.sandbox.expireTokens('calendar');
    await running;
    await drain(() => testRunner(db(), smallPages(10)).run({ deadline: Date.now() + 50_000 }));

    const [job] = await jobsOf(connectionId);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, last_error: null });
    const [connection] = await q(`SELECT status, last_error FROM connections WHERE id = $1`, [connectionId]);
    expect(connection).toEqual({ status: 'active', last_error: null });
    expect(app.sandbox.accessToken('erin', 'calendar')).not.toBe(tokenBefore);
    // Exactly one request was refused as unauthenticated (all requests minus those accepted past auth).
    const usage = app.sandbox.quotaUsage('erin').calendar;
    expect(unauthenticatedCalendarRequests() - refusedBefore).toBe(1);
    const rows = await expectMatchesSandbox(connectionId, 'erin', [configuredWindow()]);
    expect(usage.requests).toBe(Math.ceil(rows.length / 10));
    expect(usage.refusals).toBe(0);
    expect((await eventRows(connectionId)).length).toBe(rows.length);
  });
});

/**
 * Calendar requests refused before any quota was spent: every request the sandbox saw (its fault
 * counter) minus those past authentication (the users' quota counters). Without injected errors,
 * those are the 401s.
 */
function unauthenticatedCalendarRequests(): number {
  const accepted = Object.values(app.sandbox.quotaUsage()).reduce((n, usage) => n + usage.calendar.requests, 0);
  return app.sandbox.faultStats('calendar').requests - accepted;
}

describe('calendar sync: checkpoints and crashes', () => {
  it('a short time budget checkpoints the backfill across runs: no page skipped, none fetched twice', { timeout: 120_000 }, async () => {
    const connectionId = await connect('frank', 150);
    app.sandbox.setFaults('calendar', { latencyMs: 30 });
    // A pass of 4.5 s leaves the sync ~1.5 s before its checkpoint margin (3 s before the pass's deadline).
    // Each run of the job's handler, as the runner sees it: a checkpoint comes back deferred; the
    // quota pacer defers by throwing when the next request would start past the budget.
    const outcomes: string[] = [];
    const inner = smallPages(10)['sync.calendar'];
    const handlers = {
      'sync.calendar': defineHandler({
        payload: inner.payload,
        run: async (payload, context) => {
          try {
            const result = await inner.run(payload, context);
            outcomes.push(result?.status ?? 'none');
            return result;
          } catch (error) {
            outcomes.push(error instanceof DeferJobError ? 'deferred' : String(error));
            throw error;
          }
        },
      }),
    };
    await drain(() => testRunner(db(), handlers).run({ deadline: Date.now() + 4_500 }), 100_000);

    const rows = await expectMatchesSandbox(connectionId, 'frank', [configuredWindow()]);
    const pages = Math.ceil(rows.length / 10);
    expect(outcomes.length).toBeGreaterThanOrEqual(2);
    expect(outcomes.slice(0, -1).every((o) => o === 'deferred')).toBe(true);
    expect(outcomes.at(-1)).toBe('succeeded');
    const [job] = await jobsOf(connectionId);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, progress: { phase: 'done', pages, records: rows.length } });
    const usage = app.sandbox.quotaUsage('frank').calendar;
    expect(usage.requests).toBe(pages);
    expect(usage.refusals).toBe(0);
    const events = await eventRows(connectionId);
    expect(events.length).toBe(rows.length);
    expect(new Set(events.map((e) => e.provider_id)).size).toBe(rows.length);
  });

  it('a runner SIGKILLed mid-backfill: the next runner resumes from the saved page, no duplicates, no gaps', { timeout: 120_000 }, async () => {
    const connectionId = await connect('gina', 300);
    app.sandbox.setFaults('calendar', { latencyMs: 60 });
    const child = fork(new URL('./fixtures/runner-child.ts', import.meta.url).pathname, ['calendar', '2', '10'], {
      execArgv: ['--import', 'tsx'],
      stdio: 'ignore',
    });
    let pagesAtKill = 0;
    try {
      const started = Date.now();
      while ((pagesAtKill = (await cursorOf(connectionId))?.listing?.pages ?? 0) < 4) {
        if (Date.now() - started > 30_000) throw new Error('the child runner stored no pages');
        await sleep(10);
      }
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    const [held] = await jobsOf(connectionId);
    expect(held).toMatchObject({ status: 'running', attempts: 1 });

    await drain(() => testRunner(db(), smallPages(10)).run({ deadline: Date.now() + 20_000, idleMs: 500, pollMs: 200 }), 60_000);
    const [job] = await jobsOf(connectionId);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });

    const rows = await expectMatchesSandbox(connectionId, 'gina', [configuredWindow()]);
    const pages = Math.ceil(rows.length / 10);
    expect(pagesAtKill).toBeLessThan(pages);
    expect(job!.progress).toMatchObject({ phase: 'done', pages, records: rows.length });
    // Every page fetched once, but the one the killed runner had in flight (fetched again: needed).
    const usage = app.sandbox.quotaUsage('gina').calendar;
    expect(usage.requests).toBeGreaterThanOrEqual(pages);
    expect(usage.requests).toBeLessThanOrEqual(pages + 1);
    expect(usage.refusals).toBe(0);
    const events = await eventRows(connectionId);
    expect(events.length).toBe(rows.length);
    expect(new Set(events.map((e) => e.provider_id))).toEqual(new Set(rows.map((r) => r.provider_event_id)));
    const [interactions] = await q(`SELECT count(*)::int AS n FROM interactions WHERE connection_id = $1`, [connectionId]);
    expect(interactions!.n).toBe(rows.length);
  });
});

describe('calendar sync: cursor fencing', () => {
  it('a run whose cursor another run moved stores nothing more: its page rolls back and the job retries from the new cursor', async () => {
    const connectionId = await connect('ivan', 150);
    app.sandbox.setFaults('calendar', { latencyMs: 40 });
    const running = testRunner(db(), smallPages(10), { backoffBaseMs: 50, backoffMaxMs: 1_000 }).run({ deadline: Date.now() + 50_000 });
    while (((await cursorOf(connectionId))?.listing?.pages ?? 0) < 2) await sleep(10);
    // Another run (one that took over a lapsed lease) saved its own cursor: here, none at all.
    await q(`UPDATE sync_states SET cursor = '{"v":1}' WHERE connection_id = $1 AND stream = 'events'`, [connectionId]);
    await running;
    await drain(() => testRunner(db(), smallPages(10), { backoffBaseMs: 50, backoffMaxMs: 1_000 }).run({ deadline: Date.now() + 50_000 }));

    const [job] = await jobsOf(connectionId);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
    // The first attempt ended on the cursor conflict (hence attempts: 2); the success cleared its error.
    expect(job!.last_error).toBeNull();
    const rows = await expectMatchesSandbox(connectionId, 'ivan', [configuredWindow()]);
    // The retry listed the window again from its start (needed: the cursor said so); nothing twice.
    expect(app.sandbox.quotaUsage('ivan').calendar.requests).toBeGreaterThan(Math.ceil(rows.length / 10));
    const events = await eventRows(connectionId);
    expect(events.length).toBe(rows.length);
    expect(new Set(events.map((e) => e.provider_id)).size).toBe(rows.length);
    const [state] = await q(`SELECT last_error FROM sync_states WHERE connection_id = $1`, [connectionId]);
    expect(state).toEqual({ last_error: null });
  });
});

describe('calendar sync: modes', () => {
  it('\'date_range\' lists the given window and keeps the sync token; \'full\' relists quietly; a bad range fails clearly', async () => {
    const connectionId = await connect('hank');
    await drain();
    const backfill = await cursorOf(connectionId);
    const before = await maxEventId();
    const requestsBefore = app.sandbox.quotaUsage('hank').calendar.requests;

    const today = Math.floor(Date.now() / DAY) * DAY;
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const connection = { id: connectionId, userId: 'hank', provider: 'calendar' as const };
    await enqueueSyncs(db(), connection, 'date_range', { startDate: iso(today + 91 * DAY), endDate: iso(today + 150 * DAY) });
    await drain();
    const range = { timeMin: new Date(today + 91 * DAY).toISOString(), timeMax: new Date(today + 151 * DAY).toISOString() };
    expect((await jobsOf(connectionId)).at(-1)).toMatchObject({ mode: 'date_range', status: 'succeeded' });
    // The token of the backfill stays: a date range's token would vouch for changes outside it.
    expect(await cursorOf(connectionId)).toEqual(backfill);
    const rows = await expectMatchesSandbox(connectionId, 'hank', [configuredWindow(), range]);
    const inBoth = new Set(sandboxEvents('hank', configuredWindow()).map((e) => e.id));
    const created = await eventRows(connectionId, before);
    expect(created.every((e) => e.type === 'calendar.event.created')).toBe(true);
    expect(new Set(created.map((e) => e.provider_id))).toEqual(new Set(rows.map((r) => r.provider_event_id).filter((id) => !inBoth.has(id))));
    expect(created.length).toBeGreaterThan(0);

    // 'full' discards the token and lists the configured window again: same data, nothing emitted.
    const afterRange = await maxEventId();
    await enqueueSyncs(db(), connection, 'full');
    await drain();
    expect((await jobsOf(connectionId)).at(-1)).toMatchObject({ mode: 'full', status: 'succeeded' });
    expect(await eventRows(connectionId, afterRange)).toEqual([]);
    const full = await cursorOf(connectionId);
    expect(full.syncToken).toBe(app.sandbox.calendar.currentSyncToken('hank'));
    expect((await jobsOf(connectionId)).at(-1)!.progress).toMatchObject({ phase: 'done', detail: expect.stringMatching(/^full /) });
    expect(full.lastFullSync.completedAt > backfill.lastFullSync.completedAt).toBe(true);
    await expectMatchesSandbox(connectionId, 'hank', [configuredWindow(), range]);

    await enqueueSyncs(db(), connection, 'date_range', { startDate: 'next tuesday' });
    await drain();
    const failed = (await jobsOf(connectionId)).at(-1)!;
    expect(failed).toMatchObject({ status: 'failed', mode: 'date_range' });
    expect(failed.last_error).toContain('date_range startDate "next tuesday" is not a date');
    expect(app.sandbox.quotaUsage('hank').calendar.requests).toBeGreaterThan(requestsBefore);
    expect(app.sandbox.quotaUsage('hank').calendar.refusals).toBe(0);
  });
});
