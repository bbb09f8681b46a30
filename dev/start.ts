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

  // Without a Nango account configured, the provider sandbox plays Nango, Google, Salesforce and Firebase.
  let sandbox: Awaited<ReturnType<typeof import('./sandbox/index').startSandbox>> | undefined;
  if (!process.env.NANGO_SECRET_KEY) {
    const { startSandbox, FIREBASE_JWKS_PATH } = await import('./sandbox/index');
    const signingKey = 'local-sandbox-webhook-signing-key';
    const secretKey = 'local-sandbox-nango-secret';
    const projectId = 'switchyard-dev';
    sandbox = await startSandbox({
      port: settings.SANDBOX_PORT,
      seed: 1,
      webhookSigningKey: signingKey,
      nangoSecretKey: secretKey,
      firebaseProjectId: projectId,
    });
    sandbox.ensureUser('demo-user');
    Object.assign(process.env, {
      NANGO_HOST: sandbox.url,
      NANGO_SECRET_KEY: secretKey,
      NANGO_WEBHOOK_SIGNING_KEY: signingKey,
      GOOGLE_API_ROOT_URL: sandbox.url,
      FIREBASE_PROJECT_ID: projectId,
      FIREBASE_JWKS_URL: sandbox.url + FIREBASE_JWKS_PATH,
    });
    const { resetConfigForTests } = await import('../lib/config');
    resetConfigForTests();
    console.log(`provider sandbox on ${sandbox.url} (Nango, Gmail, Calendar, Salesforce, Firebase; user demo-user)`);
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
  console.log(`  curl -H "Authorization: Bearer ${process.env.CRON_SECRET}" ${server.url}/api/cron/run-jobs`);
  if (sandbox) {
    console.log(`\n  # the demo user connects Gmail (the sandbox sends Nango's auth webhook), then reads the synced mail:`);
    console.log(`  curl -X POST ${sandbox.url}/_sandbox/nango/demo-user/auth -H 'content-type: application/json' \\`);
    console.log(`       -d '{"kind":"gmail","url":"${server.url}/api/webhooks/nango"}'`);
    console.log(`  TOKEN=$(curl -s -X POST ${sandbox.url}/_sandbox/firebase/token -H 'content-type: application/json' -d '{"sub":"demo-user"}' | node -pe 'JSON.parse(require("fs").readFileSync(0)).idToken')`);
    console.log(`  curl -H "Authorization: Bearer $TOKEN" ${server.url}/api/connections`);
  }
  console.log('');

  const shutdown = async () => {
    await server.close();
    const { closeDb } = await import('../lib/database');
    await closeDb();
    await sandbox?.close();
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
