import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from './embedded-postgres';

/**
 * `npm start`: the backend on this machine, one command. Reads `.env` when there is one (values
 * already in the environment win). With no DATABASE_URL, an embedded Postgres keeps its data in
 * .data/postgres; with no NANGO_SECRET_KEY, the provider sandbox plays Nango, Google, Salesforce and
 * Firebase. Migrations are applied, api/ is served like Vercel and vercel.json's crons fire with fixed
 * local secrets, so the README's curls work as printed.
 *
 * `npm run dev:vercel` (`--vercel`): the same database and sandbox, with api/ served by the real
 * `vercel dev --local` instead of dev/server.ts.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(root, '.data');
const lockFile = join(dataDir, 'npm-start.lock.json');
const viaVercel = process.argv.includes('--vercel');
const VERCEL_CLI = 'vercel@60.1.3';

/** Fixed, printed, and only ever defaults for this machine: production sets its own. */
export const LOCAL_CRON_SECRET = 'local-cron-secret-0123456789';
export const LOCAL_ADMIN_API_KEY = 'local-admin-key-0123456789abcdef';

async function main() {
  const envFile = join(root, '.env');
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  process.env.NODE_ENV ??= 'development';
  process.env.CRON_SECRET ||= LOCAL_CRON_SECRET;
  process.env.ADMIN_API_KEY ||= LOCAL_ADMIN_API_KEY;

  const { config, ConfigError, resetConfigForTests } = await import('../lib/config');
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
  claimLock(settings.PORT);

  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
  if (!settings.DATABASE_URL) {
    embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), port: settings.EMBEDDED_POSTGRES_PORT });
    await ensureDatabase(embedded.adminUrl, 'switchyard');
    process.env.DATABASE_URL = embedded.urlFor('switchyard');
    resetConfigForTests();
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
    resetConfigForTests();
  }

  const databaseUrl = config().DATABASE_URL!;
  const { runMigrations } = await import('../db/migrate');
  await runMigrations(databaseUrl);

  // The sandbox starts afresh each time (its mail, events and records are generated anew, dated from
  // today): what was synced from the previous one, and the cursors into it, would be ghosts. Its
  // connections are synced again from scratch instead, so the data matches the sandbox exactly.
  let resynced: { resynced: number; dropped: number } | undefined;
  if (sandbox && (embedded || process.argv.includes('--resync-sandbox'))) resynced = await resyncSandboxConnections(sandbox);

  let apiUrl: string;
  let stopApi: () => Promise<void>;
  if (viaVercel) {
    ({ url: apiUrl, stop: stopApi } = await startVercelDev(settings.PORT));
  } else {
    const { startServer } = await import('./server');
    let server;
    try {
      server = await startServer({ port: settings.PORT, cronSecret: process.env.CRON_SECRET, onCronResult: logCron });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new Error(`port ${settings.PORT} is taken by another program: stop it, or set PORT (in .env or the environment)`);
      }
      throw error;
    }
    apiUrl = server.url;
    stopApi = () => server.close();
  }
  writeFileSync(lockFile, JSON.stringify({ pid: process.pid, url: apiUrl, sandbox: sandbox?.url ?? null, startedAt: new Date().toISOString() }));

  // Re-synced connections show data in seconds, not at the next cron minute.
  const { kick } = await import('../lib/worker/runner');
  if (resynced?.resynced) void kick().catch(() => undefined);

  printBanner(apiUrl, databaseUrl, sandbox?.url, resynced);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await stopApi();
    const { closeDb } = await import('../lib/database');
    await closeDb();
    await sandbox?.close();
    await embedded?.stop();
    rmSync(lockFile, { force: true });
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** One `npm start` at a time on this checkout: a second says where the first one is, and stops. */
function claimLock(port: number): void {
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(lockFile)) {
    let holder: { pid?: number; url?: string; sandbox?: string | null } = {};
    try {
      holder = JSON.parse(readFileSync(lockFile, 'utf8'));
    } catch {
      // unreadable: treated as stale
    }
    if (holder.pid && holder.pid !== process.pid && isAlive(holder.pid)) {
      console.error(
        `switchyard is already running (pid ${holder.pid}) on ${holder.url ?? `port ${port}`}` +
          `${holder.sandbox ? `, sandbox on ${holder.sandbox}` : ''}.\n` +
          `Use that one, or stop it first (Ctrl-C in its terminal, or kill ${holder.pid}).`,
      );
      process.exit(1);
    }
  }
  writeFileSync(lockFile, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Sandbox = Awaited<ReturnType<typeof import('./sandbox/index').startSandbox>>;

/**
 * Every connection in the database is purged with its synced data and cursors; those the fresh
 * sandbox knows (the same user and Nango connection id) are connected again, which queues their
 * backfill, and paused again when they were paused. Deleted ones go for good.
 */
async function resyncSandboxConnections(sandbox: Sandbox): Promise<{ resynced: number; dropped: number }> {
  const { eq } = await import('drizzle-orm');
  const { db } = await import('../lib/database');
  const { connections } = await import('../db/schema');
  const { connectFromFrontend, deleteConnection, pauseConnection } = await import('../lib/connections');
  const database = db();
  const rows = await database.select().from(connections);
  let resynced = 0;
  let dropped = 0;
  for (const row of rows) {
    if (row.status === 'deleted') {
      await database.delete(connections).where(eq(connections.id, row.id));
      continue;
    }
    await deleteConnection(database, row.userId, row.id, { purge: true });
    const kind = row.provider as 'gmail' | 'calendar' | 'salesforce';
    const known = ['gmail', 'calendar', 'salesforce'].includes(kind) && sandbox.ensureUser(row.userId).connectionIds[kind] === row.nangoConnectionId;
    if (!known) {
      dropped += 1;
      continue;
    }
    const { connection } = await connectFromFrontend(database, row.userId, { provider: kind, connectionId: row.nangoConnectionId });
    if (row.status === 'paused') await pauseConnection(database, row.userId, connection.id);
    resynced += 1;
  }
  return { resynced, dropped };
}

/** `vercel dev --local` on the port, wired to this database and sandbox; crons fired as Vercel would. */
async function startVercelDev(port: number): Promise<{ url: string; stop: () => Promise<void> }> {
  const url = `http://127.0.0.1:${port}`;
  console.log(`starting ${VERCEL_CLI} dev --local (the first run installs it from the registry)…`);
  const child: ChildProcess = spawn('npx', ['-y', VERCEL_CLI, 'dev', '--local', '--yes', '--listen', `127.0.0.1:${port}`], {
    cwd: root,
    env: { ...process.env, VERCEL_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const forward = (chunk: Buffer) => {
    output += chunk;
    process.stdout.write(chunk);
  };
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  const ready = Date.now() + 180_000;
  while (!output.includes('Ready!')) {
    if (child.exitCode !== null) throw new Error(`vercel dev stopped before it was ready (exit ${child.exitCode})`);
    if (Date.now() > ready) throw new Error('vercel dev was not ready after 3 minutes');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const { fireCrons } = await import('./server');
  const stopCrons = fireCrons(url, process.env.CRON_SECRET!, logCron);
  return {
    url,
    stop: async () => {
      stopCrons();
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    },
  };
}

function logCron(path: string, status: number, body: string) {
  console.log(`cron ${path} -> ${status} ${body.slice(0, 200)}`);
}

function printBanner(apiUrl: string, databaseUrl: string, sandboxUrl: string | undefined, resynced?: { resynced: number; dropped: number }) {
  const lines = [
    '',
    `switchyard is listening on ${apiUrl}${viaVercel ? ' (vercel dev --local)' : ''}`,
    '',
    `  database        ${databaseUrl}`,
    ...(sandboxUrl ? [`  sandbox         ${sandboxUrl} (Nango, Gmail, Calendar, Salesforce, Firebase; user demo-user)`] : []),
    `  CRON_SECRET     ${process.env.CRON_SECRET}${process.env.CRON_SECRET === LOCAL_CRON_SECRET ? ' (local default)' : ''}`,
    `  ADMIN_API_KEY   ${process.env.ADMIN_API_KEY}${process.env.ADMIN_API_KEY === LOCAL_ADMIN_API_KEY ? ' (local default)' : ''}`,
    ...(resynced && resynced.resynced + resynced.dropped > 0
      ? [`  sandbox data    started afresh: ${resynced.resynced} connection(s) syncing again from it, ${resynced.dropped} it does not know removed`]
      : []),
    '',
    `  curl ${apiUrl}/api/health`,
    `  curl -H "Authorization: Bearer ${process.env.CRON_SECRET}" ${apiUrl}/api/cron/run-jobs`,
    ...(sandboxUrl ? ['', '  npm run demo    # connects Gmail, Calendar and Salesforce for demo-user and shows what synced'] : []),
    '',
  ];
  console.log(lines.join('\n'));
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
  rmSync(lockFile, { force: true });
  process.exit(1);
});
