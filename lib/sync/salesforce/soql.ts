import type { CrmObject } from '../../../db/schema';
import { SALESFORCE_ID_PATTERN } from '../../providers/salesforce-id';
import { SyncError } from '../engine/errors';
import { selectedFields } from './objects';

/** The last record stored, in Salesforce's (SystemModstamp, Id) order. */
export interface KeysetPosition {
  /** ISO instant. */
  systemModstamp: string;
  id: string;
}

/** A SystemModstamp window (ISO instants, start inclusive, end exclusive); an absent bound is open. */
export interface ModstampWindow {
  start?: string;
  end?: string;
}

/** A SOQL datetime literal (unquoted, UTC): 2024-01-15T10:30:00.000Z. */
function datetimeLiteral(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new SyncError(`not an instant: ${JSON.stringify(iso)}`);
  return new Date(ms).toISOString();
}

function conditions(position: KeysetPosition | undefined, window: ModstampWindow): string[] {
  const where: string[] = [];
  if (window.start) where.push(`SystemModstamp >= ${datetimeLiteral(window.start)}`);
  if (window.end) where.push(`SystemModstamp < ${datetimeLiteral(window.end)}`);
  if (position) {
    // The ids in the cursor were written by this module, but the cursor lives in a database row: a
    // value that is not an id is refused rather than spliced into SOQL.
    if (!SALESFORCE_ID_PATTERN.test(position.id)) throw new SyncError(`the stored cursor's id is not a Salesforce id: ${JSON.stringify(position.id)}`);
    const at = datetimeLiteral(position.systemModstamp);
    // Rows after (at, id) in (SystemModstamp, Id) order. Written as a range AND a disjunction rather
    // than the bare `SystemModstamp > at OR (SystemModstamp = at AND Id > id)`: Salesforce's query
    // optimizer only uses the SystemModstamp index when the filter's top level bounds it, and a
    // top-level OR whose branches are not all selective turns into a full scan of the object.
    where.push(`SystemModstamp >= ${at} AND (SystemModstamp > ${at} OR Id > '${position.id}')`);
  }
  return where;
}

/**
 * One keyset page: the object's synced fields, after `position`, within `window`, in (SystemModstamp,
 * Id) order. Id breaks SystemModstamp ties (a bulk update gives thousands of rows the same second), so
 * a page boundary inside a tie skips nothing and repeats nothing.
 */
export function keysetQuery(object: CrmObject, position: KeysetPosition | undefined, window: ModstampWindow, limit: number): string {
  const where = conditions(position, window);
  return (
    `SELECT ${selectedFields(object).join(', ')} FROM ${object}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY SystemModstamp ASC, Id ASC LIMIT ${limit}`
  );
}

/** How many rows the keyset pages from `position` will still list (for progress only). */
export function remainingCountQuery(object: CrmObject, position: KeysetPosition | undefined, window: ModstampWindow): string {
  const where = conditions(position, window);
  return `SELECT COUNT() FROM ${object}` + (where.length ? ` WHERE ${where.join(' AND ')}` : '');
}
