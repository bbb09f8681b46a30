import { afterAll, beforeAll } from 'vitest';

/**
 * Something this test file shares (a database, an app): started before its tests, stopped after them. The
 * object returned is filled in by beforeAll, so read its members in tests and hooks, not at the top of
 * the file.
 */
export function useForFile<T extends object>(start: () => Promise<T>, stop: (started: T) => Promise<void>): T {
  const shared = {} as T;
  let started = false;
  beforeAll(async () => {
    Object.assign(shared, await start());
    started = true;
  });
  afterAll(async () => {
    if (started) await stop(shared);
  });
  return shared;
}
