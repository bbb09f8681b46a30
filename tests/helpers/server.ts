import { resetConfigForTests } from '../../lib/config';
import { closeDb } from '../../lib/database';
import { startServer, type LocalServer } from '../../dev/server';
import { createTestDatabase, type TestDatabase } from './db';
import { useForFile } from './lifecycle';

export const CRON_SECRET = 'test-cron-secret-0123456789';
export const ADMIN_API_KEY = 'test-admin-key-0123456789abcdef';

export interface TestApp {
  url: string;
  database: TestDatabase;
  server: LocalServer;
  close(): Promise<void>;
}

/**
 * The API served by the local server (real HTTP) on a fresh database. The environment is what the
 * process's validated config reads, so it is set before anything reads it.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  Object.assign(process.env, { DATABASE_URL: database.url, CRON_SECRET, ADMIN_API_KEY, LOG_LEVEL: 'silent', ...env });
  resetConfigForTests();
  const server = await startServer({ port: 0 });
  return {
    url: server.url,
    database,
    server,
    close: async () => {
      await server.close();
      await closeDb();
      await database.destroy();
    },
  };
}

/** This test file's app (startTestApp): started before its tests, closed after them (see useForFile). */
export function useTestApp(env: Record<string, string> = {}): TestApp {
  return useForFile(() => startTestApp(env), (app) => app.close());
}
