import fc from 'fast-check';
import { it } from 'vitest';
import { checkHistories, FIDELITY_RUNS, historyArb, pickNth, useFidelityApp, type FidelityModel } from './helpers/fidelity';
import * as truth from './helpers/truth-calendar';

/**
 * Google Calendar under random histories: one-off and all-day events and recurring series created,
 * edited, moved and cancelled; a series renamed or moved whole, one of its instances moved, renamed or
 * cancelled; interleaved with sync runs under 5xx, 429, hangs, an expired token, a sync token Google
 * no longer accepts (410), a lapsed lease or a SIGKILLed runner. Everything stays inside the synced
 * window (30 days back, 90 ahead), so the window's listing is the truth. See tests/helpers/fidelity.ts.
 */
const sync = useFidelityApp('calendar');
const { app, query } = sync;

const DAY = 86_400_000;
const HOUR = 3_600_000;

type Change =
  | { kind: 'addEvent'; day: number; hour: number; allDay: boolean }
  | { kind: 'addSeries'; day: number; hour: number; freq: 'DAILY' | 'WEEKLY'; count: number }
  // `on`: a one-off or a whole series, or one instance of a series (which becomes an exception).
  | { kind: 'edit'; on: Target; target: number; summary: string }
  | { kind: 'move'; on: Target; target: number; minutes: number }
  | { kind: 'cancel'; on: Target; target: number };
type Target = 'event' | 'instance';

const on = fc.constantFrom<Target>('event', 'instance');
const summary = fc.constantFrom('Planning', 'Dentist', 'Quarterly review', 'Lunch with Ana');
const minutes = fc.oneof(fc.integer({ min: -180, max: -15 }), fc.integer({ min: 15, max: 180 }));
const addEvent = fc.record({ kind: fc.constant('addEvent' as const), day: fc.integer({ min: 2, max: 60 }), hour: fc.integer({ min: 7, max: 18 }), allDay: fc.boolean() });
const addSeries = fc.record({
  kind: fc.constant('addSeries' as const),
  day: fc.integer({ min: 2, max: 30 }),
  hour: fc.integer({ min: 7, max: 18 }),
  freq: fc.constantFrom('DAILY' as const, 'WEEKLY' as const),
  count: fc.integer({ min: 2, max: 5 }),
});
const change: fc.Arbitrary<Change> = fc.oneof(
  addEvent,
  addSeries,
  fc.record({ kind: fc.constant('edit' as const), on, target: fc.nat(), summary }),
  fc.record({ kind: fc.constant('move' as const), on, target: fc.nat(), minutes }),
  fc.record({ kind: fc.constant('cancel' as const), on, target: fc.nat() }),
);

const model: FidelityModel<Change> = {
  provider: 'calendar',
  apply(userId, c) {
    const calendar = app.sandbox.calendar;
    // Targets in the order they were made (ids are random per account; the order replays).
    const live = calendar.events(userId).filter((e) => e.status !== 'cancelled' && !e.recurringEventId);
    const series = live.filter((e) => e.recurrence);
    const instances = series.flatMap((s) => calendar.instancesOf(userId, s.id));
    const today = Math.floor(Date.now() / DAY) * DAY;
    switch (c.kind) {
      case 'addEvent': {
        const start = today + c.day * DAY + c.hour * HOUR;
        const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
        calendar.addEvent(userId, {
          summary: `Event on day ${c.day}`,
          ...(c.allDay
            ? { start: { date: date(start) }, end: { date: date(start + DAY) } }
            : { start: { dateTime: new Date(start).toISOString() }, end: { dateTime: new Date(start + HOUR).toISOString() } }),
        });
        return;
      }
      case 'addSeries': {
        const start = today + c.day * DAY + c.hour * HOUR;
        calendar.addEvent(userId, {
          summary: `${c.freq} series`,
          start: { dateTime: new Date(start).toISOString(), timeZone: 'UTC' },
          end: { dateTime: new Date(start + HOUR).toISOString(), timeZone: 'UTC' },
          recurrence: [`RRULE:FREQ=${c.freq};COUNT=${c.count}`],
        });
        return;
      }
      default: {
        const target = pickNth(c.on === 'event' ? live : instances, c.target);
        if (!target) return;
        if (c.kind === 'edit') calendar.patchEvent(userId, target.id, c.on === 'event' ? { summary: c.summary, location: 'Room 2' } : { summary: c.summary });
        else if (c.kind === 'move') calendar.moveEvent(userId, target.id, c.minutes);
        else calendar.cancelEvent(userId, target.id);
      }
    }
  },
  staleCursor: (userId) => app.sandbox.calendar.invalidateSyncTokens(userId),
  truth: (userId) => truth.calendarTruth(app.sandbox, userId, [truth.configuredWindow()]),
  stored: (connectionId) => truth.storedEvents(query, connectionId),
};

it(`calendar: ${FIDELITY_RUNS} random histories of event changes, sync runs and faults end with the tables equal to the calendar`, { timeout: 60_000 + FIDELITY_RUNS * 3_000 }, async () => {
  await checkHistories(sync, model, historyArb(fc.array(fc.oneof(addEvent, addSeries), { maxLength: 4 }), change, { staleCursor: true }));
});
