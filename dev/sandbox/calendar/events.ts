/**
 * The Google Calendar Event resource as the sandbox keeps it: the wire types, Google's error body, the
 * in-memory model of a calendar, and what every write and read of an event needs (writable fields,
 * validation, recurrence expansion, presentation in a time zone).
 */
import {
  DAY_MS,
  addDays,
  compactUtc,
  dateToDay,
  dayToDate,
  formatInTz,
  hasOffset,
  isValidDate,
  isValidTimeZone,
  occurrenceDays,
  parseRecurrence,
  parseRfc3339,
  utcToWall,
  wallOfRfc3339,
  wallToUtc,
  type RRule,
} from './time';

// ---------------------------------------------------------------------------------------------------------
// Wire types (Google's Event resource, the parts the sandbox speaks)

export type ResponseStatus = 'needsAction' | 'declined' | 'tentative' | 'accepted';

export interface EventDateTime {
  date?: string;
  dateTime?: string;
  timeZone?: string;
}

export interface EventPerson {
  email: string;
  displayName?: string;
  self?: boolean;
}

export interface EventAttendee {
  email: string;
  displayName?: string;
  responseStatus: ResponseStatus;
  organizer?: boolean;
  self?: boolean;
  optional?: boolean;
  comment?: string;
}

export interface CalendarEvent {
  kind: 'calendar#event';
  etag: string;
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  htmlLink: string;
  created: string;
  updated: string;
  summary?: string;
  description?: string;
  location?: string;
  colorId?: string;
  creator: EventPerson;
  organizer: EventPerson;
  start: EventDateTime;
  end: EventDateTime;
  endTimeUnspecified?: boolean;
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: EventDateTime;
  transparency?: 'opaque' | 'transparent';
  visibility?: 'default' | 'public' | 'private' | 'confidential';
  iCalUID: string;
  sequence: number;
  attendees?: EventAttendee[];
  guestsCanModify?: boolean;
  guestsCanInviteOthers?: boolean;
  guestsCanSeeOtherGuests?: boolean;
  hangoutLink?: string;
  reminders: { useDefault: boolean; overrides?: { method: string; minutes: number }[] };
  extendedProperties?: { private?: Record<string, string>; shared?: Record<string, string> };
  eventType: string;
}

/** What insert/patch accept (Google's writable fields). */
export type EventInput = Partial<
  Pick<
    CalendarEvent,
    | 'id'
    | 'status'
    | 'summary'
    | 'description'
    | 'location'
    | 'colorId'
    | 'start'
    | 'end'
    | 'endTimeUnspecified'
    | 'recurrence'
    | 'transparency'
    | 'visibility'
    | 'iCalUID'
    | 'sequence'
    | 'guestsCanModify'
    | 'guestsCanInviteOthers'
    | 'guestsCanSeeOtherGuests'
    | 'reminders'
    | 'extendedProperties'
  >
> & { attendees?: (Partial<EventAttendee> & { email: string })[] };

/** A cancelled event as list responses carry it. */
export interface CancelledEvent {
  kind: 'calendar#event';
  etag: string;
  id: string;
  status: 'cancelled';
  recurringEventId?: string;
  originalStartTime?: EventDateTime;
}

export interface EventsListResponse {
  kind: 'calendar#events';
  etag: string;
  summary: string;
  updated: string;
  timeZone: string;
  accessRole: 'owner';
  defaultReminders: { method: string; minutes: number }[];
  nextPageToken?: string;
  nextSyncToken?: string;
  items: (CalendarEvent | CancelledEvent)[];
}

export interface EventsListParams {
  timeMin?: string;
  timeMax?: string;
  singleEvents?: boolean;
  orderBy?: string;
  maxResults?: number;
  pageToken?: string;
  showDeleted?: boolean;
  updatedMin?: string;
  q?: string;
  syncToken?: string;
  timeZone?: string;
  iCalUID?: string;
  privateExtendedProperty?: string[];
  sharedExtendedProperty?: string[];
}

/** Google's JSON error: {"error":{"code","message","errors":[{"domain","reason","message"}],"status"}}. */
export class CalendarApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly domain = 'global',
  ) {
    super(message);
    this.name = 'CalendarApiError';
  }
  get body(): { error: { code: number; message: string; errors: { domain: string; reason: string; message: string }[]; status: string } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: [{ domain: this.domain, reason: this.reason, message: this.message }],
        status: STATUS_NAMES[this.code] ?? 'UNKNOWN',
      },
    };
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'GONE',
};

export const badRequest = (message: string, reason = 'invalid') => new CalendarApiError(400, reason, message);
export const notFound = () => new CalendarApiError(404, 'notFound', 'Not Found');

// ---------------------------------------------------------------------------------------------------------
// Internal model

export interface Stored {
  ev: CalendarEvent;
  /** change sequence: what sync tokens compare against */
  seq: number;
  /** stable default ordering (series and their exceptions share their master's) */
  order: number;
  updatedMs: number;
  /** a cancelled id of an instance that no longer exists after its series moved (for incremental sync) */
  retired?: boolean;
}

export interface Cal {
  account: string;
  accountKey: string;
  email: string;
  displayName: string;
  timeZone: string;
  events: Map<string, Stored>;
  seq: number;
  epoch: number;
  order: number;
  rand: () => number;
}

export interface Item {
  ev: CalendarEvent;
  cancelled: boolean;
  order: number;
  startMs: number;
  endMs: number;
  updatedMs: number;
}

const MAX_INSTANCES = 1000;
const HORIZON_MS = 730 * DAY_MS;
export const ID_RE = /^[a-v0-9]{5,1024}$/;
export const INSTANCE_RE = /^([a-v0-9]{5,1024})_(\d{8}(?:T\d{6}Z)?)$/;

// ---------------------------------------------------------------------------------------------------------
// Event helpers

export const WRITABLE = [
  'status', 'summary', 'description', 'location', 'colorId', 'start', 'end', 'endTimeUnspecified', 'recurrence', 'transparency',
  'visibility', 'iCalUID', 'sequence', 'attendees', 'guestsCanModify', 'guestsCanInviteOthers', 'guestsCanSeeOtherGuests',
  'reminders', 'extendedProperties',
] as const;

export function applyWritable(cal: Cal, ev: CalendarEvent, input: EventInput, mode: 'insert' | 'patch' | 'update'): void {
  const e = ev as unknown as Record<string, unknown>;
  const inp = input as Record<string, unknown>;
  for (const k of WRITABLE) {
    if (!(k in inp)) continue;
    const v = inp[k];
    if (k === 'iCalUID' && mode !== 'insert') continue;
    if (v === null) {
      delete e[k];
      continue;
    }
    if (k === 'start' || k === 'end') {
      if (typeof v !== 'object') throw badRequest(`Invalid ${k} time.`);
      const merged: EventDateTime = mode === 'patch' ? { ...(ev[k] ?? {}) } : {};
      const given = v as Record<string, unknown>;
      for (const f of ['date', 'dateTime', 'timeZone'] as const) {
        if (f in given) {
          if (given[f] === null) delete merged[f];
          else merged[f] = String(given[f]);
        }
      }
      if ('dateTime' in given && given.dateTime != null && !('date' in given)) delete merged.date;
      if ('date' in given && given.date != null && !('dateTime' in given)) {
        delete merged.dateTime;
        if (!('timeZone' in given)) delete merged.timeZone;
      }
      ev[k] = merged;
      continue;
    }
    if (k === 'attendees') {
      if (!Array.isArray(v)) throw badRequest('Invalid attendees.');
      ev.attendees = v.map((a: unknown) => {
        const o = (a ?? {}) as Record<string, unknown>;
        if (typeof o.email !== 'string' || !o.email) throw new CalendarApiError(400, 'required', 'Missing attendee email.');
        const email = o.email.toLowerCase();
        const rs = o.responseStatus;
        const att: EventAttendee = {
          email,
          ...(typeof o.displayName === 'string' ? { displayName: o.displayName } : {}),
          responseStatus: rs === 'declined' || rs === 'tentative' || rs === 'accepted' ? rs : 'needsAction',
        };
        if (email === ev.organizer.email) att.organizer = true;
        if (email === cal.email) att.self = true;
        if (o.optional === true) att.optional = true;
        if (typeof o.comment === 'string') att.comment = o.comment;
        return att;
      });
      continue;
    }
    if (k === 'status' && v !== 'confirmed' && v !== 'tentative' && v !== 'cancelled') throw badRequest('Invalid value for status.');
    if (k === 'sequence' && (!Number.isInteger(v) || (v as number) < 0)) throw badRequest('Invalid sequence value.');
    if (k === 'recurrence' && (!Array.isArray(v) || v.some((l) => typeof l !== 'string'))) throw badRequest('Invalid recurrence rule.');
    e[k] = clone(v);
  }
}

/** Normalizes start/end (offsets in the event's zone) and checks them the way Google does. */
export function validateEvent(cal: Cal, ev: CalendarEvent): void {
  const norm = (which: 'start' | 'end'): number => {
    const t = ev[which];
    if (!t || (!t.date && !t.dateTime)) throw new CalendarApiError(400, 'required', `Missing ${which} time.`);
    if (t.date && t.dateTime) throw badRequest(`Invalid ${which} time.`);
    if (t.timeZone !== undefined && !isValidTimeZone(t.timeZone)) throw badRequest(`Invalid time zone definition for ${which} time.`);
    if (t.date) {
      if (!isValidDate(t.date)) throw badRequest(`Invalid ${which} time.`);
      return wallToUtc(cal.timeZone, +t.date.slice(0, 4), +t.date.slice(5, 7), +t.date.slice(8, 10));
    }
    const s = t.dateTime!;
    let ms: number | undefined;
    if (hasOffset(s)) ms = parseRfc3339(s);
    else {
      // a local time needs a zone: Google refuses it otherwise
      if (!t.timeZone) throw badRequest(`Missing time zone definition for ${which} time.`);
      const w = wallOfRfc3339(s);
      ms = w && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(s) ? wallToUtc(t.timeZone, w.y, w.mo, w.d, w.h, w.mi, w.s) : undefined;
    }
    if (ms === undefined) throw badRequest(`Invalid ${which} time.`);
    t.dateTime = formatInTz(ms, t.timeZone ?? cal.timeZone);
    return ms;
  };
  const s = norm('start');
  const e = norm('end');
  if (!!ev.start.date !== !!ev.end.date) throw badRequest('Start and end times must either both be date or both be dateTime.');
  if (e < s || (ev.start.date && e === s)) throw new CalendarApiError(400, 'timeRangeEmpty', 'The specified time range is empty.');
  if (ev.recurrence) {
    if (ev.recurringEventId) throw badRequest('Invalid recurrence rule.');
    if (!ev.recurrence.length) delete ev.recurrence;
    else {
      try {
        parseRecurrence(ev.recurrence);
      } catch {
        throw badRequest('Invalid recurrence rule.');
      }
      if (ev.start.dateTime && !ev.start.timeZone) throw badRequest('Missing time zone definition for start time.');
    }
  }
}

export function times(cal: Cal, ev: CalendarEvent): { start: number; end: number } {
  const one = (t: EventDateTime): number =>
    t.date ? wallToUtc(cal.timeZone, +t.date.slice(0, 4), +t.date.slice(5, 7), +t.date.slice(8, 10)) : (parseRfc3339(t.dateTime ?? '') ?? 0);
  return { start: one(ev.start), end: one(ev.end) };
}

export function itemOf(cal: Cal, st: Stored): Item {
  const t = times(cal, st.ev);
  return { ev: st.ev, cancelled: st.ev.status === 'cancelled', order: st.order, startMs: t.start, endMs: t.end, updatedMs: st.updatedMs };
}

interface Occurrence {
  id: string;
  start: EventDateTime;
  end: EventDateTime;
  originalStartTime: EventDateTime;
  startMs: number;
  endMs: number;
}

/**
 * Occurrences of a series master, in its own zone's wall time, before `until` and at most two years past
 * the later of now and the series start (open-ended series are expanded that far), at most 1000.
 */
export function expand(cal: Cal, ev: CalendarEvent, until: number, now: number): Occurrence[] {
  let rule: RRule;
  try {
    rule = parseRecurrence(ev.recurrence ?? []);
  } catch {
    return [];
  }
  const out: Occurrence[] = [];
  const horizon = Math.min(until, Math.max(now, times(cal, ev).start) + HORIZON_MS);
  if (ev.start.date) {
    const startDay = dateToDay(ev.start.date);
    const durDays = dateToDay(ev.end.date!) - startDay;
    const utcOf = (day: number) => {
      const d = dayToDate(day);
      return wallToUtc(cal.timeZone, +d.slice(0, 4), +d.slice(5, 7), +d.slice(8, 10));
    };
    const days = occurrenceDays(rule, startDay, (day) => (rule.until === undefined || utcOf(day) <= rule.until) && utcOf(day) < horizon, MAX_INSTANCES);
    for (const day of days) {
      const date = dayToDate(day);
      const startMs = utcOf(day);
      out.push({
        id: `${ev.id}_${date.replace(/-/g, '')}`,
        start: { date },
        end: { date: addDays(date, durDays) },
        originalStartTime: { date },
        startMs,
        endMs: utcOf(day + durDays),
      });
    }
    return out;
  }
  const tz = ev.start.timeZone ?? cal.timeZone;
  const endTz = ev.end.timeZone ?? tz;
  const s0 = parseRfc3339(ev.start.dateTime!)!;
  const dur = parseRfc3339(ev.end.dateTime!)! - s0;
  const w = utcToWall(tz, s0);
  const startDay = Math.floor(Date.UTC(w.y, w.mo - 1, w.d) / DAY_MS);
  const utcOf = (day: number) => {
    const d = new Date(day * DAY_MS);
    return wallToUtc(tz, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), w.h, w.mi, w.s);
  };
  const days = occurrenceDays(
    rule,
    startDay,
    (day) => {
      const u = utcOf(day);
      return (rule.until === undefined || u <= rule.until) && u < horizon;
    },
    MAX_INSTANCES,
  );
  for (const day of days) {
    const u = utcOf(day);
    const start = { dateTime: formatInTz(u, tz), timeZone: tz };
    out.push({
      id: `${ev.id}_${compactUtc(u)}`,
      start,
      end: { dateTime: formatInTz(u + dur, endTz), timeZone: endTz },
      originalStartTime: { ...start },
      startMs: u,
      endMs: u + dur,
    });
  }
  return out;
}

export function shiftTimes(cal: Cal, ev: CalendarEvent, minutes: number): EventInput {
  if (ev.start.date) {
    let days = Math.round(minutes / 1440);
    if (days === 0 && minutes !== 0) days = Math.sign(minutes);
    return { start: { date: addDays(ev.start.date, days) }, end: { date: addDays(ev.end.date!, days) } };
  }
  const shift = (t: EventDateTime): EventDateTime => ({
    dateTime: formatInTz(parseRfc3339(t.dateTime!)! + minutes * 60_000, t.timeZone ?? cal.timeZone),
    ...(t.timeZone ? { timeZone: t.timeZone } : {}),
  });
  return { start: shift(ev.start), end: shift(ev.end) };
}

export function presentItem(it: Item, tz: string | undefined): CalendarEvent | CancelledEvent {
  if (it.cancelled) {
    const c: CancelledEvent = { kind: 'calendar#event', etag: it.ev.etag, id: it.ev.id, status: 'cancelled' };
    if (it.ev.recurringEventId) {
      c.recurringEventId = it.ev.recurringEventId;
      if (it.ev.originalStartTime) c.originalStartTime = clone(it.ev.originalStartTime);
    }
    return c;
  }
  return present(it.ev, tz);
}

export function present(ev: CalendarEvent, tz: string | undefined): CalendarEvent {
  const out = clone(ev);
  if (tz) {
    for (const t of [out.start, out.end, out.originalStartTime]) {
      if (t?.dateTime) t.dateTime = formatInTz(parseRfc3339(t.dateTime)!, tz);
    }
  }
  return out;
}

export function searchText(ev: CalendarEvent): string {
  return [ev.summary, ev.description, ev.location, ev.organizer.email, ev.organizer.displayName, ...(ev.attendees ?? []).flatMap((a) => [a.email, a.displayName])]
    .filter(Boolean)
    .join('\n')
    .toLowerCase();
}

export function matchProps(props: Record<string, string> | undefined, wanted: string[]): boolean {
  return wanted.every((w) => {
    const i = w.indexOf('=');
    return i > 0 && props?.[w.slice(0, i)] === w.slice(i + 1);
  });
}

export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function etagOf(updatedMs: number, seq: number): string {
  return `"${updatedMs}${String(seq % 1000).padStart(3, '0')}"`;
}

export function htmlLink(id: string, email: string): string {
  return `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${email}`).toString('base64url')}`;
}

export function randomEventId(rand: () => number): string {
  const a = '0123456789abcdefghijklmnopqrstuv';
  let s = '';
  for (let i = 0; i < 26; i++) s += a[Math.floor(rand() * 32)];
  return s;
}

export function displayNameFromEmail(email: string): string {
  return email
    .split('@')[0]!
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

export function hashKey(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x1b873593;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 16777619);
    h2 = Math.imul(h2 ^ c, 2246822507);
  }
  return (h1 >>> 0).toString(32) + (h2 >>> 0).toString(32);
}
