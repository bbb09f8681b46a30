import { and, eq, isNull } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { calendarEvents, crmRecords, type CrmObject } from '../../db/schema';
import { DomainError } from '../errors';
import { SALESFORCE_ID_PATTERN, salesforceId18 } from '../providers/salesforce-id';

/**
 * What `[id]` in PATCH/DELETE /api/calendar/events/[id] and PATCH /api/crm/[object]/[id] names: the
 * row id the read API lists (a number), or the provider's own id (Calendar's event id, Salesforce's
 * record id) for an event or record not synced yet. A number is always read as a row id.
 */
export interface Target {
  /** The provider's id of the event or record. */
  providerId: string;
  /** The connection the row came through (undefined for a provider id: the user's active connection). */
  connectionId?: number;
  calendarId?: string;
}

const ROW_ID = /^\d{1,15}$/;
const CALENDAR_EVENT_ID = /^[a-v0-9]{5,1024}(_\d{8}(T\d{6}Z)?)?$/;

export async function calendarEventTarget(db: Db, userId: string, id: string): Promise<Target> {
  if (ROW_ID.test(id)) {
    const [row] = await db
      .select({ providerId: calendarEvents.providerEventId, connectionId: calendarEvents.connectionId, calendarId: calendarEvents.calendarId })
      .from(calendarEvents)
      .where(and(eq(calendarEvents.id, Number(id)), eq(calendarEvents.userId, userId), isNull(calendarEvents.deletedAt)));
    if (!row) throw new DomainError('not_found', `no calendar event ${id}`);
    return row;
  }
  if (!CALENDAR_EVENT_ID.test(id)) throw new DomainError('not_found', 'no such calendar event: expected a row id or a Calendar event id');
  return { providerId: id };
}

export async function crmRecordTarget(db: Db, userId: string, object: CrmObject, id: string): Promise<Target> {
  if (ROW_ID.test(id)) {
    const [row] = await db
      .select({ providerId: crmRecords.providerId, connectionId: crmRecords.connectionId })
      .from(crmRecords)
      .where(and(eq(crmRecords.id, Number(id)), eq(crmRecords.userId, userId), eq(crmRecords.object, object), isNull(crmRecords.deletedAt)));
    if (!row) throw new DomainError('not_found', `no ${object} ${id}`);
    return row;
  }
  if (!SALESFORCE_ID_PATTERN.test(id)) throw new DomainError('not_found', `no such ${object}: expected a row id or a Salesforce id`);
  // a 15-character id (as the Salesforce UI shows it) names the same record as its 18-character form
  return { providerId: salesforceId18(id) };
}

/** The Calendar call parameters a write takes in its query string. */
export const calendarWriteQuery = z.object({
  calendarId: z.string().min(1).max(255).optional(),
  sendUpdates: z.enum(['all', 'externalOnly', 'none']).optional(),
});
