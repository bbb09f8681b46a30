import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './client';
import { pgErrorCode } from './errors';

/**
 * A hot statement as a named prepared statement: Postgres parses and plans it once per connection
 * instead of on every call. For statements whose planning costs as much as running them (the queue's
 * claim, a webhook's delivery) and whose generic plan is as good as a custom one: index probes by key,
 * no estimate that depends on a parameter's value. A name always stands for one text; a call whose text
 * differs from the name's first one runs unnamed (the statement must carry its values as parameters).
 *
 * Only on a pool (`db.$client`); inside a caller's transaction the statement runs as usual. Behind a
 * pooler that cannot carry prepared statements (PgBouncer in transaction mode before 1.21, or without
 * max_prepared_statements), the first failure switches this process to unnamed statements.
 */
const dialect = new PgDialect();
let preparedStatements = true;
const textOfName = new Map<string, string>();

/** Postgres's answers when a named statement does not exist on, or already exists on, the server connection. */
const PREPARED_STATEMENT_ERRORS = new Set(['26000', '42P05']);

interface QueryablePool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<unknown>;
}

export async function executePrepared(db: DbOrTx, name: string, query: SQL): Promise<unknown> {
  const pool = (db as { $client?: QueryablePool }).$client;
  if (!preparedStatements || typeof pool?.query !== 'function') return db.execute(query);
  const { sql: text, params } = dialect.sqlToQuery(query);
  const known = textOfName.get(name);
  if (known === undefined) textOfName.set(name, text);
  else if (known !== text) return db.execute(query);
  try {
    return await pool.query({ name: `switchyard_${name}`, text, values: params });
  } catch (error) {
    // Rejected at parse or bind, so nothing ran: run it again unnamed, and from now on.
    if (!PREPARED_STATEMENT_ERRORS.has(pgErrorCode(error) ?? '')) throw error;
    preparedStatements = false;
    return db.execute(query);
  }
}
