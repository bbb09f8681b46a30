import type { Sandbox } from '../../dev/sandbox/index';
import type { CalendarEvent } from '../../dev/sandbox/calendar/events';

type Query = <T = any>(text: string, values?: unknown[]) => Promise<T[]>;
const DAY = 86_400_000;

/** The configured window as the sync computes it: whole UTC days, 30 back and 90 ahead of today. */
export function configuredWindow() {
  const today = Math.floor(Date.now() / DAY) * DAY;
  return { timeMin: new Date(today - 30 * DAY).toISOString(), timeMax: new Date(today + 91 * DAY).toISOString() };
}

/** What Google lists for the window right now (the sandbox's own events.list, in process: no quota spent). */
export function sandboxEvents(sandbox: Sandbox, userId: string, window: { timeMin: string; timeMax: string }): CalendarEvent[] {
  const items: CalendarEvent[] = [];
  let pageToken: string | undefined;
  do {
    const page = sandbox.calendar.listEvents(userId, 'primary', {
      singleEvents: true,
      maxResults: 2500,
      ...window,
      ...(pageToken ? { pageToken } : {}),
    });
    items.push(...(page.items as CalendarEvent[]));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return items;
}

const omitUndefined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The row the sync must store for a Google event, written out from the spec independently of lib. */
export function expectedRow(ev: CalendarEvent, calendarTimeZone: string) {
  const allDay = ev.start.date !== undefined;
  return {
    provider_event_id: ev.id,
    calendar_id: 'primary',
    status: ev.status,
    summary: ev.summary ?? '',
    description: ev.description ?? null,
    location: ev.location ?? null,
    all_day: allDay,
    start_at: new Date(allDay ? `${ev.start.date}T00:00:00Z` : ev.start.dateTime!),
    end_at: new Date(allDay ? `${ev.end.date}T00:00:00Z` : ev.end.dateTime!),
    start_date: ev.start.date ?? null,
    end_date: ev.end.date ?? null,
    time_zone: allDay ? (ev.start.timeZone ?? null) : (ev.start.timeZone ?? calendarTimeZone),
    organizer: omitUndefined({ email: ev.organizer.email, displayName: ev.organizer.displayName, self: ev.organizer.self || undefined }),
    attendees: (ev.attendees ?? []).map((a) =>
      omitUndefined({
        email: a.email,
        displayName: a.displayName,
        responseStatus: a.responseStatus,
        organizer: a.organizer || undefined,
        self: a.self || undefined,
        optional: a.optional || undefined,
      }),
    ),
    recurring_event_id: ev.recurringEventId ?? null,
    html_link: ev.htmlLink,
    provider_updated_at: new Date(ev.updated),
  };
}

export const byId = <T extends { provider_event_id: string }>(rows: T[]) => [...rows].sort((a, b) => (a.provider_event_id < b.provider_event_id ? -1 : 1));

export async function liveRows(query: Query, connectionId: number) {
  return query<ReturnType<typeof expectedRow>>(
    `SELECT provider_event_id, calendar_id, status, summary, description, location, all_day, start_at, end_at,
            start_date::text, end_date::text, time_zone, organizer, attendees, recurring_event_id, html_link, provider_updated_at
     FROM calendar_events WHERE connection_id = $1 AND deleted_at IS NULL`,
    [connectionId],
  );
}

/** What Google lists for the windows now, as the rows the sync must store, in id order. */
export function calendarTruth(sandbox: Sandbox, userId: string, windows: { timeMin: string; timeMax: string }[]) {
  const tz = sandbox.calendar.timeZoneOf(userId);
  const expected = new Map<string, ReturnType<typeof expectedRow>>();
  for (const window of windows) for (const ev of sandboxEvents(sandbox, userId, window)) expected.set(ev.id, expectedRow(ev, tz));
  return byId([...expected.values()]);
}

/** The live rows, in id order. */
export async function storedEvents(query: Query, connectionId: number) {
  return byId(await liveRows(query, connectionId));
}
