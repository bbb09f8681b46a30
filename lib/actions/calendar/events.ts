import type { calendar_v3 } from '@googleapis/calendar';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '../../../db/client';
import type { Connection } from '../../../db/schema';
import { config } from '../../config';
import { ProviderError } from '../../providers/errors';
import { calendarApi, googleError, googleRequestOptions } from '../../providers/google';
import { writeOptions } from '../google';
import { normalizeEvent, type CalendarEventRow, type CancelledItem } from '../../sync/calendar/normalize';
import { storePage } from '../../sync/calendar/store';
import { keyDigest } from '../idempotency';
import { unprocessableInput } from '../input';
import { ActionFailure, defineTool, failure, type ActionContext, type ActionErrorDetail, type ActionOutcome } from '../types';
import { instantOf, type EventTime } from './event-time';

/**
 * Google Calendar's `calendar.create_event`, `calendar.update_event` and `calendar.cancel_event`. The
 * input is Calendar's own event resource (summary, start/end with date or dateTime and timeZone,
 * attendees, recurrence...) with the call's parameters beside it: calendarId (default `primary`) and
 * sendUpdates (all, externalOnly, none: who Google emails about the change).
 */

const time = z.strictObject({
  date: z.string().max(10).optional(),
  dateTime: z.string().max(40).optional(),
  timeZone: z.string().min(1).max(64).optional(),
});
const attendee = z.strictObject({
  email: z.string().min(3).max(254),
  displayName: z.string().max(255).optional(),
  optional: z.boolean().optional(),
  responseStatus: z.enum(['needsAction', 'declined', 'tentative', 'accepted']).optional(),
  comment: z.string().max(1000).optional(),
  additionalGuests: z.number().int().min(0).max(100).optional(),
});
/** The writable fields of Calendar's Event resource that switchyard passes through. */
const eventFields = {
  summary: z.string().max(1024).optional(),
  description: z.string().max(8192).optional(),
  location: z.string().max(1024).optional(),
  start: time.optional(),
  end: time.optional(),
  attendees: z.array(attendee).max(300).optional(),
  recurrence: z.array(z.string().min(1).max(2000)).max(50).optional(),
  reminders: z
    .strictObject({
      useDefault: z.boolean(),
      overrides: z.array(z.strictObject({ method: z.enum(['email', 'popup']), minutes: z.number().int().min(0).max(40320) })).max(5).optional(),
    })
    .optional(),
  colorId: z.string().max(10).optional(),
  transparency: z.enum(['opaque', 'transparent']).optional(),
  visibility: z.enum(['default', 'public', 'private', 'confidential']).optional(),
  guestsCanInviteOthers: z.boolean().optional(),
  guestsCanModify: z.boolean().optional(),
  guestsCanSeeOtherGuests: z.boolean().optional(),
};
const call = {
  calendarId: z.string().min(1).max(255).default('primary'),
  sendUpdates: z.enum(['all', 'externalOnly', 'none']).optional(),
};
const eventId = z.string().regex(/^[a-v0-9]{5,1024}(_\d{8}(T\d{6}Z)?)?$/, 'expected a Calendar event id');

export const createEventInput = z.strictObject({ ...call, ...eventFields });
export const updateEventInput = z.strictObject({ ...call, eventId, ...eventFields });
export const cancelEventInput = z.strictObject({ ...call, eventId });
export type CreateEventInput = z.infer<typeof createEventInput>;
export type UpdateEventInput = z.infer<typeof updateEventInput>;
export type CancelEventInput = z.infer<typeof cancelEventInput>;

const EMAIL = /^[^\s@<>(),;:"[\]\\]+@[^\s@<>(),;:"[\]\\]+\.[^\s@<>(),;:"[\]\\]+$/;
const RECURRENCE = /^(RRULE|EXRULE|RDATE|EXDATE)[:;]/;
const EVENT_FIELDS = Object.keys(eventFields);

/** What Google would refuse, refused first (422), each field named: times, zones, addresses, rules. */
function checkEvent(input: Partial<CreateEventInput>, mode: 'create' | 'update'): ActionErrorDetail[] {
  const problems: ActionErrorDetail[] = [];
  const instants: Partial<Record<'start' | 'end', { ms: number; allDay: boolean }>> = {};
  for (const which of ['start', 'end'] as const) {
    const value = input[which] as EventTime | undefined;
    if (!value) {
      if (mode === 'create') problems.push({ path: which, message: `${which} is required: {dateTime, timeZone} or {date}` });
      continue;
    }
    const instant = instantOf(value);
    if ('problem' in instant) problems.push({ path: which, message: instant.problem });
    else instants[which] = instant;
  }
  const { start, end } = instants;
  if (start && end) {
    if (start.allDay !== end.allDay) problems.push({ path: 'end', message: 'start and end must both be dates (all day) or both dateTimes' });
    else if (end.ms < start.ms || (start.allDay && end.ms === start.ms)) {
      problems.push({ path: 'end', message: start.allDay ? 'end must be after start (the end date is exclusive)' : 'end must not be before start' });
    }
  }
  (input.attendees ?? []).forEach((a, i) => {
    if (!EMAIL.test(a.email)) problems.push({ path: `attendees.${i}.email`, message: `not an email address: ${JSON.stringify(a.email.slice(0, 100))}` });
  });
  (input.recurrence ?? []).forEach((rule, i) => {
    if (!RECURRENCE.test(rule) || (rule.startsWith('RRULE') && !/FREQ=(SECONDLY|MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)/.test(rule))) {
      problems.push({ path: `recurrence.${i}`, message: 'expected an RFC 5545 line such as RRULE:FREQ=WEEKLY;COUNT=10' });
    }
  });
  if (input.recurrence?.length && input.start?.dateTime && !input.start.timeZone) {
    problems.push({ path: 'start.timeZone', message: 'a recurring event needs the time zone its rule repeats in' });
  }
  return problems;
}

function refuse(what: string, problems: ActionErrorDetail[]): never {
  throw unprocessableInput(`${what}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
}

const resourceOf = (input: Partial<CreateEventInput>): calendar_v3.Schema$Event =>
  Object.fromEntries(EVENT_FIELDS.filter((k) => (input as Record<string, unknown>)[k] !== undefined).map((k) => [k, (input as Record<string, unknown>)[k]]));

/** The event id of an action: base32hex (Calendar's alphabet, 0-9 and a-v) of the digest of the user's key. */
export function eventIdFor(userId: string, idempotencyKey: string): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuv';
  const digest = keyDigest(userId, idempotencyKey);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

type Context<I> = ActionContext<I, CalendarState>;
interface CalendarState {
  /** An update or a cancellation was sent at least once: a retry first checks whether it applied. */
  attempted: boolean;
}

function calendarCall<T, I>(context: Context<I>, run: (options: ReturnType<typeof googleRequestOptions>) => Promise<{ data: T }>): Promise<T> {
  return context.request(1, async (accessToken, signal) => {
    try {
      return (await run(writeOptions(accessToken, signal))).data;
    } catch (error) {
      throw googleError('calendar', error);
    }
  });
}

/** Calendar's refusals as the action's answer (ActionFailure); anything else is rethrown as it is. */
function refusal(error: unknown, target: 'calendarId' | 'eventId'): never {
  if (!(error instanceof ProviderError) || error.isTransient || error.isQuota || error.isUnauthorized) throw error;
  const reason = error.options.reason;
  const text = error.message;
  if (error.status === 404 || error.status === 410) {
    throw failure.notFound(target === 'calendarId' ? 'no such calendar' : 'no such event (or it was deleted)', [
      { path: target, message: text },
    ]);
  }
  if (reason === 'timeRangeEmpty') throw failure.unprocessable('the event ends before it starts', [{ path: 'end', message: text }]);
  if (error.status === 403) throw new ActionFailure({ status: 403, code: 'forbidden', message: `Google Calendar refused: ${text}` });
  const path = /start/i.test(text) ? 'start' : /end time/i.test(text) ? 'end' : /recurrence/i.test(text) ? 'recurrence' : /attendee/i.test(text) ? 'attendees' : '';
  throw failure.unprocessable(`Google Calendar refused the event: ${text}`, [{ path, message: text }]);
}

/** Instances of a series in the synced window, as the sync (singleEvents) stores them instead of the series. */
async function seriesInstances<I>(context: Context<I>, calendarId: string, id: string): Promise<calendar_v3.Schema$Event[]> {
  const settings = config();
  const day = 86_400_000;
  const today = Math.floor(Date.now() / day) * day;
  const timeMin = new Date(today - settings.CALENDAR_BACKFILL_DAYS_BACK * day).toISOString();
  const timeMax = new Date(today + (settings.CALENDAR_BACKFILL_DAYS_AHEAD + 1) * day).toISOString();
  const items: calendar_v3.Schema$Event[] = [];
  let pageToken: string | undefined;
  do {
    const page: calendar_v3.Schema$Events = await calendarCall(context, (options) =>
      calendarApi().events.instances({ calendarId, eventId: id, timeMin, timeMax, maxResults: 2500, ...(pageToken ? { pageToken } : {}) }, options),
    );
    items.push(...(page.items ?? []));
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return items;
}

/** The rows the sync would store for this event: the event, or a series' instances. */
async function storable<I>(context: Context<I>, calendarId: string, event: calendar_v3.Schema$Event) {
  const events = event.recurrence?.length && event.id ? await seriesInstances(context, calendarId, event.id) : [event];
  const live: CalendarEventRow[] = [];
  const cancelled: CancelledItem[] = [];
  for (const item of events) {
    const normalized = normalizeEvent(item, null);
    if (normalized.kind === 'live') live.push(normalized.row);
    else if (normalized.kind === 'cancelled') cancelled.push(normalized.item);
  }
  return { live, cancelled };
}

function storeRows(connection: Connection, calendarId: string, rows: { live: CalendarEventRow[]; cancelled: CancelledItem[] }) {
  return async (tx: Tx) => {
    await storePage(tx, { connection, calendarId, live: rows.live, cancelled: rows.cancelled });
  };
}

export const createEvent = defineTool<CreateEventInput, CalendarState>({
  name: 'calendar.create_event',
  provider: 'calendar',
  input: createEventInput,
  prepare(input) {
    const problems = checkEvent(input, 'create');
    if (problems.length > 0) refuse('the event cannot be created', problems);
    return input;
  },
  /**
   * Exactly once: the event is inserted with an id derived from the action's key, so a repeated insert
   * (after a timeout, a 5xx, a runner killed after Google's answer) is refused with 409: it exists,
   * and it is read back instead.
   */
  async run(context): Promise<ActionOutcome> {
    const { input } = context;
    const id = eventIdFor(context.action.userId, context.action.idempotencyKey);
    let event: calendar_v3.Schema$Event;
    try {
      event = await calendarCall(context, (options) =>
        calendarApi().events.insert(
          { calendarId: input.calendarId, ...(input.sendUpdates ? { sendUpdates: input.sendUpdates } : {}), requestBody: { ...resourceOf(input), id } },
          options,
        ),
      );
    } catch (error) {
      if (!(error instanceof ProviderError && error.status === 409)) refusal(error, 'calendarId');
      event = await calendarCall(context, (options) => calendarApi().events.get({ calendarId: input.calendarId, eventId: id }, options));
    }
    const rows = await storable(context, input.calendarId, event);
    return { result: event, store: storeRows(context.connection, input.calendarId, rows) };
  },
});

/** True when the event already has every value the patch sets (a retried update that applied). */
function alreadyApplied(current: calendar_v3.Schema$Event, patch: calendar_v3.Schema$Event): boolean {
  return Object.entries(patch).every(([key, wanted]) => {
    const now = (current as Record<string, unknown>)[key];
    if (key === 'start' || key === 'end') {
      const a = instantOf(wanted as EventTime);
      const b = now ? instantOf(now as EventTime) : { problem: 'none' };
      return 'ms' in a && 'ms' in b && a.ms === b.ms && a.allDay === b.allDay;
    }
    if (key === 'attendees') {
      const emails = (list: unknown) => new Set(((list as { email?: string }[] | undefined) ?? []).map((x) => x.email?.toLowerCase()));
      const x = emails(wanted);
      const y = emails(now);
      return x.size === y.size && [...x].every((e) => y.has(e));
    }
    return JSON.stringify(now ?? null) === JSON.stringify(wanted ?? null);
  });
}

export const updateEvent = defineTool<UpdateEventInput, CalendarState>({
  name: 'calendar.update_event',
  provider: 'calendar',
  input: updateEventInput,
  prepare(input) {
    const problems = checkEvent(input, 'update');
    if (Object.keys(resourceOf(input)).length === 0) problems.push({ path: '', message: 'nothing to change: give the event fields to update' });
    if (problems.length > 0) refuse('the event cannot be updated', problems);
    return input;
  },
  /**
   * A patch sets values, so sending it twice changes nothing more; but it would notify the attendees
   * twice, so a retry first reads the event and patches only if the values are not there yet.
   */
  async run(context): Promise<ActionOutcome> {
    const { input } = context;
    const patch = resourceOf(input);
    const get = () =>
      calendarCall(context, (options) => calendarApi().events.get({ calendarId: input.calendarId, eventId: input.eventId }, options)).catch(
        (error) => refusal(error, 'eventId'),
      );
    let event: calendar_v3.Schema$Event | undefined;
    if (context.state.attempted) {
      const current = await get();
      if (current.status !== 'cancelled' && alreadyApplied(current, patch)) event = current;
    } else {
      await context.record({ attempted: true });
    }
    if (!event) {
      event = await calendarCall(context, (options) =>
        calendarApi().events.patch(
          { calendarId: input.calendarId, eventId: input.eventId, ...(input.sendUpdates ? { sendUpdates: input.sendUpdates } : {}), requestBody: patch },
          options,
        ),
      ).catch((error) => refusal(error, 'eventId'));
    }
    const rows = await storable(context, input.calendarId, event);
    return { result: event, store: storeRows(context.connection, input.calendarId, rows) };
  },
});

export const cancelEvent = defineTool<CancelEventInput, CalendarState>({
  name: 'calendar.cancel_event',
  provider: 'calendar',
  input: cancelEventInput,
  /** Deleting twice is refused with 410 Gone: the event is cancelled either way. */
  async run(context): Promise<ActionOutcome> {
    const { input } = context;
    if (!context.state.attempted) await context.record({ attempted: true });
    try {
      await calendarCall(context, (options) =>
        calendarApi().events.delete(
          { calendarId: input.calendarId, eventId: input.eventId, ...(input.sendUpdates ? { sendUpdates: input.sendUpdates } : {}) },
          options,
        ),
      );
    } catch (error) {
      if (!(error instanceof ProviderError && error.status === 410)) refusal(error, 'eventId');
    }
    const cancelledAt = new Date().toISOString();
    return {
      result: { id: input.eventId, status: 'cancelled' },
      store: async (tx) => {
        // The event, and the instances of a series held for it (the sync stores instances).
        const held = await tx.execute(sql`
          SELECT provider_event_id FROM calendar_events
          WHERE connection_id = ${context.connection.id} AND deleted_at IS NULL
            AND (provider_event_id = ${input.eventId} OR recurring_event_id = ${input.eventId})`);
        const cancelled = (held.rows as { provider_event_id: string }[]).map((row) => ({
          providerEventId: row.provider_event_id,
          recurringEventId: row.provider_event_id === input.eventId ? null : input.eventId,
          version: `cancelled:${cancelledAt}`,
        }));
        await storePage(tx, { connection: context.connection, calendarId: input.calendarId, live: [], cancelled });
      },
    };
  },
});

export const calendarActions = {
  [createEvent.name]: createEvent,
  [updateEvent.name]: updateEvent,
  [cancelEvent.name]: cancelEvent,
} as const;
