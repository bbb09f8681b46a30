import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';
import { SyncedData } from './helpers/synced-data';

/**
 * The read API over real HTTP on a real Postgres: emails, calendar, CRM, interactions. The rows are
 * inserted directly (as the sync processors leave them); alice owns most, bob's must never show.
 */
let app: SandboxedApp;
let data: SyncedData;
const ids: Record<string, number> = {};

beforeAll(async () => {
  app = await startSandboxedApp({ WEBHOOK_KICK_RUNNER: 'false', RATE_LIMIT_PER_MINUTE: '100000' });
  data = new SyncedData(app.database.pool);
  await seed();
});
afterAll(async () => {
  await app.close();
});

async function seed() {
  const gmail = await data.connection({ userId: 'alice', provider: 'gmail' });
  const calendar = await data.connection({ userId: 'alice', provider: 'calendar' });
  const salesforce = await data.connection({ userId: 'alice', provider: 'salesforce' });
  const bobGmail = await data.connection({ userId: 'bob', provider: 'gmail' });
  const bobCalendar = await data.connection({ userId: 'bob', provider: 'calendar' });
  const bobSalesforce = await data.connection({ userId: 'bob', provider: 'salesforce' });
  const thread = (userId: string, connectionId: number, subject: string, category: string, senders: string[], lastMessageAt: string, deleted = false) =>
    data.thread({ userId, connectionId, subject, category, senders, lastMessageAt, deleted });

  // Threads. t6 and t7 differ below the millisecond; t8 and t9 share their instant exactly.
  ids.t1 = await thread('alice', gmail, 'Your invoice #42', 'billing', ['billing@acme.com'], '2026-03-05T10:00:00Z');
  ids.t2 = await thread('alice', gmail, 'Security alert', 'security', ['security@bank.com'], '2026-03-04T10:00:00Z');
  ids.t3 = await thread('alice', gmail, '100% off today', 'promotion', ['deals@shop.com'], '2026-03-03T10:00:00Z');
  ids.t4 = await thread('alice', gmail, 'Family re_union notes', 'calendar', ['boss@acme.com', 'billing@acme.com'], '2026-03-02T10:00:00Z');
  ids.t5 = await thread('alice', gmail, 'Invoice, deleted', 'billing', ['billing@acme.com'], '2026-03-06T10:00:00Z', true);
  ids.t6 = await thread('alice', gmail, 'Micro A', 'other', ['a@x.com'], '2026-03-01T09:00:00.123456Z');
  ids.t7 = await thread('alice', gmail, 'Micro B', 'other', ['a@x.com'], '2026-03-01T09:00:00.123400Z');
  ids.t8 = await thread('alice', gmail, 'Tie one', 'support', ['help@vendor.com'], '2026-02-28T09:00:00Z');
  ids.t9 = await thread('alice', gmail, 'Tie two', 'support', ['help@vendor.com'], '2026-02-28T09:00:00Z');
  ids.bobThread = await thread('bob', bobGmail, 'Your invoice for bob', 'billing', ['billing@acme.com'], '2026-03-10T10:00:00Z');
  ids.m2 = await data.message({ threadId: ids.t1, connectionId: gmail, userId: 'alice', fromAddress: 'billing@acme.com', internalDate: '2026-03-05T10:00:00Z', subject: 'Re: Your invoice #42', bodyText: 'second' });
  ids.m1 = await data.message({ threadId: ids.t1, connectionId: gmail, userId: 'alice', fromAddress: 'me@example.com', internalDate: '2026-03-05T09:00:00Z', subject: 'Your invoice #42', bodyText: 'first' });
  ids.mDeleted = await data.message({ threadId: ids.t1, connectionId: gmail, userId: 'alice', fromAddress: 'spam@x.com', internalDate: '2026-03-05T09:30:00Z', deleted: true });

  // Calendar, around March 10, 2026.
  const event = (input: Parameters<SyncedData['event']>[0]) => data.event(input);
  const a = { userId: 'alice', connectionId: calendar };
  ids.e1 = await event({ ...a, summary: 'Standup', description: 'Daily sync', startAt: '2026-03-10T09:00:00Z', endAt: '2026-03-10T10:00:00Z' });
  ids.e2 = await event({ ...a, summary: 'Late call', startAt: '2026-03-09T22:00:00Z', endAt: '2026-03-10T01:00:00Z' });
  ids.e3 = await event({ ...a, summary: 'Holiday', startDate: '2026-03-10', endDate: '2026-03-11' });
  ids.e4 = await event({ ...a, summary: 'Offsite', startDate: '2026-03-09', endDate: '2026-03-10' });
  ids.e5 = await event({ ...a, summary: 'Review', location: 'Room 42', startAt: '2026-03-11T08:00:00Z', endAt: '2026-03-11T09:00:00Z' });
  ids.e6 = await event({ ...a, summary: 'Planning', startAt: '2026-03-12T08:00:00Z', endAt: '2026-03-12T09:00:00Z' });
  ids.e7 = await event({ ...a, summary: 'Cancelled one', status: 'cancelled', startAt: '2026-03-10T12:00:00Z', endAt: '2026-03-10T13:00:00Z' });
  ids.e8 = await event({ ...a, summary: 'Deleted one', deleted: true, startAt: '2026-03-10T13:00:00Z', endAt: '2026-03-10T14:00:00Z' });
  ids.e9 = await event({ ...a, summary: 'Early', startAt: '2026-03-09T08:00:00Z', endAt: '2026-03-09T09:00:00Z' });
  ids.e10 = await event({ ...a, summary: 'Conference', startDate: '2026-03-08', endDate: '2026-03-12' });
  ids.bobEvent = await event({ userId: 'bob', connectionId: bobCalendar, summary: 'Standup of bob', startAt: '2026-03-10T09:30:00Z', endAt: '2026-03-10T10:00:00Z' });
  const carolCalendar = await data.connection({ userId: 'carol', provider: 'calendar' });
  ids.carolPast = await event({ userId: 'carol', connectionId: carolCalendar, summary: 'Long ago', startAt: '2001-01-01T09:00:00Z', endAt: '2001-01-01T10:00:00Z' });
  ids.carolFuture = await event({ userId: 'carol', connectionId: carolCalendar, summary: 'Far ahead', startAt: '2099-01-01T09:00:00Z', endAt: '2099-01-01T10:00:00Z' });

  // CRM. L2 and L6 share their SystemModstamp; L3 and L5 have none (they sort last).
  const crm = (input: Omit<Parameters<SyncedData['crm']>[0], 'userId' | 'connectionId'>) => data.crm({ userId: 'alice', connectionId: salesforce, ...input });
  ids.L1 = await crm({ object: 'Lead', name: 'Ada Lovelace', email: 'ada@analytical.com', company: 'Analytical Engines', status: 'Open - Not Contacted', systemModstamp: '2026-03-05T10:00:00Z' });
  ids.L2 = await crm({ object: 'Lead', name: 'Grace Hopper', email: 'grace@navy.mil', company: 'US Navy', status: 'Working', systemModstamp: '2026-03-06T10:00:00Z' });
  ids.L3 = await crm({ object: 'Lead', name: 'Alan Turing', company: 'Bletchley Park', status: 'Working', systemModstamp: null });
  ids.L4 = await crm({ object: 'Lead', name: 'Deleted Lead', status: 'Working', systemModstamp: '2026-03-07T10:00:00Z', deleted: true });
  ids.L5 = await crm({ object: 'Lead', name: 'Linus 100%', systemModstamp: null });
  ids.L6 = await crm({ object: 'Lead', name: 'Tie Lead', systemModstamp: '2026-03-06T10:00:00Z' });
  ids.C1 = await crm({ object: 'Contact', name: 'Katherine Johnson', email: 'kj@nasa.gov', accountProviderId: '001000000000001AAA', systemModstamp: '2026-03-01T10:00:00Z' });
  ids.C2 = await crm({ object: 'Contact', name: 'Dorothy Vaughan', email: 'dv@nasa.gov', accountProviderId: '001000000000002AAA', systemModstamp: '2026-03-02T10:00:00Z' });
  ids.A1 = await crm({ object: 'Account', name: 'NASA', industry: 'Aerospace', systemModstamp: '2026-03-01T10:00:00Z' });
  ids.A2 = await crm({ object: 'Account', name: 'Acme', industry: 'Manufacturing', systemModstamp: '2026-03-02T10:00:00Z' });
  ids.O1 = await crm({ object: 'Opportunity', name: 'Big deal', stageName: 'Prospecting', amount: '50000.00', accountProviderId: '001000000000001AAA', systemModstamp: '2026-03-01T10:00:00Z' });
  ids.O2 = await crm({ object: 'Opportunity', name: 'Small deal', stageName: 'Closed Won', amount: '1200.50', accountProviderId: '001000000000002AAA', systemModstamp: '2026-03-02T10:00:00Z' });
  ids.O3 = await crm({ object: 'Opportunity', name: 'Mid deal', stageName: 'Prospecting', amount: '5000.00', accountProviderId: '001000000000001AAA', systemModstamp: '2026-03-03T10:00:00Z' });
  ids.bobLead = await data.crm({ userId: 'bob', connectionId: bobSalesforce, object: 'Lead', name: 'Ada Lovelace', email: 'ada@analytical.com', systemModstamp: '2026-03-09T10:00:00Z' });

  // Interactions. I5 and I6 differ below the millisecond.
  const interaction = (source: 'email' | 'calendar' | 'crm', occurredAt: string, title: string, deleted = false) =>
    data.interaction({ userId: 'alice', connectionId: gmail, source, occurredAt, title, deleted });
  ids.I1 = await interaction('email', '2026-03-05T10:00:00Z', 'Your invoice #42');
  ids.I2 = await interaction('calendar', '2026-03-04T10:00:00Z', 'Standup');
  ids.I3 = await interaction('crm', '2026-03-03T10:00:00Z', 'Lead Ada Lovelace');
  ids.I4 = await interaction('email', '2026-03-06T10:00:00Z', 'deleted', true);
  ids.I5 = await interaction('email', '2026-03-02T10:00:00.000900Z', 'Micro A');
  ids.I6 = await interaction('crm', '2026-03-02T10:00:00.000100Z', 'Micro B');
  ids.bobInteraction = await data.interaction({ userId: 'bob', connectionId: bobGmail, source: 'email', occurredAt: '2026-03-05T11:00:00Z', title: 'bob' });
}

async function get(path: string, user = 'alice', init: RequestInit = {}) {
  const response = await fetch(app.url + path, { ...init, headers: { authorization: `Bearer ${await app.token(user)}` } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

const idsOf = (body: { data: { id: number }[] }) => body.data.map((row) => row.id);
const names = (...keys: string[]) => keys.map((key) => ids[key]);

/** Follows nextCursor page by page; fails on a repeated row. */
async function walk(path: string, limit: number, user = 'alice'): Promise<{ ids: number[]; pages: number }> {
  const seen: number[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const response = await get(`${path}${separator}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, user);
    expect(response.status).toBe(200);
    expect(response.body.data.length).toBeLessThanOrEqual(limit);
    seen.push(...idsOf(response.body));
    cursor = response.body.nextCursor;
    pages += 1;
  } while (cursor);
  expect(new Set(seen).size).toBe(seen.length);
  return { ids: seen, pages };
}

async function expect400(path: string, parameter: string) {
  const response = await get(path);
  expect(response.status, path).toBe(400);
  expect(response.body.error.code).toBe('validation_failed');
  expect(response.body.error.details.map((d: { path: string }) => d.path), path).toContain(parameter);
}

describe('GET /api/emails', () => {
  const all = ['t1', 't2', 't3', 't4', 't6', 't7', 't9', 't8'];

  it('lists the caller\'s threads newest first, deleted excluded, with their fields', async () => {
    const response = await get('/api/emails');
    expect(response.status).toBe(200);
    expect(idsOf(response.body)).toEqual(names(...all));
    expect(response.body.nextCursor).toBeNull();
    expect(response.body.data[0]).toEqual({
      id: ids.t1,
      connectionId: expect.any(Number),
      providerThreadId: expect.any(String),
      subject: 'Your invoice #42',
      snippet: 'snippet of Your invoice #42',
      category: 'billing',
      categoryReasons: [],
      senders: ['billing@acme.com'],
      participants: [],
      labelIds: [],
      messageCount: 1,
      lastMessageAt: '2026-03-05T10:00:00.000Z',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const bob = await get('/api/emails', 'bob');
    expect(idsOf(bob.body)).toEqual([ids.bobThread]);
  });

  it('pages with limit and cursor: every row once, ties and sub-millisecond differences included', async () => {
    for (const limit of [1, 2, 3, 100]) {
      const { ids: seen, pages } = await walk('/api/emails', limit);
      expect(seen).toEqual(names(...all));
      expect(pages).toBe(Math.max(1, Math.ceil(all.length / limit)));
    }
    const first = await get('/api/emails?limit=3');
    expect(first.body.data).toHaveLength(3);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    // A cursor is only a position: another user presenting it still sees only their own rows.
    const foreign = await get(`/api/emails?cursor=${first.body.nextCursor}`, 'bob');
    expect(idsOf(foreign.body)).toEqual([]);
  });

  it('filters by sender (case-insensitive address, any message of the thread)', async () => {
    expect(idsOf((await get('/api/emails?sender=Billing@ACME.com')).body)).toEqual(names('t1', 't4'));
    expect(idsOf((await get('/api/emails?sender=nobody@acme.com')).body)).toEqual([]);
  });

  it('filters by subjectContains: any of up to 10, case-insensitive, wildcards taken literally', async () => {
    expect(idsOf((await get('/api/emails?subjectContains=INVOICE')).body)).toEqual(names('t1'));
    expect(idsOf((await get('/api/emails?subjectContains=invoice&subjectContains=alert')).body)).toEqual(names('t1', 't2'));
    expect(idsOf((await get(`/api/emails?subjectContains=${encodeURIComponent('100%')}`)).body)).toEqual(names('t3'));
    expect(idsOf((await get(`/api/emails?subjectContains=${encodeURIComponent('%')}`)).body)).toEqual(names('t3'));
    expect(idsOf((await get('/api/emails?subjectContains=_')).body)).toEqual(names('t4'));
    expect(idsOf((await get('/api/emails?subjectContains=1_0')).body)).toEqual([]);
    expect(idsOf((await get(`/api/emails?subjectContains=${encodeURIComponent('\\')}`)).body)).toEqual([]);
    const ten = [...Array.from({ length: 9 }, (_, i) => `subjectContains=zz${i}`), 'subjectContains=alert'].join('&');
    expect(idsOf((await get(`/api/emails?${ten}`)).body)).toEqual(names('t2'));
  });

  it('filters by category, after (inclusive) and before (exclusive), and combines filters', async () => {
    expect(idsOf((await get('/api/emails?category=billing')).body)).toEqual(names('t1'));
    expect(idsOf((await get('/api/emails?category=support')).body)).toEqual(names('t9', 't8'));
    expect(idsOf((await get('/api/emails?after=2026-03-03&before=2026-03-05')).body)).toEqual(names('t2', 't3'));
    const after = encodeURIComponent('2026-03-04T11:00:00+01:00');
    expect(idsOf((await get(`/api/emails?after=${after}`)).body)).toEqual(names('t1', 't2'));
    const before = encodeURIComponent('2026-03-01T09:00:00.123401Z');
    expect(idsOf((await get(`/api/emails?before=${before}&after=2026-03-01`)).body)).toEqual(names('t7'));
    expect(idsOf((await get('/api/emails?sender=billing@acme.com&category=calendar&subjectContains=union')).body)).toEqual(names('t4'));
    const { ids: seen } = await walk('/api/emails?category=support', 1);
    expect(seen).toEqual(names('t9', 't8'));
  });

  it('answers 400 naming the parameter for bad input', async () => {
    await expect400('/api/emails?limit=0', 'limit');
    await expect400('/api/emails?limit=101', 'limit');
    await expect400('/api/emails?limit=ten', 'limit');
    await expect400('/api/emails?cursor=garbage', 'cursor');
    const forged = Buffer.from(JSON.stringify({ t: '2026-02-30T00:00:00.000000Z', i: 1 })).toString('base64url');
    await expect400(`/api/emails?cursor=${forged}`, 'cursor');
    const eleven = Array.from({ length: 11 }, (_, i) => `subjectContains=s${i}`).join('&');
    await expect400(`/api/emails?${eleven}`, 'subjectContains');
    await expect400(`/api/emails?subjectContains=${'x'.repeat(101)}`, 'subjectContains.0');
    await expect400('/api/emails?subjectContains=', 'subjectContains.0');
    await expect400('/api/emails?sender=not-an-address', 'sender');
    await expect400('/api/emails?category=spam', 'category');
    await expect400('/api/emails?after=2026-02-30', 'after');
    await expect400('/api/emails?after=yesterday', 'after');
    await expect400('/api/emails?after=2026-03-01T10:00:00', 'after');
    await expect400('/api/emails?after=0000-01-01', 'after');
    await expect400(`/api/emails?before=${encodeURIComponent('2026-03-01T10:00:00+99:00')}`, 'before');
    await expect400('/api/emails?after=2026-03-05&before=2026-03-05', 'before');
    await expect400('/api/emails?category=billing&category=security', 'category');
    await expect400('/api/emails?subject=invoice', 'subject');
    const response = await get(`/api/emails?${eleven}`);
    expect(response.body.error.message).toContain('subjectContains');
  });

  it('refuses an unauthenticated caller (401) and unexported methods (405)', async () => {
    expect((await fetch(`${app.url}/api/emails`)).status).toBe(401);
    const post = await fetch(`${app.url}/api/emails`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, OPTIONS');
    expect((await fetch(`${app.url}/api/emails/${ids.t1}`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('GET /api/emails/{id}', () => {
  it('answers the thread with its messages, oldest first, deleted ones excluded', async () => {
    const response = await get(`/api/emails/${ids.t1}`);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: ids.t1, subject: 'Your invoice #42', category: 'billing' });
    expect(response.body.messages.map((m: { id: number }) => m.id)).toEqual(names('m1', 'm2'));
    expect(response.body.messages[0]).toMatchObject({
      fromAddress: 'me@example.com',
      fromName: 'me',
      to: [{ address: 'me@example.com' }],
      subject: 'Your invoice #42',
      bodyText: 'first',
      internalDate: '2026-03-05T09:00:00.000Z',
      hasCalendarInvite: false,
    });
    expect(response.body.messages[0]).not.toHaveProperty('userId');
    const empty = await get(`/api/emails/${ids.t2}`);
    expect(empty.body).toMatchObject({ id: ids.t2, messages: [] });
  });

  it('is 404 for another user\'s thread, a deleted one or none; 400 for a malformed id', async () => {
    for (const id of [ids.bobThread, ids.t5, 999_999]) {
      const response = await get(`/api/emails/${id}`);
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
    expect((await get(`/api/emails/${ids.t1}`, 'bob')).status).toBe(404);
    await expect400('/api/emails/abc', 'id');
  });
});

describe('GET /api/calendar/events', () => {
  const march = 'from=2026-03-01&to=2026-04-01';

  it('lists the events overlapping the range, soonest first; cancelled, deleted and others\' excluded', async () => {
    const response = await get('/api/calendar/events?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z');
    expect(response.status).toBe(200);
    expect(idsOf(response.body)).toEqual(names('e10', 'e2', 'e3', 'e1'));
    expect(response.body.data[1]).toMatchObject({
      summary: 'Late call',
      allDay: false,
      startAt: '2026-03-09T22:00:00.000Z',
      endAt: '2026-03-10T01:00:00.000Z',
      startDate: null,
    });
    expect(response.body.data[2]).toMatchObject({ summary: 'Holiday', allDay: true, startDate: '2026-03-10', endDate: '2026-03-11' });
    expect(idsOf((await get(`/api/calendar/events?${march}`)).body)).toEqual(names('e10', 'e4', 'e9', 'e2', 'e3', 'e1', 'e5', 'e6'));
    expect(idsOf((await get(`/api/calendar/events?${march}`, 'bob')).body)).toEqual([ids.bobEvent]);
  });

  it('takes all-day events by their dates in the offset the range is written in', async () => {
    // March 11 (+09:00) is 2026-03-10T15:00Z..2026-03-11T15:00Z: the Holiday of March 10 overlaps those
    // instants but is not on March 11; the Conference (8..11) is.
    const tokyo = `from=${encodeURIComponent('2026-03-11T00:00:00+09:00')}&to=${encodeURIComponent('2026-03-12T00:00:00+09:00')}`;
    expect(idsOf((await get(`/api/calendar/events?${tokyo}`)).body)).toEqual(names('e10', 'e5'));
    // A range ending mid-day includes that day's all-day events; the Offsite (March 9) is excluded.
    const morning = `from=${encodeURIComponent('2026-03-10T00:00:00+09:00')}&to=${encodeURIComponent('2026-03-10T12:00:00+09:00')}`;
    expect(idsOf((await get(`/api/calendar/events?${morning}`)).body)).toEqual(names('e10', 'e2', 'e3'));
    const pacific = `from=${encodeURIComponent('2026-03-10T00:00:00-08:00')}&to=${encodeURIComponent('2026-03-11T00:00:00-08:00')}`;
    expect(idsOf((await get(`/api/calendar/events?${pacific}`)).body)).toEqual(names('e10', 'e3', 'e1'));
  });

  it('filters by q over summary, description and location; from defaults to now; to is optional', async () => {
    expect(idsOf((await get(`/api/calendar/events?${march}&q=room`)).body)).toEqual(names('e5'));
    expect(idsOf((await get(`/api/calendar/events?${march}&q=DAILY`)).body)).toEqual(names('e1'));
    expect(idsOf((await get(`/api/calendar/events?${march}&q=call`)).body)).toEqual(names('e2'));
    expect(idsOf((await get(`/api/calendar/events?${march}&q=${encodeURIComponent('%')}`)).body)).toEqual([]);
    expect(idsOf((await get('/api/calendar/events', 'carol')).body)).toEqual([ids.carolFuture]);
    expect(idsOf((await get('/api/calendar/events?from=2000-01-01', 'carol')).body)).toEqual([ids.carolPast, ids.carolFuture]);
    expect(idsOf((await get('/api/calendar/events?from=2026-03-11T08:30:00Z')).body)).toEqual(names('e10', 'e5', 'e6'));
  });

  it('pages with limit and cursor, every event once', async () => {
    for (const limit of [1, 3]) {
      const { ids: seen } = await walk(`/api/calendar/events?${march}`, limit);
      expect(seen).toEqual(names('e10', 'e4', 'e9', 'e2', 'e3', 'e1', 'e5', 'e6'));
    }
  });

  it('answers 400 naming the parameter, and 405 for other methods', async () => {
    await expect400('/api/calendar/events?from=tomorrow', 'from');
    await expect400('/api/calendar/events?to=2026-13-01', 'to');
    await expect400('/api/calendar/events?from=2026-03-10&to=2026-03-09', 'to');
    await expect400('/api/calendar/events?q=', 'q');
    await expect400(`/api/calendar/events?q=${'x'.repeat(201)}`, 'q');
    await expect400('/api/calendar/events?limit=101', 'limit');
    await expect400('/api/calendar/events?cursor=abc', 'cursor');
    await expect400('/api/calendar/events?since=2026-03-01', 'since');
    // POST creates an event (an action); a method the endpoint does not export is 405.
    expect((await fetch(`${app.url}/api/calendar/events`, { method: 'PUT' })).status).toBe(405);
  });
});

describe('GET /api/crm/{object}', () => {
  it('lists one object\'s records, most recently modified first, records without SystemModstamp last', async () => {
    const response = await get('/api/crm/lead');
    expect(response.status).toBe(200);
    expect(idsOf(response.body)).toEqual(names('L6', 'L2', 'L1', 'L5', 'L3'));
    expect(response.body.data[2]).toEqual({
      id: ids.L1,
      connectionId: expect.any(Number),
      object: 'Lead',
      providerId: expect.any(String),
      name: 'Ada Lovelace',
      email: 'ada@analytical.com',
      phone: null,
      company: 'Analytical Engines',
      status: 'Open - Not Contacted',
      accountId: null,
      industry: null,
      website: null,
      stageName: null,
      amount: null,
      closeDate: null,
      fields: { Name: 'Ada Lovelace' },
      systemModstamp: '2026-03-05T10:00:00.000Z',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(idsOf((await get('/api/crm/contact')).body)).toEqual(names('C2', 'C1'));
    expect(idsOf((await get('/api/crm/account')).body)).toEqual(names('A2', 'A1'));
    const opportunities = await get('/api/crm/opportunity');
    expect(idsOf(opportunities.body)).toEqual(names('O3', 'O2', 'O1'));
    expect(opportunities.body.data.map((o: { amount: number }) => o.amount)).toEqual([5000, 1200.5, 50000]);
    expect(opportunities.body.data[0].accountId).toBe('001000000000001AAA');
    expect(idsOf((await get('/api/crm/lead', 'bob')).body)).toEqual([ids.bobLead]);
  });

  it('pages with limit and cursor across the records with and without SystemModstamp', async () => {
    for (const limit of [1, 2, 4]) {
      const { ids: seen } = await walk('/api/crm/lead', limit);
      expect(seen).toEqual(names('L6', 'L2', 'L1', 'L5', 'L3'));
    }
  });

  it('filters each object by its main fields', async () => {
    const cases: [string, string[]][] = [
      ['/api/crm/lead?email=ADA@analytical.com', ['L1']],
      ['/api/crm/lead?company=engines', ['L1']],
      ['/api/crm/lead?status=working', ['L2', 'L3']],
      ['/api/crm/lead?q=turing', ['L3']],
      [`/api/crm/lead?q=${encodeURIComponent('100%')}`, ['L5']],
      [`/api/crm/lead?q=${encodeURIComponent('_')}`, []],
      ['/api/crm/lead?status=working&q=grace', ['L2']],
      ['/api/crm/contact?email=kj@nasa.gov', ['C1']],
      ['/api/crm/contact?accountId=001000000000002AAA', ['C2']],
      ['/api/crm/contact?q=katherine', ['C1']],
      ['/api/crm/account?industry=AEROSPACE', ['A1']],
      ['/api/crm/account?q=acm', ['A2']],
      ['/api/crm/opportunity?stageName=closed won', ['O2']],
      ['/api/crm/opportunity?accountId=001000000000001AAA', ['O3', 'O1']],
      ['/api/crm/opportunity?minAmount=5000', ['O3', 'O1']],
      ['/api/crm/opportunity?minAmount=1200.51', ['O3', 'O1']],
      ['/api/crm/opportunity?minAmount=1200.5&stageName=Closed%20Won', ['O2']],
      ['/api/crm/opportunity?q=deal&minAmount=0', ['O3', 'O2', 'O1']],
    ];
    for (const [path, expected] of cases) expect(idsOf((await get(path)).body), path).toEqual(names(...expected));
  });

  it('is 404 for an unknown object; 400 naming a filter of another object or a bad value', async () => {
    for (const object of ['leads', 'Lead', 'case', 'user']) {
      const response = await get(`/api/crm/${object}`);
      expect(response.status).toBe(404);
      expect(response.body.error.message).toContain('expected lead, contact, account or opportunity');
    }
    await expect400('/api/crm/lead?industry=Tech', 'industry');
    await expect400('/api/crm/account?email=a@b.co', 'email');
    await expect400('/api/crm/lead?email=nope', 'email');
    await expect400('/api/crm/contact?accountId=short', 'accountId');
    await expect400('/api/crm/opportunity?minAmount=lots', 'minAmount');
    await expect400('/api/crm/opportunity?minAmount=-5', 'minAmount');
    await expect400('/api/crm/lead?limit=0', 'limit');
    await expect400('/api/crm/lead?cursor=%%%', 'cursor');
    expect((await fetch(`${app.url}/api/crm/lead`, { method: 'PUT' })).status).toBe(405);
  });
});

describe('GET /api/interactions', () => {
  const all = ['I1', 'I2', 'I3', 'I5', 'I6'];

  it('lists the timeline newest first, deleted and others\' excluded', async () => {
    const response = await get('/api/interactions');
    expect(response.status).toBe(200);
    expect(idsOf(response.body)).toEqual(names(...all));
    expect(response.body.data[0]).toEqual({
      id: ids.I1,
      connectionId: expect.any(Number),
      source: 'email',
      sourceId: expect.any(String),
      kind: 'email.received',
      occurredAt: '2026-03-05T10:00:00.000Z',
      title: 'Your invoice #42',
      summary: null,
      participants: [],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect(idsOf((await get('/api/interactions', 'bob')).body)).toEqual([ids.bobInteraction]);
  });

  it('filters by source, after and before; pages with every row once', async () => {
    expect(idsOf((await get('/api/interactions?source=crm')).body)).toEqual(names('I3', 'I6'));
    expect(idsOf((await get('/api/interactions?after=2026-03-03&before=2026-03-05T10:00:00Z')).body)).toEqual(names('I2', 'I3'));
    expect(idsOf((await get('/api/interactions?source=email&after=2026-03-02')).body)).toEqual(names('I1', 'I5'));
    for (const limit of [1, 2]) expect((await walk('/api/interactions', limit)).ids).toEqual(names(...all));
    expect((await walk('/api/interactions?source=crm', 1)).ids).toEqual(names('I3', 'I6'));
  });

  it('answers 400 naming the parameter, 405 for other methods', async () => {
    await expect400('/api/interactions?source=fax', 'source');
    await expect400('/api/interactions?after=2026-03-01T25:00:00Z', 'after');
    await expect400('/api/interactions?after=2026-03-05&before=2026-03-01', 'before');
    await expect400('/api/interactions?limit=-1', 'limit');
    await expect400('/api/interactions?cursor=eyJ0IjoxfQ', 'cursor');
    expect((await fetch(`${app.url}/api/interactions`, { method: 'POST' })).status).toBe(405);
  });
});
