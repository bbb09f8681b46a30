import { getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/**
 * An upsert's `DO UPDATE SET` list that takes these columns from the row proposed for insertion:
 * `a = excluded.a, b = excluded.b`, for a statement written in SQL. The names are the code's own, never
 * input, and are quoted as identifiers all the same.
 */
export function fromExcluded(columns: readonly string[]): SQL {
  return sql.join(
    columns.map((column) => sql`${sql.identifier(column)} = excluded.${sql.identifier(column)}`),
    sql`, `,
  );
}

/** The same for Drizzle's `onConflictDoUpdate({ set })`: the table's columns named by their property. */
export function excludedOf<T extends PgTable>(table: T, keys: readonly (keyof T['_']['columns'] & string)[]): Record<string, SQL> {
  const columns = getTableColumns(table);
  return Object.fromEntries(keys.map((key) => [key, sql`excluded.${sql.identifier(columns[key]!.name)}`]));
}
