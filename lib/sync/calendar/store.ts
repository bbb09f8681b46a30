import { sql } from 'drizzle-orm';
import type { Connection } from '../../../db/schema';
import { fromExcluded } from '../../../db/upsert';
import { emitEvents, jsonbText, upsertInteractions, type EventInput, type InteractionInput, type Tx } from '../records';
import type { CalendarEventRow, CancelledItem } from './normalize';

/** What a refetched event replaces of the stored one (a deleted one comes back). */
const EVENT_FIELDS = [
  'calendar_id', 'status', 'summary', 'description', 'location', 'all_day', 'start_at', 'end_at', 'start_date',
  'end_date', 'time_zone', 'organizer', 'attendees', 'recurring_event_id', 'html_link', 'provider_updated_at',
];

export interface PageWrite {
  connection: Pick<Connection, 'id' | 'userId'>;
  calendarId: string;
  live: CalendarEventRow[];
  cancelled: CancelledItem[];
  /** The last page of a full listing: mark what the listing no longer returned as deleted. */
  sweep?: { timeMin: string; timeMax: string; since: string };
}

export interface PageResult {
  created: number;
  updated: number;
  cancelled: number;
  /** Rows of the window the full listing no longer returned, marked deleted. */
  swept: number;
}

interface RemovedRow {
  provider_event_id: string;
  /** ISO 8601 (to_json), whatever the driver's timestamp parsing. */
  start_at: string;
  summary: string;
  organizer: unknown;
  attendees: unknown[];
  location: string | null;
  recurring_event_id: string | null;
}

/**
 * Stores one events.list page: upserts, cancellations, and (last page of a full listing) the sweep,
 * each with its `events` rows and timeline interactions. Runs inside the page's transaction, before
 * the cursor that covers it is saved.
 */
export async function storePage(tx: Tx, write: PageWrite): Promise<PageResult> {
  const { connection } = write;
  const events: EventInput[] = [];
  const interactions: InteractionInput[] = [];
  const result: PageResult = { created: 0, updated: 0, cancelled: 0, swept: 0 };

  // A page lists an id once, but the same id twice in one INSERT ... ON CONFLICT is an error: last wins.
  const live = [...new Map(write.live.map((row) => [row.providerEventId, row])).values()];
  if (live.length > 0) {
    for (const change of await upsertEvents(tx, write.calendarId, connection, live)) {
      const row = change.row;
      if (!change.inserted && !change.changed) continue; // the same state again: a replayed page or an unchanged instance
      const type = change.inserted ? 'calendar.event.created' : 'calendar.event.updated';
      if (change.inserted) result.created += 1;
      else result.updated += 1;
      events.push({
        userId: connection.userId,
        connectionId: connection.id,
        type,
        providerId: row.providerEventId,
        version: row.version,
        payload: eventPayload(write.calendarId, row),
      });
      interactions.push({
        userId: connection.userId,
        connectionId: connection.id,
        source: 'calendar',
        sourceId: row.providerEventId,
        kind: 'meeting',
        occurredAt: new Date(row.startAt),
        title: row.summary,
        summary: row.description ? row.description.slice(0, 500) : null,
        participants: row.attendees,
      });
    }
  }

  const cancelledIds = [...new Set(write.cancelled.map((c) => c.providerEventId))];
  if (cancelledIds.length > 0) {
    const versions = new Map(write.cancelled.map((c) => [c.providerEventId, c.version]));
    // Only rows we hold and that are live: a cancellation of an event never stored (outside the window,
    // or deleted before the backfill) has nothing to mark, and one already marked emits nothing again.
    const removed = await tx.execute(sql`
      UPDATE calendar_events
      SET status = 'cancelled', deleted_at = now(), updated_at = now()
      WHERE connection_id = ${connection.id}
        AND provider_event_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(cancelledIds)}::jsonb))
        AND deleted_at IS NULL
      RETURNING provider_event_id, to_json(start_at) #>> '{}' AS start_at, summary, organizer, attendees, location, recurring_event_id
    `);
    for (const row of removed.rows as unknown as RemovedRow[]) {
      result.cancelled += 1;
      pushRemoval(events, interactions, connection, write.calendarId, row, versions.get(row.provider_event_id) ?? 'cancelled', 'cancelled');
    }
  }

  if (write.sweep) {
    // Rows written by this listing have updated_at >= since; a live row of the window written before
    // it was not returned, so the event was deleted (or moved out of the window) while we were not
    // following changes. All-day rows are stored at midnight UTC while Google compares them in the
    // calendar's zone (UTC-12..UTC+14), so at the window's edges they are only swept where every zone
    // agrees that the listing covered them.
    const swept = await tx.execute(sql`
      UPDATE calendar_events
      SET status = 'cancelled', deleted_at = now(), updated_at = now()
      WHERE connection_id = ${connection.id}
        AND user_id = ${connection.userId}
        AND deleted_at IS NULL
        AND updated_at < ${write.sweep.since}::timestamptz
        AND CASE WHEN all_day
              THEN start_at < ${write.sweep.timeMax}::timestamptz - interval '14 hours'
               AND end_at > ${write.sweep.timeMin}::timestamptz + interval '14 hours'
              ELSE start_at < ${write.sweep.timeMax}::timestamptz AND end_at > ${write.sweep.timeMin}::timestamptz
            END
      RETURNING provider_event_id, to_json(start_at) #>> '{}' AS start_at, summary, organizer, attendees, location, recurring_event_id
    `);
    for (const row of swept.rows as unknown as RemovedRow[]) {
      result.swept += 1;
      pushRemoval(events, interactions, connection, write.calendarId, row, `sweep:${write.sweep.since}`, 'missing_from_full_sync');
    }
  }

  await emitEvents(tx, events);
  await upsertInteractions(tx, interactions);
  return result;
}

interface UpsertChange {
  row: CalendarEventRow;
  inserted: boolean;
  /** The stored state differed (another `updated`, or the row was marked deleted). */
  changed: boolean;
}

/**
 * One statement: the rows as they were (`prior`: every CTE reads the statement's snapshot, so it sees
 * them before the upsert), the upsert, and per row whether it was inserted (xmax = 0) or changed.
 * Every listed row is written, changed or not: updated_at marks it as seen by the listing (the sweep).
 */
async function upsertEvents(
  tx: Tx,
  calendarId: string,
  connection: Pick<Connection, 'id' | 'userId'>,
  rows: CalendarEventRow[],
): Promise<UpsertChange[]> {
  const payload = rows.map((r) => ({
    provider_event_id: r.providerEventId,
    status: r.status,
    summary: r.summary,
    description: r.description,
    location: r.location,
    all_day: r.allDay,
    start_at: r.startAt,
    end_at: r.endAt,
    start_date: r.startDate,
    end_date: r.endDate,
    time_zone: r.timeZone,
    organizer: r.organizer,
    attendees: r.attendees,
    recurring_event_id: r.recurringEventId,
    html_link: r.htmlLink,
    provider_updated_at: r.providerUpdatedAt,
  }));
  const result = await tx.execute(sql`
    WITH incoming AS (
      SELECT * FROM jsonb_to_recordset(${jsonbText(payload)}::jsonb) AS i(
        provider_event_id text, status text, summary text, description text, location text, all_day boolean,
        start_at timestamptz, end_at timestamptz, start_date date, end_date date, time_zone text,
        organizer jsonb, attendees jsonb, recurring_event_id text, html_link text, provider_updated_at timestamptz)
    ),
    prior AS (
      SELECT c.provider_event_id, c.provider_updated_at, c.deleted_at
      FROM calendar_events c
      WHERE c.connection_id = ${connection.id}
        AND c.provider_event_id IN (SELECT provider_event_id FROM incoming)
    ),
    upserted AS (
      INSERT INTO calendar_events AS c (
        connection_id, user_id, provider_event_id, calendar_id, status, summary, description, location, all_day,
        start_at, end_at, start_date, end_date, time_zone, organizer, attendees, recurring_event_id, html_link,
        provider_updated_at
      )
      SELECT ${connection.id}, ${connection.userId}, provider_event_id, ${calendarId}, status, summary, description,
             location, all_day, start_at, end_at, start_date, end_date, time_zone, organizer, attendees,
             recurring_event_id, html_link, provider_updated_at
      FROM incoming
      ON CONFLICT (connection_id, provider_event_id) DO UPDATE SET
        ${fromExcluded(EVENT_FIELDS)},
        deleted_at = NULL,
        updated_at = now()
      RETURNING c.provider_event_id, (c.xmax = 0) AS inserted
    )
    SELECT u.provider_event_id, u.inserted,
           (p.provider_event_id IS NULL
             OR p.deleted_at IS NOT NULL
             OR p.provider_updated_at IS DISTINCT FROM i.provider_updated_at) AS changed
    FROM upserted u
    JOIN incoming i USING (provider_event_id)
    LEFT JOIN prior p USING (provider_event_id)
  `);
  const byId = new Map(rows.map((r) => [r.providerEventId, r]));
  return (result.rows as { provider_event_id: string; inserted: boolean; changed: boolean }[]).map((r) => ({
    row: byId.get(r.provider_event_id)!,
    inserted: r.inserted,
    changed: r.changed,
  }));
}

function pushRemoval(
  events: EventInput[],
  interactions: InteractionInput[],
  connection: Pick<Connection, 'id' | 'userId'>,
  calendarId: string,
  row: RemovedRow,
  version: string,
  reason: 'cancelled' | 'missing_from_full_sync',
): void {
  const startAt = new Date(row.start_at);
  events.push({
    userId: connection.userId,
    connectionId: connection.id,
    type: 'calendar.event.cancelled',
    providerId: row.provider_event_id,
    version,
    payload: {
      eventId: row.provider_event_id,
      calendarId,
      status: 'cancelled',
      reason,
      summary: row.summary,
      // Who and where, as the event last was: automations match cancellations by organizer or attendee.
      organizer: row.organizer,
      attendees: row.attendees,
      location: row.location,
      startAt: startAt.toISOString(),
      recurringEventId: row.recurring_event_id,
    },
  });
  interactions.push({
    userId: connection.userId,
    connectionId: connection.id,
    source: 'calendar',
    sourceId: row.provider_event_id,
    kind: 'meeting',
    occurredAt: startAt,
    title: row.summary,
    participants: row.attendees,
    deleted: true,
  });
}

function eventPayload(calendarId: string, row: CalendarEventRow): Record<string, unknown> {
  return {
    eventId: row.providerEventId,
    calendarId,
    status: row.status,
    summary: row.summary,
    location: row.location,
    allDay: row.allDay,
    startAt: row.startAt,
    endAt: row.endAt,
    startDate: row.startDate,
    endDate: row.endDate,
    timeZone: row.timeZone,
    organizer: row.organizer,
    attendees: row.attendees,
    recurringEventId: row.recurringEventId,
    htmlLink: row.htmlLink,
    updated: row.providerUpdatedAt,
  };
}
