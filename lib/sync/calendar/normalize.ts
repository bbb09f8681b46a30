import type { calendar_v3 } from '@googleapis/calendar';

/** A Google Calendar event as switchyard stores it (one calendar_events row). */
export interface CalendarEventRow {
  providerEventId: string;
  status: string;
  summary: string;
  description: string | null;
  location: string | null;
  allDay: boolean;
  /** Timed: the instants. All-day: midnight UTC of startDate/endDate, so range queries need no special case. */
  startAt: string;
  endAt: string;
  startDate: string | null;
  endDate: string | null;
  timeZone: string | null;
  organizer: Person | null;
  attendees: Attendee[];
  recurringEventId: string | null;
  htmlLink: string | null;
  providerUpdatedAt: string | null;
  /** What makes this state of the event distinct: `updated`, else the etag. */
  version: string;
}

export interface Person {
  email: string;
  displayName?: string;
  self?: boolean;
}

export interface Attendee extends Person {
  responseStatus: string;
  organizer?: boolean;
  optional?: boolean;
}

/** A list item with status "cancelled": Google may send nothing but its id (and etag). */
export interface CancelledItem {
  providerEventId: string;
  recurringEventId: string | null;
  version: string;
}

export type NormalizedItem =
  | { kind: 'live'; row: CalendarEventRow }
  | { kind: 'cancelled'; item: CancelledItem }
  /** Not storable (no id, or no start/end): skipped and counted. */
  | { kind: 'invalid'; id: string | null; why: string };

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Maps an events.list item. `calendarTimeZone` is the list response's zone: Google expresses a timed
 * event without its own start.timeZone in the calendar's zone, so that is the zone it was set in.
 */
export function normalizeEvent(event: calendar_v3.Schema$Event, calendarTimeZone: string | null): NormalizedItem {
  const id = event.id;
  if (!id) return { kind: 'invalid', id: null, why: 'no id' };
  const version = event.updated ?? event.etag ?? '';
  if (event.status === 'cancelled') {
    return { kind: 'cancelled', item: { providerEventId: id, recurringEventId: event.recurringEventId ?? null, version } };
  }
  const start = event.start ?? {};
  const end = event.end ?? {};
  let times: Pick<CalendarEventRow, 'allDay' | 'startAt' | 'endAt' | 'startDate' | 'endDate' | 'timeZone'>;
  if (start.date) {
    // An all-day event has dates, not instants; its end date is exclusive (a one-day event ends the next day).
    const endDate = end.date ?? start.date;
    if (!DATE.test(start.date) || !DATE.test(endDate)) return { kind: 'invalid', id, why: 'malformed all-day dates' };
    times = {
      allDay: true,
      startDate: start.date,
      endDate,
      startAt: `${start.date}T00:00:00.000Z`,
      endAt: `${endDate}T00:00:00.000Z`,
      timeZone: start.timeZone ?? null,
    };
  } else {
    const startMs = start.dateTime ? Date.parse(start.dateTime) : NaN;
    // endTimeUnspecified events carry an end equal to the start.
    const endMs = end.dateTime ? Date.parse(end.dateTime) : startMs;
    if (Number.isNaN(startMs) || Number.isNaN(endMs)) return { kind: 'invalid', id, why: 'no start or end time' };
    times = {
      allDay: false,
      startDate: null,
      endDate: null,
      startAt: new Date(startMs).toISOString(),
      endAt: new Date(endMs).toISOString(),
      timeZone: start.timeZone ?? calendarTimeZone,
    };
  }
  return {
    kind: 'live',
    row: {
      providerEventId: id,
      status: event.status ?? 'confirmed',
      summary: event.summary ?? '',
      description: event.description ?? null,
      location: event.location ?? null,
      ...times,
      organizer: event.organizer?.email ? person(event.organizer) : null,
      attendees: (event.attendees ?? []).filter((a) => a.email).map(attendee),
      recurringEventId: event.recurringEventId ?? null,
      htmlLink: event.htmlLink ?? null,
      providerUpdatedAt: event.updated ?? null,
      version,
    },
  };
}

function person(p: calendar_v3.Schema$Event['organizer'] & object): Person {
  return {
    email: p.email!.toLowerCase(),
    ...(p.displayName ? { displayName: p.displayName } : {}),
    ...(p.self ? { self: true } : {}),
  };
}

function attendee(a: calendar_v3.Schema$EventAttendee): Attendee {
  return {
    email: a.email!.toLowerCase(),
    ...(a.displayName ? { displayName: a.displayName } : {}),
    responseStatus: a.responseStatus ?? 'needsAction',
    ...(a.organizer ? { organizer: true } : {}),
    ...(a.self ? { self: true } : {}),
    ...(a.optional ? { optional: true } : {}),
  };
}
