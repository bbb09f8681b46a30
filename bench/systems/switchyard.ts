import { z } from 'zod';
import pino from 'pino';
import { createDatabase, type Database } from '../../db/client';
import { runMigrations } from '../../db/migrate';
import { enqueue, enqueueMany } from '../../lib/jobs/queue';
import { Runner, defineHandler, type HandlerRegistry } from '../../lib/jobs/runner';
import type { QueueSystem } from './types';

/**
 * switchyard's queue as the product runs it: each worker is a Runner with its own pool (as each
 * Vercel function instance has), claiming batches and settling them in one statement each.
 */
const USERS = 50;
const CONCURRENCY = 50;
const BATCH = 50;

export function switchyardSystem(): QueueSystem {
  let url = '';
  let main: Database;
  const pools: Database[] = [];
  const newPool = (max: number) => {
    const database = createDatabase({
      connectionString: url,
      max,
      connectionTimeoutMillis: 10_000,
      statementTimeoutMillis: 60_000,
      idleTimeoutMillis: 10_000,
      applicationName: 'bench-switchyard',
    });
    pools.push(database);
    return database;
  };
  const runnerFor = (database: Database, handlers: HandlerRegistry) =>
    new Runner({
      db: database.db,
      handlers,
      logger: pino({ level: 'silent' }),
      concurrency: CONCURRENCY,
      batchSize: BATCH,
      leaseSeconds: 30,
      perUserCap: CONCURRENCY * 8,
      backoffBaseMs: 1_000,
      backoffMaxMs: 60_000,
    });

  return {
    name: 'switchyard',
    async setup(databaseUrl) {
      url = databaseUrl;
      await runMigrations(url);
      main = newPool(4);
    },
    async bulkEnqueue(count) {
      const chunk = 5_000;
      for (let offset = 0; offset < count; offset += chunk) {
        const size = Math.min(chunk, count - offset);
        await enqueueMany(
          main.db,
          Array.from({ length: size }, (_, i) => ({ kind: 'noop', userId: `user-${(offset + i) % USERS}` })),
        );
      }
    },
    async processAll(count, workers) {
      let done = 0;
      let resolveDone!: () => void;
      const finished = new Promise<void>((resolve) => (resolveDone = resolve));
      const handlers = {
        noop: defineHandler({
          payload: z.unknown(),
          run: async () => {
            if (++done === count) resolveDone();
          },
        }),
      };
      const runners = Array.from({ length: workers }, () => runnerFor(newPool(4), handlers));
      const passes = runners.map((runner) => runner.run({ deadline: Date.now() + 600_000 }));
      await finished;
      await Promise.all(passes);
    },
    async latency(count, perSecond) {
      const samples: number[] = [];
      const database = newPool(4);
      const handlers = {
        timed: defineHandler({
          payload: z.object({ enqueuedAt: z.number() }),
          run: async ({ enqueuedAt }) => void samples.push(performance.timeOrigin + performance.now() - enqueuedAt),
        }),
      };
      const runner = runnerFor(database, handlers);
      // An idle runner, as a warm function instance would be; the producer's kick() wakes it.
      const pass = runner.kick({ deadline: Date.now() + 600_000, idleMs: 2_000, pollMs: 1_000 });
      const interval = 1_000 / perSecond;
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        const due = start + i * interval;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const enqueuedAt = performance.timeOrigin + performance.now();
        void enqueue(main.db, { kind: 'timed', userId: `user-${i % USERS}`, payload: { enqueuedAt } }).then(() =>
          runner.kick({ deadline: Date.now() + 600_000, idleMs: 2_000 }),
        );
      }
      while (samples.length < count) await new Promise((r) => setTimeout(r, 10));
      await pass;
      return samples;
    },
    async teardown() {
      await Promise.all(pools.splice(0).map((p) => p.close()));
    },
  };
}
