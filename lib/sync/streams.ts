import { sql, type SQL } from 'drizzle-orm';
import { SyncError } from './engine/errors';

export type SyncMode = 'initial' | 'incremental' | 'full' | 'date_range';

/**
 * A sync job's payload. Each stream (see ./providers.ts) has its own cursor (sync_states) and at most
 * one sync job queued or running at a time (dedupe key).
 */
export interface SyncPayload {
  connectionId: number;
  stream: string;
  /**
   * 'initial' backfills when the stream has no cursor yet and continues incrementally otherwise, so a
   * rerun of an initial job never repeats a finished backfill; 'full' discards the cursor first.
   */
  mode: SyncMode;
  startDate?: string;
  endDate?: string;
}

export const syncJobKind = <P extends string>(provider: P): `sync.${P}` => `sync.${provider}`;
export const syncDedupeKey = (connectionId: number, stream: string) => `sync:${connectionId}:${stream}`;
/** `syncDedupeKey` computed in a statement, for a connection found in the same statement. */
export const syncDedupeKeySql = (connectionId: SQL, stream: SQL): SQL => sql`'sync:' || ${connectionId} || ':' || ${stream}`;

/**
 * The bounds of a 'date_range' sync, epoch ms: startDate/endDate as dates (YYYY-MM-DD, UTC, endDate
 * inclusive) or RFC 3339 instants; a missing bound is undefined. A malformed or inverted range is a
 * SyncError (retrying cannot fix it).
 */
export function dateRangeBounds(startDate: string | undefined, endDate: string | undefined): { start?: number; end?: number } {
  const bound = (value: string | undefined, name: string, inclusiveDay: boolean): number | undefined => {
    if (value === undefined) return undefined;
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
      const ms = Date.parse(`${value}T00:00:00Z`);
      if (!Number.isNaN(ms) && new Date(ms).toISOString().startsWith(value)) return inclusiveDay ? ms + 86_400_000 : ms;
    } else if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value))) {
      return Date.parse(value);
    }
    throw new SyncError(`date_range ${name} ${JSON.stringify(value)} is not a date (YYYY-MM-DD) or an RFC 3339 instant`);
  };
  const start = bound(startDate, 'startDate', false);
  const end = bound(endDate, 'endDate', true);
  if (start !== undefined && end !== undefined && end <= start) {
    throw new SyncError(`date_range endDate must be after startDate (${startDate} .. ${endDate})`);
  }
  return { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
}
