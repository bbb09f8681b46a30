import { createDatabase, type Database, type Db } from '../db/client';
import { ConfigError, config } from './config';

let instance: Database | undefined;

function database(): Database {
  if (!instance) {
    const settings = config();
    if (!settings.DATABASE_URL) {
      // A configuration error: the API answers 503 naming the variable, not a 500.
      throw new ConfigError(['DATABASE_URL: not set (npm start and npm test start an embedded Postgres and set it)']);
    }
    instance = createDatabase({
      connectionString: settings.DATABASE_URL,
      max: settings.DATABASE_POOL_MAX,
      connectionTimeoutMillis: settings.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMillis: settings.DATABASE_STATEMENT_TIMEOUT_MS,
      idleTimeoutMillis: settings.DATABASE_IDLE_TIMEOUT_MS,
    });
  }
  return instance;
}

/** The process-wide Drizzle database, created on first use from the validated config. */
export function db(): Db {
  return database().db;
}

export async function closeDb(): Promise<void> {
  const current = instance;
  instance = undefined;
  await current?.close();
}

export type { Db };
