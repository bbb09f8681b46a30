import { sql, type SQL } from 'drizzle-orm';

/** The rows of a raw statement's result. */
export function rows<T = Record<string, unknown>>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/** How many rows a raw statement changed. */
export function rowCount(result: unknown): number {
  return (result as { rowCount?: number | null }).rowCount ?? 0;
}

/** A value bound as one parameter (arrays included: drizzle would otherwise expand them into a list). */
export function param(value: unknown): SQL {
  return sql`${sql.param(value)}`;
}
