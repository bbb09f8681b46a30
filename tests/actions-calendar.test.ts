import { describe, expect, it } from 'vitest';
import { eventIdFor } from '../lib/actions/calendar/events';
import { useActionsApp } from './helpers/actions';

/**
 * Google Calendar's actions end to end: real HTTP to the API, the action job run by the kicked runner,
 * the real googleapis client against the sandbox, real Postgres. Each test has its own sandbox user.
 */
const app = useActionsApp('calendar');

const DAY = 86_400_000;
/** A day at 09:00 UTC, `days` from today. */
const at = (days: number, hour = 9) => new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY + hour * 3_600_000).toISOString().replace('.000Z', 'Z');
const date = (days: number) => new Date(Math.floor(Date.now() / DAY) * DAY + days * DAY).toISOString().slice(0, 10);

async function readEvents(userId: string, days = 3) {
  const listed = await app.get(`/api/calendar/events?from=${date(-1)}&to=${date(days + 2)}&limit=100`, userId);
  expect(listed.status).toBe(200);
  return listed.body.data as any[];
}

describe('calendar.create_event', () => {
  it('a simple event: created with the id derived from the key, shown at once by GET /api/calendar/events', async () => {
    await app.connect('cal-ann', 'calendar');
    const key = 'create-simple-1';
    const created = await app.write(
      'POST',
      '/api/calendar/events',
      'cal-ann',
      { summary: 'Team Sync', start: { dateTime: at(1, 14), timeZone: 'Europe/Paris' }, end: { dateTime: at(1, 15), timeZone: 'Europe/Paris' } },
      key,
    );
    expect(created.status).toBe(200);
    const event = created.body.action.result;
    expect(event.id).toBe(eventIdFor('cal-ann', key));
    expect(event.id).toMatch(/^[a-v0-9]{52}$/);
    expect(created.body.action).toMatchObject({ tool: 'calendar.create_event', status: 'succeeded', attempts: 1 });
    expect(app.sandbox.calendar.getEvent('cal-ann', event.id)).toMatchObject({ summary: 'Team Sync', status: 'confirmed' });

    const rows = (await readEvents('cal-ann')).filter((e) => e.providerEventId === event.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ summary: 'Team Sync', allDay: false, startAt: new Date(at(1, 14)).toISOString() });
  });

  it('an all-day event, and a recurring one stored as the instances the sync stores', async () => {
    await app.connect('cal-bea', 'calendar');
    const allDay = await app.write('POST', '/api/calendar/events', 'cal-bea', { summary: 'Offsite', start: { date: date(2) }, end: { date: date(3) } });
    expect(allDay.status).toBe(200);
    const weekly = await app.write('POST', '/api/calendar/events', 'cal-bea', {
      summary: 'Standup',
      start: { dateTime: `${date(1)}T09:00:00`, timeZone: 'America/New_York' },
      end: { dateTime: `${date(1)}T09:15:00`, timeZone: 'America/New_York' },
      recurrence: ['RRULE:FREQ=DAILY;COUNT=4'],
    });
    expect(weekly.status).toBe(200);
    const series = weekly.body.action.result.id as string;
    const rows = await readEvents('cal-bea', 6);
    expect(rows.filter((e) => e.providerEventId === allDay.body.action.result.id)).toMatchObject([{ allDay: true, startDate: date(2), endDate: date(3) }]);
    const instances = rows.filter((e) => e.recurringEventId === series);
    expect(instances).toHaveLength(4);
    expect(rows.some((e) => e.providerEventId === series)).toBe(false);
  });

  it('attendees are told once (sendUpdates), however often the insert is repeated', async () => {
    await app.connect('cal-cy', 'calendar');
    const body = {
      summary: 'Review',
      start: { dateTime: at(2, 10) },
      end: { dateTime: at(2, 11) },
      attendees: [{ email: 'dana@example.com' }, { email: 'eli@example.org' }],
    };
    const first = await app.write('POST', '/api/calendar/events?sendUpdates=all', 'cal-cy', body, 'invite-1');
    expect(first.status).toBe(200);
    const again = await app.write('POST', '/api/calendar/events?sendUpdates=all', 'cal-cy', body, 'invite-1');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.action.id).toBe(first.body.action.id);
    const sent = app.sandbox.calendar.notifications.filter((n) => n.eventId === first.body.action.result.id);
    expect(sent.map((n) => n.to).sort()).toEqual(['dana@example.com', 'eli@example.org']);
    const row = (await readEvents('cal-cy')).find((e) => e.providerEventId === first.body.action.result.id);
    expect(row.attendees.map((a: any) => a.email).sort()).toEqual(['dana@example.com', 'eli@example.org']);
  });

  it('refuses an end before the start (422 naming end), an unknown time zone, an unknown calendar (404)', async () => {
    await app.connect('cal-dee', 'calendar');
    const backwards = await app.write('POST', '/api/calendar/events', 'cal-dee', { summary: 'x', start: { dateTime: at(1, 12) }, end: { dateTime: at(1, 11) } });
    expect(backwards.status).toBe(422);
    expect(backwards.body.error.details).toEqual([{ path: 'end', message: 'end must not be before start' }]);
    const zone = await app.write('POST', '/api/calendar/events', 'cal-dee', {
      summary: 'x',
      start: { dateTime: `${date(1)}T09:00:00`, timeZone: 'Mars/Olympus' },
      end: { dateTime: `${date(1)}T10:00:00`, timeZone: 'Mars/Olympus' },
    });
    expect(zone.status).toBe(422);
    expect(zone.body.error.details.map((d: any) => d.path)).toEqual(['start', 'end']);
    const shape = await app.write('POST', '/api/calendar/events', 'cal-dee', { summary: 'x', start: '2026-01-01', end: { date: date(2) } });
    expect(shape.status).toBe(400);
    const [recorded] = await app.q<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE user_id = 'cal-dee'`);
    expect(recorded!.n).toBe(0);

    const unknown = await app.write('POST', '/api/calendar/events?calendarId=nobody%40example.com', 'cal-dee', {
      summary: 'x',
      start: { dateTime: at(1, 9) },
      end: { dateTime: at(1, 10) },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'not_found', details: [{ path: 'calendarId' }] });
    expect(unknown.body.action).toMatchObject({ status: 'failed', error: { status: 404 } });
  });
});

describe('calendar.update_event and calendar.cancel_event', () => {
  it('moves an event and changes its attendees (PATCH by the row id), then cancels it (DELETE)', async () => {
    await app.connect('cal-eva', 'calendar');
    const created = await app.write('POST', '/api/calendar/events', 'cal-eva', { summary: 'Planning', start: { dateTime: at(1, 9) }, end: { dateTime: at(1, 10) } });
    const eventId = created.body.action.result.id;
    const row = (await readEvents('cal-eva')).find((e) => e.providerEventId === eventId);

    const moved = await app.write('PATCH', `/api/calendar/events/${row.id}`, 'cal-eva', { start: { dateTime: at(1, 13) }, end: { dateTime: at(1, 14) } });
    expect(moved.status).toBe(200);
    const invited = await app.write('PATCH', `/api/calendar/events/${eventId}?sendUpdates=all`, 'cal-eva', { attendees: [{ email: 'fay@example.com' }] });
    expect(invited.status).toBe(200);
    expect(app.sandbox.calendar.getEvent('cal-eva', eventId)).toMatchObject({ attendees: [expect.objectContaining({ email: 'fay@example.com' })] });
    const after = (await readEvents('cal-eva')).find((e) => e.providerEventId === eventId);
    expect(after).toMatchObject({ id: row.id, startAt: new Date(at(1, 13)).toISOString(), attendees: [expect.objectContaining({ email: 'fay@example.com' })] });

    const earlier = await app.write('PATCH', `/api/calendar/events/${row.id}`, 'cal-eva', { end: { dateTime: at(1, 12) } });
    expect(earlier.status).toBe(422);
    expect(earlier.body.error.details[0].path).toBe('end');

    const cancelled = await app.write('DELETE', `/api/calendar/events/${row.id}?sendUpdates=all`, 'cal-eva');
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.action.result).toEqual({ id: eventId, status: 'cancelled' });
    expect(app.sandbox.calendar.getEvent('cal-eva', eventId)?.status).toBe('cancelled');
    expect((await readEvents('cal-eva')).some((e) => e.providerEventId === eventId)).toBe(false);
    expect(app.sandbox.calendar.notifications.filter((n) => n.eventId === eventId).map((n) => n.kind)).toEqual(['update', 'cancellation']);

    const gone = await app.write('PATCH', `/api/calendar/events/${row.id}`, 'cal-eva', { summary: 'again' });
    expect(gone.status).toBe(404);
    const unknown = await app.write('PATCH', '/api/calendar/events/abcdefghij0123456789', 'cal-eva', { summary: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.details[0].path).toBe('eventId');
  });
});

describe('calendar actions, exactly once', () => {
  it('inserts applied and then answered 5xx, or not answered, leave exactly one event each', async () => {
    await app.connect('cal-fox', 'calendar');
    app.sandbox.setFaults('calendar', { errorAfterApplyRate: 0.4, hangAfterApplyRate: 0.2, hangMs: 5_000 });
    const keys = Array.from({ length: 8 }, (_, i) => `faulty-${i}`);
    const answers = await Promise.all(
      keys.map((key, i) =>
        app.write('POST', '/api/calendar/events', 'cal-fox', { summary: `Faulty ${i}`, start: { dateTime: at(2, 8 + i) }, end: { dateTime: at(2, 9 + i) } }, key),
      ),
    );
    const stats = app.sandbox.faultStats('calendar');
    expect(stats.appliedThenFailed + stats.appliedThenHung).toBeGreaterThan(0);
    app.sandbox.setFaults('calendar', {});
    await app.drain();
    for (const [i, key] of keys.entries()) {
      expect([200, 202]).toContain(answers[i]!.status);
      const events = app.sandbox.calendar.events('cal-fox').filter((e) => e.summary === `Faulty ${i}`);
      expect(events.map((e) => e.id)).toEqual([eventIdFor('cal-fox', key)]);
    }
    const actions = await app.q(`SELECT status, count(*)::int AS n FROM actions WHERE user_id = 'cal-fox' GROUP BY status`);
    expect(actions).toEqual([{ status: 'succeeded', n: 8 }]);
    const rows = await app.q(`SELECT provider_event_id, count(*)::int AS n FROM calendar_events WHERE user_id = 'cal-fox' AND summary LIKE 'Faulty %' GROUP BY 1`);
    expect(rows).toHaveLength(8);
    expect(rows.every((r) => r.n === 1)).toBe(true);
  });
});
