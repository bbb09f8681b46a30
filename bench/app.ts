import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import pg from 'pg';
import { authPayload, FIREBASE_JWKS_PATH, signWebhookBody, stableStringify, startSandbox, syncSuccessPayload, SYNCS, type Sandbox } from '../dev/sandbox/index';
import { machine, round, startBenchServer, type BenchServer } from './harness';

/** What the benches that drive the app share (bench:load, leak, webhook, actions, automations). */

export interface BenchApp {
  server: BenchServer;
  sandbox: Sandbox;
  databaseUrl: string;
  /** The key the sandbox signs Nango webhooks with, and the app checks them with. */
  signingKey: string;
  /** What a result file starts with: when, the machine, its load average, the Postgres version. */
  resultHeader(): Promise<Record<string, unknown>>;
  /** Stops the sandbox and the bench's Postgres. */
  stop(): Promise<void>;
}

/**
 * The bench's Postgres with a fresh, migrated database `bench_<name>`, the provider sandbox, and the
 * app's settings pointed at both, in process.env (which the app reads, and the API and runner processes
 * a bench forks inherit): logs silent, Nango, Firebase and Google served by the sandbox. `settings` are
 * the bench's own, over those.
 */
export async function startBenchApp(name: string, settings: Record<string, string>, options: { seed?: number } = {}): Promise<BenchApp> {
  const server = await startBenchServer();
  const signingKey = `bench-${name}-signing-key`;
  const project = `bench-${name}`;
  const sandbox = await startSandbox({ port: 0, webhookSigningKey: signingKey, nangoSecretKey: 'bench', firebaseProjectId: project, ...options });
  const databaseUrl = await server.freshDatabase(`bench_${name}`);
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: 'silent',
    NANGO_HOST: sandbox.url,
    NANGO_SECRET_KEY: 'bench',
    NANGO_WEBHOOK_SIGNING_KEY: signingKey,
    FIREBASE_PROJECT_ID: project,
    FIREBASE_JWKS_URL: sandbox.url + FIREBASE_JWKS_PATH,
    GOOGLE_API_ROOT_URL: sandbox.url,
    ...settings,
  });
  const { runMigrations } = await import('../db/migrate');
  await runMigrations(databaseUrl);
  return {
    server,
    sandbox,
    databaseUrl,
    signingKey,
    resultHeader: async () => ({
      date: new Date().toISOString(),
      ...machine(),
      loadAverage: loadavg().map((l) => round(l, 1)),
      postgres: await server.postgresVersion(),
    }),
    stop: async () => {
      await sandbox.close();
      await server.stop();
    },
  };
}

export interface ApiProcess {
  url: string;
  child: ChildProcess;
  /** Closes the API and its database pool, and waits for the process to end. */
  stop(): Promise<void>;
}

/**
 * The API (dev/server.ts, through bench/webhook-server.ts) in its own process, so the load generator
 * does not share its CPU time; `env` over the bench's settings. With BENCH_PROFILE=<dir> it writes a
 * CPU profile there.
 */
export async function forkApi(env: Record<string, string> = {}): Promise<ApiProcess> {
  const child = fork(new URL('./webhook-server.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [])],
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the API process exited with ${code}`)));
  });
  return {
    url,
    child,
    stop: async () => {
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Connects Gmail for the users u0 … u<count-1> (connections gmail-u<i>) with Nango auth webhooks, as the frontend would. */
export async function connectGmailUsers(sandbox: Sandbox, appUrl: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await sandbox.sendWebhook(
      `${appUrl}/api/webhooks/nango`,
      authPayload({ connectionId: `gmail-u${i}`, providerConfigKey: 'google-mail', endUser: { endUserId: `u${i}` } }),
    );
    if (response.status !== 202) throw new Error(`auth webhook answered ${response.status}`);
  }
}

/**
 * A mailbox to read: `threads` threads of the user `reader` (its Gmail connection `gmail-reader`), each
 * with a subject, snippet, category and sender, one a minute back from now.
 */
export async function seedReaderMailbox(databaseUrl: string, threads: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`
      WITH c AS (
        INSERT INTO connections (user_id, provider, nango_connection_id, provider_config_key)
        VALUES ('reader', 'gmail', 'gmail-reader', 'google-mail') RETURNING id
      )
      INSERT INTO email_threads (connection_id, user_id, provider_thread_id, subject, snippet, category, senders, last_message_at)
      SELECT c.id, 'reader', 't' || i, 'Subject ' || i, 'snippet ' || i, (ARRAY['billing','support','other'])[1 + i % 3],
        ARRAY['sender' || (i % 50) || '@example.com'], now() - make_interval(mins => i)
      FROM c, generate_series(1, ${threads}) i`);
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}

/**
 * The n-th signed sync webhook of the Gmail users `connectGmailUsers` connected (of gmail-u<n % users>),
 * distinct for each n, so that none is a redelivery: the body and headers of its POST.
 */
export function signedGmailSync(signingKey: string, n: number, users: number): { body: string; headers: Record<string, string> } {
  const body = stableStringify(
    syncSuccessPayload({
      connectionId: `gmail-u${n % users}`,
      providerConfigKey: 'google-mail',
      ...SYNCS.gmail,
      modifiedAfter: new Date(Date.UTC(2026, 0, 1) + n),
      responseResults: { added: n % 7, updated: 0, deleted: 0 },
    }),
  );
  return { body, headers: { 'content-type': 'application/json', ...(signWebhookBody(signingKey, body) as unknown as Record<string, string>) } };
}
