import { sql, type SQL } from 'drizzle-orm';
import type { JobStatus } from '../job';
import { param } from './result';

/**
 * One user's jobs in id order, read the way the indexes split them: the jobs not running through
 * jobs_user_not_running_idx, the running ones (a few: at most what the runners hold) through
 * jobs_lease_idx, each part in id order and merged. No single index covers a user's jobs of every
 * status, so a plain `WHERE user_id = …` would walk the primary key.
 *
 * `where` must name the user; `statuses` (all when omitted) picks the parts to read.
 */
export function userJobsInIdOrder(
  columns: SQL,
  where: SQL,
  options: { statuses?: readonly JobStatus[]; order: 'asc' | 'desc'; limit: number },
): SQL {
  const { statuses, limit } = options;
  const order = sql.raw(options.order === 'asc' ? 'ASC' : 'DESC');
  const others = statuses?.filter((status) => status !== 'running');
  const parts: SQL[] = [];
  if (others === undefined || others.length > 0) {
    // `status = ANY(...)` without 'running' implies the index's predicate, as `status <> 'running'` does.
    const status = others === undefined ? sql`status <> 'running'` : sql`status = ANY(${param(others)}::text[])`;
    parts.push(sql`(SELECT ${columns} FROM jobs WHERE ${where} AND ${status} ORDER BY id ${order} LIMIT ${limit})`);
  }
  if (statuses === undefined || statuses.includes('running')) {
    parts.push(sql`(SELECT ${columns} FROM jobs WHERE ${where} AND status = 'running' ORDER BY id ${order} LIMIT ${limit})`);
  }
  if (parts.length === 0) return sql`SELECT ${columns} FROM jobs WHERE false`;
  if (parts.length === 1) return parts[0]!;
  return sql`${sql.join(parts, sql` UNION ALL `)} ORDER BY id ${order} LIMIT ${limit}`;
}
