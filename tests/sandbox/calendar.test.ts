import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { auth, calendar as calendarClient, type calendar_v3 } from '@googleapis/calendar';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarRoutes } from '../../dev/sandbox/calendar/routes';
import { CalendarStore } from '../../dev/sandbox/calendar/store';

const ACCOUNT = 'user-1';
const store = new CalendarStore(1234);
let server: ServerType;
let api: calendar_v3.Calendar;
let requests: string[] = [];

beforeAll(async () => {
  store.ensureAccount(ACCOUNT, { events: 150 });
  const app = new Hono<{ Variables: { account: string } }>();
  app.use('*', async (c, next) => {
    requests.push(`${c.req.method} ${new URL(c.req.url).pathname}`);
    c.set('account', ACCOUNT);
    await next();
  });
  app.route('/', calendarRoutes(store));
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0 }, (info: AddressInfo) => resolve(info.port));
  });
  const oauth = new auth.OAuth2();
  oauth.setCredentials({ access_token: 'sandbox-token' });
  api = calendarClient({ version: 'v3', auth: oauth, rootUrl: `http://127.0.0.1:${port}/` });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

type Page = calendar_v3.Schema$Events;

/** Follows nextPageToken to the end, as a sync would, keeping every page. */
async function listAll(params: calendar_v3.Params$Resource$Events$List): Promise<Page[]> {
  const pages: Page[] = [];
  let pageToken: string | undefined;
  do {
    const res = await api.events.list({ calendarId: 'primary', ...params, pageToken });
    pages.push(res.data);
    pageToken = res.data.nextPageToken ?? undefined;
  } while (pageToken);
  return pages;
}

async function errorOf(p: Promise<unknown>): Promise<{ status: number; data: { error: { code: number; message: string; errors: { reason: string; domain: string }[] } } }> {
  try {
    await p;
  } catch (e) {
    const err = e as { status?: number; response?: { status: number; data: unknown } };
    return { status: err.status ?? err.response!.status, data: err.response!.data as never };
  }
  throw new Error('expected the request to fail');
}

async function fullSync(singleEvents = true): Promise<{ items: calendar_v3.Schema$Event[]; syncToken: string }> {
  const pages = await listAll({ singleEvents, maxResults: 2500, showDeleted: true });
  return { items: pages.flatMap((p) => p.items ?? []), syncToken: pages[pages.length - 1]!.nextSyncToken! };
}

describe('calendar sandbox: events.list', () => {
  it('pages with nextPageToken and gives nextSyncToken only on the last page', async () => {
    requests = [];
    const pages = await listAll({ singleEvents: true, maxResults: 40 });
    expect(pages.length).toBeGreaterThan(3);
    for (const p of pages.slice(0, -1)) {
      expect(p.nextPageToken).toBeTruthy();
      expect(p.nextSyncToken).toBeUndefined();
      expect(p.items).toHaveLength(40);
    }
    const last = pages[pages.length - 1]!;
    expect(last.nextPageToken).toBeUndefined();
    expect(last.nextSyncToken).toBeTruthy();
    expect(requests.filter((r) => r === 'GET /calendar/v3/calendars/primary/events')).toHaveLength(pages.length);

    const ids = pages.flatMap((p) => (p.items ?? []).map((e) => e.id!));
    expect(new Set(ids).size).toBe(ids.length);
    const single = await api.events.list({ calendarId: 'primary', singleEvents: true, maxResults: 2500 });
    expect(single.data.nextPageToken).toBeUndefined();
    expect(new Set(single.data.items!.map((e) => e.id)).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(single.data.items!.map((e) => e.id)));

    // Google's envelope
    expect(last).toMatchObject({ kind: 'calendar#events', summary: store.emailOf(ACCOUNT), timeZone: store.timeZoneOf(ACCOUNT), accessRole: 'owner' });
    expect(last.etag).toMatch(/^".+"$/);
    expect(last.defaultReminders).toEqual([{ method: 'popup', minutes: 10 }]);
  });

  it('serves all-day, timed and multi-time-zone events in Google shape, spanning past and future', async () => {
    const { data } = await api.events.list({ calendarId: 'primary', singleEvents: true, maxResults: 2500 });
    const items = data.items!;
    const allDay = items.filter((e) => e.start?.date);
    const timed = items.filter((e) => e.start?.dateTime);
    expect(allDay.length).toBeGreaterThan(5);
    expect(timed.length).toBeGreaterThan(50);
    expect(allDay.length + timed.length).toBe(items.length);
    for (const e of allDay) {
      expect(e.start).toEqual({ date: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
      expect(e.end!.date! > e.start!.date!).toBe(true);
      expect(e.start!.dateTime).toBeUndefined();
    }
    for (const e of timed) {
      expect(e.start!.dateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$/);
      expect(e.start!.timeZone).toBeTruthy();
      expect(Date.parse(e.end!.dateTime!)).toBeGreaterThan(Date.parse(e.start!.dateTime!));
      expect(e).toMatchObject({ kind: 'calendar#event', status: expect.stringMatching(/^(confirmed|tentative)$/), iCalUID: expect.any(String), sequence: expect.any(Number) });
      expect(e.htmlLink).toMatch(/^https:\/\/www\.google\.com\/calendar\/event\?eid=/);
      expect(Date.parse(e.created!)).toBeLessThanOrEqual(Date.parse(e.updated!));
      expect(e.organizer!.email).toBeTruthy();
    }
    const zones = new Set(timed.map((e) => e.start!.timeZone));
    expect(zones.size).toBeGreaterThanOrEqual(3);
    expect(timed.some((e) => e.start!.timeZone !== e.end!.timeZone)).toBe(true); // flights
    const withAttendees = timed.filter((e) => e.attendees?.length);
    expect(withAttendees.length).toBeGreaterThan(10);
    const statuses = new Set(withAttendees.flatMap((e) => e.attendees!.map((a) => a.responseStatus)));
    expect([...statuses].sort()).toEqual(['accepted', 'declined', 'needsAction', 'tentative']);
    for (const e of withAttendees) expect(e.attendees!.filter((a) => a.self)).toHaveLength(1);
    const now = Date.now();
    const starts = timed.map((e) => Date.parse(e.start!.dateTime!));
    expect(Math.min(...starts)).toBeLessThan(now - 30 * 86_400_000);
    expect(Math.max(...starts)).toBeGreaterThan(now + 60 * 86_400_000);
  });

  it('expands recurring series into instances with recurringEventId only with singleEvents=true', async () => {
    const single = (await api.events.list({ calendarId: 'primary', singleEvents: true, maxResults: 2500 })).data.items!;
    const instances = single.filter((e) => e.recurringEventId);
    expect(instances.length).toBeGreaterThan(20);
    for (const e of instances) {
      expect(e.id!.startsWith(`${e.recurringEventId}_`)).toBe(true);
      expect(e.id).toMatch(/_(\d{8}T\d{6}Z|\d{8})$/);
      expect(e.originalStartTime).toBeTruthy();
      expect(e.recurrence).toBeUndefined();
    }
    // a non-exception instance: id encodes its original start in UTC
    const plain = instances.find((e) => e.originalStartTime!.dateTime === e.start!.dateTime)!;
    const stamp = new Date(Date.parse(plain.originalStartTime!.dateTime!)).toISOString().replace(/[-:]/g, '').replace('.000', '');
    expect(plain.id).toBe(`${plain.recurringEventId}_${stamp}`);

    const masters = (await api.events.list({ calendarId: 'primary', singleEvents: false, maxResults: 2500 })).data.items!;
    const series = masters.filter((e) => e.recurrence);
    expect(series.length).toBeGreaterThan(5);
    for (const s of series) expect(s.recurrence![0]).toMatch(/^RRULE:FREQ=/);
    const seriesIds = new Set(series.map((s) => s.id));
    for (const e of instances) expect(seriesIds.has(e.recurringEventId!) || masters.some((m) => m.id === e.id)).toBe(true);
    // without singleEvents only masters and exceptions are listed, never plain instances
    expect(masters.some((e) => e.id === plain.id)).toBe(false);
  });

  it('keeps local wall time of a weekly series across a DST change', async () => {
    const ev = store.addEvent(ACCOUNT, {
      summary: 'DST check',
      start: { dateTime: '2025-03-03T09:00:00', timeZone: 'America/New_York' },
      end: { dateTime: '2025-03-03T09:30:00', timeZone: 'America/New_York' },
      recurrence: ['RRULE:FREQ=WEEKLY;COUNT=3'],
    });
    const inst = store.instancesOf(ACCOUNT, ev.id);
    expect(inst.map((i) => i.start.dateTime)).toEqual(['2025-03-03T09:00:00-05:00', '2025-03-10T09:00:00-04:00', '2025-03-17T09:00:00-04:00']);
    expect(inst.map((i) => i.id)).toEqual([`${ev.id}_20250303T140000Z`, `${ev.id}_20250310T130000Z`, `${ev.id}_20250317T130000Z`]);
    const { data } = await api.events.instances({ calendarId: 'primary', eventId: ev.id });
    expect(data.items!.map((i) => i.id)).toEqual(inst.map((i) => i.id));
  });

  it('filters by timeMin/timeMax and orders by startTime (which requires singleEvents)', async () => {
    const now = Date.now();
    const timeMin = new Date(now).toISOString();
    const timeMax = new Date(now + 14 * 86_400_000).toISOString();
    const { data } = await api.events.list({ calendarId: 'primary', singleEvents: true, orderBy: 'startTime', timeMin, timeMax, maxResults: 2500 });
    const items = data.items!;
    expect(items.length).toBeGreaterThan(3);
    const startOf = (e: calendar_v3.Schema$Event) => Date.parse(e.start!.dateTime ?? `${e.start!.date}T00:00:00Z`);
    const endOf = (e: calendar_v3.Schema$Event) => Date.parse(e.end!.dateTime ?? `${e.end!.date}T00:00:00Z`);
    for (const e of items) {
      expect(endOf(e)).toBeGreaterThan(now - 86_400_000); // all-day dates are in the calendar's zone
      expect(startOf(e)).toBeLessThan(now + 15 * 86_400_000);
    }
    const timedStarts = items.filter((e) => e.start!.dateTime).map(startOf);
    expect(timedStarts).toEqual([...timedStarts].sort((a, b) => a - b));

    const err = await errorOf(api.events.list({ calendarId: 'primary', orderBy: 'startTime' }));
    expect(err.status).toBe(400);
    expect(err.data.error.message).toBe('The requested ordering is not available for the particular query.');
  });

  it('answers for the user email as calendarId and 404 for other calendars', async () => {
    const byEmail = await api.events.list({ calendarId: store.emailOf(ACCOUNT), maxResults: 5 });
    expect(byEmail.data.items).toHaveLength(5);
    const err = await errorOf(api.events.list({ calendarId: 'someone-else@example.com' }));
    expect(err.status).toBe(404);
    expect(err.data.error.errors[0]!.reason).toBe('notFound');
  });
});

describe('calendar sandbox: incremental sync', () => {
  it('returns exactly the changes since the token, cancelled ones id-only', async () => {
    const { items, syncToken } = await fullSync();
    const oneOffs = items.filter((e) => !e.recurringEventId && e.status !== 'cancelled' && e.start?.dateTime);
    const moved = oneOffs[0]!;
    const cancelled = oneOffs[1]!;
    const instance = items.find((e) => e.recurringEventId && e.status !== 'cancelled' && e.originalStartTime?.dateTime === e.start?.dateTime)!;

    const movedNow = store.moveEvent(ACCOUNT, moved.id!, 90);
    expect(Date.parse(movedNow.start.dateTime!) - Date.parse(moved.start!.dateTime!)).toBe(90 * 60_000);
    store.cancelEvent(ACCOUNT, cancelled.id!);
    store.moveEvent(ACCOUNT, instance.id!, -30);
    const inserted = await api.events.insert({
      calendarId: 'primary',
      requestBody: {
        summary: 'Inserted through the client',
        start: { dateTime: '2030-01-02T10:00:00+01:00', timeZone: 'Europe/Berlin' },
        end: { dateTime: '2030-01-02T11:00:00+01:00', timeZone: 'Europe/Berlin' },
        attendees: [{ email: 'guest@example.com' }],
      },
    });

    const pages = await listAll({ singleEvents: true, syncToken });
    const changes = pages.flatMap((p) => p.items ?? []);
    expect(changes.map((c) => c.id).sort()).toEqual([moved.id, cancelled.id, instance.id, inserted.data.id].sort());
    expect(pages[pages.length - 1]!.nextSyncToken).toBeTruthy();

    const byId = new Map(changes.map((c) => [c.id!, c]));
    expect(byId.get(cancelled.id!)).toEqual({ kind: 'calendar#event', etag: expect.any(String), id: cancelled.id, status: 'cancelled' });
    expect(byId.get(moved.id!)!.start!.dateTime).toBe(movedNow.start.dateTime);
    expect(Date.parse(byId.get(moved.id!)!.updated!)).toBeGreaterThan(Date.parse(moved.updated!) - 1);
    expect(byId.get(moved.id!)!.sequence).toBe(moved.sequence! + 1);
    const ex = byId.get(instance.id!)!;
    expect(ex.recurringEventId).toBe(instance.recurringEventId);
    expect(ex.originalStartTime).toEqual(instance.originalStartTime);
    expect(Date.parse(ex.start!.dateTime!)).toBe(Date.parse(instance.start!.dateTime!) - 30 * 60_000);
    expect(byId.get(inserted.data.id!)!.attendees).toEqual([{ email: 'guest@example.com', responseStatus: 'needsAction' }]);

    // nothing changed since: empty page with a fresh token
    const again = await api.events.list({ calendarId: 'primary', singleEvents: true, syncToken: pages[pages.length - 1]!.nextSyncToken! });
    expect(again.data.items).toEqual([]);
    expect(again.data.nextSyncToken).toBeTruthy();

    // and a full listing no longer shows the cancelled event, but shows the exception at its new time
    const full = (await api.events.list({ calendarId: 'primary', singleEvents: true, maxResults: 2500 })).data.items!;
    expect(full.some((e) => e.id === cancelled.id)).toBe(false);
    expect(full.find((e) => e.id === instance.id)!.start!.dateTime).toBe(ex.start!.dateTime);
  });

  it('pages incremental results and tells a moved series by cancelling its old instance ids', async () => {
    const { items, syncToken } = await fullSync();
    const inst = items.find((e) => e.recurringEventId && e.status !== 'cancelled')!;
    const seriesId = inst.recurringEventId!;
    // plain instances (not exceptions, which keep their own ids)
    const before = items
      .filter((e) => e.recurringEventId === seriesId && e.status !== 'cancelled' && e.originalStartTime?.dateTime === e.start?.dateTime)
      .map((e) => e.id!);
    expect(before.length).toBeGreaterThan(0);
    store.moveEvent(ACCOUNT, seriesId, 60);

    const pages = await listAll({ singleEvents: true, syncToken, maxResults: 3 });
    const changes = pages.flatMap((p) => p.items ?? []);
    for (const p of pages.slice(0, -1)) expect(p.nextSyncToken).toBeUndefined();
    const gone = changes.filter((c) => c.status === 'cancelled');
    const fresh = changes.filter((c) => c.status !== 'cancelled');
    expect(fresh.length).toBeGreaterThan(0);
    for (const c of fresh) expect(c.recurringEventId).toBe(seriesId);
    // every old plain instance id is reported cancelled (exceptions keep their ids)
    const cancelledIds = new Set(gone.map((c) => c.id));
    const freshIds = new Set(fresh.map((c) => c.id));
    for (const id of before) expect(cancelledIds.has(id) || freshIds.has(id)).toBe(true);
    expect(gone.length).toBeGreaterThan(0);
  });

  it('returns deleted events with a sync token even without showDeleted, and delete is idempotent-safe', async () => {
    const { syncToken } = await fullSync();
    const created = await api.events.insert({
      calendarId: 'primary',
      requestBody: { summary: 'to delete', start: { date: '2031-05-01' }, end: { date: '2031-05-02' } },
    });
    const del = await api.events.delete({ calendarId: 'primary', eventId: created.data.id! });
    expect(del.status).toBe(204);
    const got = await api.events.get({ calendarId: 'primary', eventId: created.data.id! });
    expect(got.data.status).toBe('cancelled');
    const again = await errorOf(api.events.delete({ calendarId: 'primary', eventId: created.data.id! }));
    expect(again.status).toBe(410);
    expect(again.data.error.errors[0]!.reason).toBe('deleted');

    const inc = await api.events.list({ calendarId: 'primary', syncToken });
    expect(inc.data.items).toEqual([{ kind: 'calendar#event', etag: expect.any(String), id: created.data.id, status: 'cancelled' }]);
  });

  it('rejects the parameters Google forbids with a sync token (400)', async () => {
    const { syncToken } = await fullSync();
    const forbidden: calendar_v3.Params$Resource$Events$List[] = [
      { timeMin: new Date().toISOString() },
      { timeMax: new Date().toISOString() },
      { orderBy: 'updated' },
      { q: 'meeting' },
      { updatedMin: new Date().toISOString() },
      { iCalUID: 'x@google.com' },
      { privateExtendedProperty: ['a=b'] },
      { sharedExtendedProperty: ['a=b'] },
    ];
    for (const extra of forbidden) {
      const err = await errorOf(api.events.list({ calendarId: 'primary', singleEvents: true, syncToken, ...extra }));
      expect(err.status).toBe(400);
      expect(err.data.error.code).toBe(400);
      expect(err.data.error.message).toContain(Object.keys(extra)[0]!);
    }
    // allowed ones still work
    const ok = await api.events.list({ calendarId: 'primary', singleEvents: true, showDeleted: true, maxResults: 10, syncToken });
    expect(ok.status).toBe(200);
  });

  it('answers 410 fullSyncRequired for invalidated, unknown or foreign tokens', async () => {
    const { syncToken } = await fullSync();
    store.invalidateSyncTokens(ACCOUNT);
    const err = await errorOf(api.events.list({ calendarId: 'primary', singleEvents: true, syncToken }));
    expect(err.status).toBe(410);
    expect(err.data).toEqual({
      error: {
        code: 410,
        message: 'Sync token is no longer valid, a full sync is required.',
        errors: [{ domain: 'calendar', reason: 'fullSyncRequired', message: 'Sync token is no longer valid, a full sync is required.' }],
        status: 'GONE',
      },
    });
    // the GaxiosError carries the status and Google's message
    try {
      await api.events.list({ calendarId: 'primary', syncToken: 'CPDAlvWDx70CEPDAlvWDx70CGAU=' });
      expect.unreachable();
    } catch (e) {
      const ge = e as Error & { status?: number };
      expect(ge.status).toBe(410);
      expect(ge.message).toBe('Sync token is no longer valid, a full sync is required.');
    }
    const other = new CalendarStore(1234);
    other.ensureAccount('user-2');
    expect((await errorOf(api.events.list({ calendarId: 'primary', syncToken: other.currentSyncToken('user-2') }))).status).toBe(410);
    // a full sync recovers
    const fresh = await fullSync();
    const ok = await api.events.list({ calendarId: 'primary', singleEvents: true, syncToken: fresh.syncToken });
    expect(ok.data.items).toEqual([]);
  });
});

describe('calendar sandbox: writes', () => {
  it('inserts with a client-chosen id, 409 on duplicate, 400 on invalid id', async () => {
    const id = 'clientchosen0001';
    const body = { id, summary: 'Client id', start: { dateTime: '2030-03-01T09:00:00Z' }, end: { dateTime: '2030-03-01T09:30:00Z' } };
    const res = await api.events.insert({ calendarId: 'primary', requestBody: body });
    expect(res.data).toMatchObject({ id, status: 'confirmed', iCalUID: `${id}@google.com`, sequence: 0, organizer: { email: store.emailOf(ACCOUNT), self: true } });
    expect(res.data.created).toBe(res.data.updated);
    const dup = await errorOf(api.events.insert({ calendarId: 'primary', requestBody: body }));
    expect(dup.status).toBe(409);
    expect(dup.data.error.errors[0]!.reason).toBe('duplicate');
    for (const bad of ['ABCDEF', 'abc', 'wxyz12345', 'has_underscore']) {
      const err = await errorOf(api.events.insert({ calendarId: 'primary', requestBody: { ...body, id: bad } }));
      expect(err.status).toBe(400);
    }
    const got = await api.events.get({ calendarId: 'primary', eventId: id });
    expect(got.data.summary).toBe('Client id');
  });

  it('validates times like Google', async () => {
    const cases: [calendar_v3.Schema$Event, string][] = [
      [{ start: { dateTime: '2030-01-01T10:00:00Z' } }, 'Missing end time.'],
      [{ start: { dateTime: '2030-01-01T10:00:00Z' }, end: { dateTime: '2030-01-01T09:00:00Z' } }, 'The specified time range is empty.'],
      [{ start: { date: '2030-01-01' }, end: { dateTime: '2030-01-01T09:00:00Z' } }, 'Start and end times must either both be date or both be dateTime.'],
      [{ start: { dateTime: '2030-01-01T10:00:00' }, end: { dateTime: '2030-01-01T11:00:00' } }, 'Missing time zone definition for start time.'],
    ];
    for (const [requestBody, message] of cases) {
      const err = await errorOf(api.events.insert({ calendarId: 'primary', requestBody }));
      expect(err.status).toBe(400);
      expect(err.data.error.message).toBe(message);
    }
  });

  it('patches events and single instances, bumping updated, etag and sequence', async () => {
    const created = (
      await api.events.insert({
        calendarId: 'primary',
        requestBody: {
          summary: 'Weekly',
          start: { dateTime: '2030-06-03T15:00:00+02:00', timeZone: 'Europe/Berlin' },
          end: { dateTime: '2030-06-03T16:00:00+02:00', timeZone: 'Europe/Berlin' },
          recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'],
        },
      })
    ).data;
    await new Promise((r) => setTimeout(r, 5));
    const patched = (await api.events.patch({ calendarId: 'primary', eventId: created.id!, requestBody: { summary: 'Weekly (renamed)', location: 'Room 1' } })).data;
    expect(patched).toMatchObject({ summary: 'Weekly (renamed)', location: 'Room 1', sequence: 0, recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'] });
    expect(Date.parse(patched.updated!)).toBeGreaterThan(Date.parse(created.updated!));
    expect(patched.etag).not.toBe(created.etag);

    const instanceId = `${created.id}_20300610T130000Z`;
    const inst = (await api.events.get({ calendarId: 'primary', eventId: instanceId })).data;
    expect(inst).toMatchObject({ recurringEventId: created.id, summary: 'Weekly (renamed)', start: { dateTime: '2030-06-10T15:00:00+02:00' } });
    const moved = (
      await api.events.patch({
        calendarId: 'primary',
        eventId: instanceId,
        requestBody: { start: { dateTime: '2030-06-10T17:00:00+02:00' }, end: { dateTime: '2030-06-10T18:00:00+02:00' } },
      })
    ).data;
    expect(moved).toMatchObject({ id: instanceId, recurringEventId: created.id, originalStartTime: { dateTime: '2030-06-10T15:00:00+02:00' }, sequence: 1 });
    const insts = (await api.events.instances({ calendarId: 'primary', eventId: created.id! })).data.items!;
    expect(insts.map((i) => i.start!.dateTime)).toEqual(['2030-06-03T15:00:00+02:00', '2030-06-10T17:00:00+02:00', '2030-06-17T15:00:00+02:00', '2030-06-24T15:00:00+02:00']);

    const missing = await errorOf(api.events.patch({ calendarId: 'primary', eventId: 'doesnotexist1', requestBody: { summary: 'x' } }));
    expect(missing.status).toBe(404);
  });
});

describe('calendar sandbox: determinism and generation', () => {
  it('generates the same calendar from the same (seed, account) and different ones otherwise', () => {
    const at = () => Date.parse('2025-06-01T12:00:00Z');
    const a = new CalendarStore(7, { now: at });
    const b = new CalendarStore(7, { now: at });
    const c = new CalendarStore(8, { now: at });
    for (const s of [a, b, c]) {
      s.ensureAccount('alice');
      s.ensureAccount('alice'); // idempotent
    }
    expect(a.events('alice')).toEqual(b.events('alice'));
    expect(a.events('alice').length).toBe(b.events('alice').length);
    expect(a.events('alice').map((e) => e.id)).not.toEqual(c.events('alice').map((e) => e.id));
    b.ensureAccount('bob');
    expect(b.events('bob').map((e) => e.id)).not.toEqual(b.events('alice').map((e) => e.id));
  });
});
