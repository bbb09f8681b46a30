/**
 * The worker that gets killed in the recovery benchmark: a switchyard Runner whose handler never
 * returns. argv: database url, runner id, lease seconds, jobs to hold. Reports each start to the parent.
 */
import pino from 'pino';
import { z } from 'zod';
import { createDatabase } from '../../db/client';
import { Runner, defineHandler } from '../../lib/jobs/runner';

const [url, runnerId, leaseSeconds, hold] = process.argv.slice(2);
const database = createDatabase({
  connectionString: url!,
  max: 4,
  connectionTimeoutMillis: 10_000,
  statementTimeoutMillis: 60_000,
  idleTimeoutMillis: 10_000,
  applicationName: 'bench-switchyard-doomed',
});
const runner = new Runner({
  db: database.db,
  runnerId,
  logger: pino({ level: 'silent' }),
  handlers: {
    slow: defineHandler({
      payload: z.unknown(),
      run: async (_, { job }) => {
        process.send?.({ started: job.id });
        await new Promise(() => {});
      },
    }),
  },
  concurrency: Number(hold),
  batchSize: Number(hold),
  leaseSeconds: Number(leaseSeconds),
  perUserCap: Number(hold),
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
});
void runner.run({ deadline: Date.now() + 3_600_000 });
