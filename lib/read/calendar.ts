import { and, eq, getTableColumns, isNull, ne, or, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { calendarEvents, eventSpan } from '../../db/schema';
import { pageQuerySchema, decodeKeyset, keysetTime, toPage } from '../pagination';
import { containsPattern, isoInstant, searchText, type IsoInstant } from './query';

/** GET /api/calendar/events: events overlapping [from, to), soonest first. */
export const calendarListQuery = pageQuerySchema
  .extend({ from: isoInstant.optional(), to: isoInstant.optional(), q: searchText.optional() })
  .refine((q) => !q.from || !q.to || q.from.at < q.to.at, { path: ['to'], message: 'must be later than from' });
export type CalendarListQuery = z.infer<typeof calendarListQuery>;

const { userId: _u, deletedAt: _d, ...eventColumns } = getTableColumns(calendarEvents);
export type EventView = Omit<typeof calendarEvents.$inferSelect, 'userId' | 'deletedAt'>;

function addDay(date: string): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

/**
 * listEvents' condition as one predicate (bench/read.ts checks the two-branch statement against a plain
 * read of it), and `lowest`, where the branches split.
 */
export function eventWindow(userId: string, query: CalendarListQuery, now = new Date()) {
  const from: IsoInstant = query.from ?? { at: now, iso: now.toISOString(), localDate: now.toISOString().slice(0, 10), midnight: false };
  const to = query.to;
  const toDate = to ? (to.midnight ? to.localDate : addDay(to.localDate)) : null;
  const position = query.cursor ? decodeKeyset(query.cursor) : null;
  const lowest = new Date(Math.min(from.at.getTime(), Date.parse(`${from.localDate}T00:00:00Z`))).toISOString();
  const e = calendarEvents;
  const overlapping = and(
    eq(e.userId, userId),
    isNull(e.deletedAt),
    ne(e.status, 'cancelled'),
    // Every overlapping event starts before `to` (an all-day one by midnight UTC of its date, which is
    // at most 14 hours before the caller's midnight): a bound the index can use.
    to ? sql`${e.startAt} < ${to.iso}::timestamptz + interval '14 hours'` : undefined,
    or(
      and(eq(e.allDay, true), sql`${e.endDate} > ${from.localDate}::date`, toDate ? sql`${e.startDate} < ${toDate}::date` : undefined),
      and(
        eq(e.allDay, false),
        or(sql`${e.endAt} > ${from.iso}::timestamptz`, sql`${e.startAt} >= ${from.iso}::timestamptz`),
        to ? sql`${e.startAt} < ${to.iso}::timestamptz` : undefined,
      ),
    ),
    query.q
      ? sql`(${e.summary} ILIKE ${containsPattern(query.q)} OR ${e.description} ILIKE ${containsPattern(query.q)} OR ${e.location} ILIKE ${containsPattern(query.q)})`
      : undefined,
    position ? sql`(${e.startAt}, ${e.id}) > (${position.t}::timestamptz, ${position.i})` : undefined,
  );
  return { overlapping, lowest };
}

/**
 * The caller's events that overlap [from, to) (from defaults to now; no `to`, no upper bound),
 * ordered by start then id, soonest first: a calendar is read forward from a point in time.
 * Timed events overlap by their instants. All-day events by their dates, as the caller wrote the
 * range: the day D is in it when D is on or after from's date and before to's date (to's own date
 * counts when to is later than its midnight), so `from=2026-03-10T00:00:00-08:00` includes the
 * all-day events of March 10 and not those of March 9, whatever the offset. Deleted and cancelled
 * events are excluded.
 *
 * One statement, two index ranges: the events that start at or after `lowest` (the earlier of from and
 * midnight UTC of from's date), read in order from calendar_events_user_start_idx (user_id, start_at,
 * id) and stopped at the page; and the ones that started before it and are still on at `lowest`, from
 * calendar_events_user_span_idx (GiST on user_id and the [start_at, end_at) range). A single range
 * over start_at would walk every past event of the user to find the few that are still on. The second
 * branch relies on what the sync writes (lib/sync/calendar/normalize.ts): an all-day event's end_at is
 * midnight UTC of its end date, so one that overlaps the range ends after `lowest`.
 */
export async function listEvents(db: Db, userId: string, query: CalendarListQuery, now = new Date()) {
  const { overlapping, lowest } = eventWindow(userId, query, now);
  const e = calendarEvents;
  const select = () => db.select({ ...eventColumns, keysetTime: keysetTime(e.startAt) }).from(e);
  const limit = query.limit + 1;
  const rows = await unionAll(
    select()
      .where(and(overlapping, sql`${e.startAt} >= ${lowest}::timestamptz`))
      .orderBy(e.startAt, e.id)
      .limit(limit),
    select()
      .where(
        and(
          overlapping,
          sql`(${e.startAt} < ${lowest}::timestamptz OR ${e.startAt} IS NULL)`,
          // The index's expression (db/schema.ts): an event that started before `lowest` and ends after it.
          sql`${eventSpan} && tstzrange(${lowest}::timestamptz, ${lowest}::timestamptz, '[]')`,
        ),
      )
      .orderBy(e.startAt, e.id)
      .limit(limit),
  )
    .orderBy(sql`start_at`, sql`id`)
    .limit(limit);
  return toPage(rows, query.limit, ({ keysetTime: _k, ...event }): EventView => event);
}
