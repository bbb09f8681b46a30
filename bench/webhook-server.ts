/** The API for bench/webhook.ts, in its own process so the load generator does not share its CPU time. */
import { startServer } from '../dev/server';
import { closeDb } from '../lib/database';

const app = await startServer({ port: 0 });
process.send?.({ url: app.url });
process.on('message', async () => {
  await app.close();
  await closeDb();
  process.exit(0);
});
