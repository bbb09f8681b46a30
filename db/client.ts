import { attachDatabasePool } from '@vercel/functions';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema';
import { parseTimestamp, parseTimestamptz } from './timestamps';

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

const { builtins } = pg.types;

// bigint ids come back as numbers (identities stay far below 2^53).
pg.types.setTypeParser(builtins.INT8, (value) => Number(value));

type TypeParser = (oid: number, format?: string) => unknown;

/** The parser of a timestamp type, or undefined for any other type. */
function timestampParser(oid: number, format: string | undefined): ((text: string) => Date) | undefined {
  if (format === 'binary') return undefined;
  if (oid === builtins.TIMESTAMPTZ) return parseTimestamptz;
  if (oid === builtins.TIMESTAMP) return parseTimestamp;
  return undefined;
}

/** Every query of our pools: pg's parsers, and timestamptz and timestamp as Dates (db/timestamps.ts). */
const poolTypes = {
  getTypeParser: ((oid: number, format?: string) =>
    timestampParser(oid, format) ?? pg.types.getTypeParser(oid, format as 'text')) as TypeParser,
};

/**
 * drizzle-orm's node-postgres driver gives each statement its own type parsers, which keep
 * timestamps as text (its column decoders turn them into Dates for typed queries). A raw statement,
 * `db.execute(sql...)`, has no decoder, so it got text too (drizzle-team/drizzle-orm#6290): here it
 * gets Dates, like every other query. Typed queries (drizzle asks for rows as arrays) are left as
 * they are; Drizzle's other text types (date, interval) stay text in raw statements too.
 */
class Client extends pg.Client {
  // Typed as loosely as pg's overloads need: this only swaps the parsers of a config object.
  override query(...args: unknown[]): any {
    const config = args[0] as { types?: { getTypeParser: TypeParser }; rowMode?: string } | null;
    if (config && typeof config === 'object' && config.types && config.rowMode !== 'array') {
      const statementTypes = config.types;
      args[0] = {
        ...config,
        types: {
          getTypeParser: (oid: number, format?: string) =>
            timestampParser(oid, format) ?? statementTypes.getTypeParser(oid, format),
        },
      };
    }
    return (super.query as (...a: unknown[]) => unknown)(...args);
  }
}

export function createDatabase(options: DatabaseOptions): Database {
  const pool = new pg.Pool({
    Client,
    types: poolTypes,
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
