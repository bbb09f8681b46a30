import { attachDatabasePool } from '@vercel/functions';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema';

export type Db = NodePgDatabase<typeof schema>;
/** A transaction of `Db`, as handed to `db.transaction(async (tx) => ...)`. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything a single statement can run on: the database or a transaction. */
export type DbOrTx = Db | Tx;

export interface DatabaseOptions {
  connectionString: string;
  max: number;
  connectionTimeoutMillis: number;
  statementTimeoutMillis: number;
  idleTimeoutMillis: number;
  applicationName?: string;
}

export interface Database {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

// timestamptz and bigint ids come back as JS values, not strings.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createDatabase(options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.connectionTimeoutMillis,
    idleTimeoutMillis: options.idleTimeoutMillis,
    statement_timeout: options.statementTimeoutMillis,
    application_name: options.applicationName ?? 'switchyard',
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // On Vercel Fluid compute, keeps the instance alive until idle clients are released.
  attachDatabasePool(pool);
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}
