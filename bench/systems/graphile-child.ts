/**
 * The graphile-worker that gets killed in the recovery benchmark: concurrency `hold`, a task that
 * never returns. argv: database url, jobs to hold.
 */
import { Logger, run } from 'graphile-worker';

const [url, hold] = process.argv.slice(2);
await run({
  connectionString: url!,
  concurrency: Number(hold),
  maxPoolSize: 10,
  noHandleSignals: true,
  logger: new Logger(() => () => {}),
  taskList: {
    slow: async (_payload, helpers) => {
      process.send?.({ started: helpers.job.id });
      await new Promise(() => {});
    },
  },
});
