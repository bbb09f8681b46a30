import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from './embedded-postgres';

/**
 * `npm start`: the backend on this machine. With no DATABASE_URL, an embedded Postgres keeps its data
 * in .data/; migrations are applied; api/ is served like Vercel and vercel.json's crons fire.
 */
const root = fileURLToPath(new URL('..', import.meta.url));

async function main() {
  process.env.NODE_ENV ??= 'development';
  process.env.CRON_SECRET ??= `local-${randomBytes(12).toString('hex')}`;

  const { config, ConfigError } = await import('../lib/config');
  let settings;
  try {
    settings = config();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  if (!settings.DATABASE_URL) {
    embedded = await startEmbeddedPostgres({ dataDir: join(root, '.data', 'postgres'), port: settings.EMBEDDED_POSTGRES_PORT });
    await ensureDatabase(embedded.adminUrl, 'switchyard');
    process.env.DATABASE_URL = embedded.urlFor('switchyard');
    const { resetConfigForTests } = await import('../lib/config');
    resetConfigForTests();
    console.log(`embedded Postgres on port ${settings.EMBEDDED_POSTGRES_PORT}, data in .data/postgres`);
  }

  const { runMigrations } = await import('../db/migrate');
  await runMigrations(config().DATABASE_URL!);

  const { startServer } = await import('./server');
  const server = await startServer({
    port: settings.PORT,
    cronSecret: process.env.CRON_SECRET,
    onCronResult: (path, status, body) => console.log(`cron ${path} -> ${status} ${body.slice(0, 200)}`),
  });
  console.log(`\nswitchyard is listening on ${server.url}\n`);
  console.log(`  curl ${server.url}/api/health`);
  console.log(`  curl -H "Authorization: Bearer ${process.env.CRON_SECRET}" ${server.url}/api/cron/run-jobs\n`);

  const shutdown = async () => {
    await server.close();
    const { closeDb } = await import('../lib/db');
    await closeDb();
    await embedded?.stop();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

async function ensureDatabase(adminUrl: string, name: string) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
