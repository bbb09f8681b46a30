import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../../../db/client';

/**
 * The claim as a named prepared statement: Postgres parses and plans it once per connection instead
 * of on every call (planning the claim cost as much as running it for batches of a few jobs). Its
 * text is fixed, only its parameters vary, and its generic plan is index probes per user. Not the
 * settlement: its generic plan (unknown array sizes) hash-joins the running jobs and was several
 * times slower than planning it each time.
 *
 * Only on a pool (`db.$client`); inside a caller's transaction the statement runs as usual. Behind a
 * pooler that cannot carry prepared statements (PgBouncer in transaction mode before 1.21, or without
 * max_prepared_statements), the first failure switches this process to unnamed statements.
 */
const dialect = new PgDialect();
let preparedStatements = true;

/** Postgres's answers when a named statement does not exist on, or already exists on, the server connection. */
const PREPARED_STATEMENT_ERRORS = new Set(['26000', '42P05']);

interface QueryablePool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<unknown>;
}

export async function executePrepared(db: DbOrTx, name: string, query: SQL): Promise<unknown> {
  const pool = (db as { $client?: QueryablePool }).$client;
  if (!preparedStatements || typeof pool?.query !== 'function') return db.execute(query);
  const { sql: text, params } = dialect.sqlToQuery(query);
  try {
    return await pool.query({ name: `switchyard_${name}`, text, values: params });
  } catch (error) {
    // Rejected at parse or bind, so nothing ran: run it again unnamed, and from now on.
    if (!PREPARED_STATEMENT_ERRORS.has((error as { code?: string }).code ?? '')) throw error;
    preparedStatements = false;
    return db.execute(query);
  }
}

/**
 * A FROM item that turns off the wait for the WAL flush at this statement's commit. For the runner's
 * own bookkeeping only (claims, settlements, lease renewals and reclaims), never for an enqueue:
 * a database crash can lose the last few hundred milliseconds of them, which the queue already
 * tolerates (a lost claim lets the job be claimed again; a lost settlement leaves the job running
 * until its lease lapses, then it runs again: at least once, as after a runner crash). Waiting for
 * the flush (IO:WalSync) was what serialised small claims across runners.
 */
export const ASYNC_COMMIT = sql.raw(`(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`);
