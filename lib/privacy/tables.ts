import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';

/**
 * Which tables hold a user's data, read from the catalog rather than listed by hand: a table that
 * another module adds later (units, runs, ...) with a `user_id` column is exported and erased without
 * anyone remembering to come here. A table without `user_id` that hangs off a connection
 * (`connection_id`) is reached through the user's connections.
 *
 * Not here, on purpose: `jobs` and `job_users` (the queue's: cancelled and forgotten through
 * lib/jobs), `audit_log` (the record of the erasure itself stays), the shared operational tables.
 */
export interface UserTable {
  name: string;
  /** How a row belongs to the user. */
  via: 'user_id' | 'connection_id';
  /** Primary key columns, for a stable order. */
  key: string[];
}

const HANDLED_ELSEWHERE = new Set(['jobs', 'job_users', 'audit_log', 'ops_metric_windows', 'alert_incidents', 'rate_limit_windows']);

export async function userTables(db: DbOrTx): Promise<UserTable[]> {
  const result = await db.execute(sql`
    SELECT c.relname AS name,
      bool_or(a.attname = 'user_id') AS has_user,
      bool_or(a.attname = 'connection_id') AS has_connection,
      (SELECT coalesce(array_agg(k.attname::text ORDER BY array_position(i.indkey::int2[], k.attnum)), '{}')
         FROM pg_index i JOIN pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = ANY(i.indkey)
         WHERE i.indrelid = c.oid AND i.indisprimary) AS key
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
    GROUP BY c.oid, c.relname
    HAVING bool_or(a.attname IN ('user_id', 'connection_id'))
    ORDER BY c.relname
  `);
  const tables: UserTable[] = [];
  for (const row of result.rows as { name: string; has_user: boolean; has_connection: boolean; key: string[] | string }[]) {
    if (HANDLED_ELSEWHERE.has(row.name)) continue;
    const key = Array.isArray(row.key) ? row.key : parseArray(row.key);
    tables.push({ name: row.name, via: row.has_user ? 'user_id' : 'connection_id', key });
  }
  // Connections first: a reader meets what everything else hangs off before the rest.
  return tables.sort((a, b) => Number(b.name === 'connections') - Number(a.name === 'connections'));
}

function parseArray(text: string): string[] {
  return text.replace(/^\{|\}$/g, '').split(',').filter(Boolean);
}

/**
 * The tables in an order where each is deleted before any table its rows reference (children
 * first), so deletion never trips a foreign key whatever its ON DELETE says.
 */
export async function deletionOrder(db: DbOrTx, tables: UserTable[]): Promise<UserTable[]> {
  const result = await db.execute(sql`
    SELECT child.relname AS child, parent.relname AS parent
    FROM pg_constraint f
    JOIN pg_class child ON child.oid = f.conrelid
    JOIN pg_class parent ON parent.oid = f.confrelid
    JOIN pg_namespace n ON n.oid = child.relnamespace
    WHERE f.contype = 'f' AND n.nspname = current_schema() AND child.oid <> parent.oid
  `);
  const names = new Set(tables.map((t) => t.name));
  const parentsOf = new Map<string, Set<string>>();
  for (const { child, parent } of result.rows as { child: string; parent: string }[]) {
    if (!names.has(child) || !names.has(parent)) continue;
    if (!parentsOf.has(child)) parentsOf.set(child, new Set());
    parentsOf.get(child)!.add(parent);
  }
  // Reverse topological order: a table comes out once every table referencing it has.
  const ordered: UserTable[] = [];
  const remaining = new Map(tables.map((t) => [t.name, t]));
  while (remaining.size > 0) {
    const referenced = new Set<string>();
    for (const name of remaining.keys()) for (const parent of parentsOf.get(name) ?? []) if (remaining.has(parent)) referenced.add(parent);
    const ready = [...remaining.values()].filter((t) => !referenced.has(t.name));
    // A reference cycle (none today): take the rest as they come; ON DELETE CASCADE settles it.
    const batch = ready.length > 0 ? ready : [...remaining.values()];
    for (const table of batch) {
      ordered.push(table);
      remaining.delete(table.name);
    }
  }
  return ordered;
}
