import { afterEach, expect } from 'vitest';
import { useTestDatabase, type TestDatabase } from './db';
import { slotDrift } from './runner';

/**
 * This test file's own database for the queue's tests: after each test, job_users' slot counts must match
 * the running jobs, and the queue is emptied for the next.
 */
export function useQueueDatabase(): TestDatabase {
  const database = useTestDatabase();
  afterEach(async () => {
    expect(await slotDrift(database.db)).toEqual([]);
    await database.pool.query('TRUNCATE jobs, job_users');
  });
  return database;
}
