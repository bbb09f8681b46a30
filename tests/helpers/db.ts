import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDatabase, type Database } from '../../db/client';
import { useForFile } from './lifecycle';
import { adminQuery } from './postgres-admin';

export interface TestDatabase extends Database {
  url: string;
  name: string;
  /** Closes the pool and drops the database. */
  destroy(): Promise<void>;
}

/** A fresh database cloned from the migrated template of this test run. */
export async function createTestDatabase(options: { poolMax?: number } = {}): Promise<TestDatabase> {
  const { adminUrl, template } = inject('postgres');
  const name = `${template}_${randomBytes(5).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = createDatabase({
    connectionString: url.toString(),
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: 5_000,
    statementTimeoutMillis: 30_000,
    idleTimeoutMillis: 10_000,
    applicationName: 'switchyard-test',
  });
  return {
    ...database,
    url: url.toString(),
    name,
    destroy: async () => {
      await database.close();
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

/** This test file's own database: created before its tests, dropped after them (see useForFile). */
export function useTestDatabase(options: { poolMax?: number } = {}): TestDatabase {
  return useForFile(() => createTestDatabase(options), (database) => database.destroy());
}
