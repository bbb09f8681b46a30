/**
 * npm run bench:sync: the Gmail sync against the provider sandbox (50 ms added to every Gmail request),
 * on the embedded Postgres, run by the real runner in its own process (bench/sync-runner.ts):
 *
 * 1. backfill of a 2,000-thread mailbox ('full' mode: every thread, 4 threads.list pages of 500),
 *    with the runner's production pass length (JOBS_RUNNER_MAX_DURATION_S 60, margin 10), so the sync
 *    checkpoints and continues across passes as it would on Vercel. Figures: wall time, Gmail quota
 *    units per second against the per-user limit of 250/s (15,000 a minute), refusals, peak RSS.
 * 2. incremental cost: the Gmail calls made to pick up 10 new emails (7 new threads, 3 replies) in a
 *    10,000-thread mailbox, after its initial backfill.
 * 3. the Salesforce Lead backfill of 50,000 leads (bench/sync-salesforce.ts).
 *
 * Gmail calls are counted per method by a small proxy between the runner and the sandbox.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { startSandbox } from '../dev/sandbox/index';
import { machine, round, saveResult, startBenchServer } from './harness';
import { benchSalesforce } from './sync-salesforce';

const THREADS = 2_000;
const BIG_MAILBOX = 10_000;
const NEW_EMAILS = 10;
const LATENCY_MS = 50;
const GMAIL_UNITS_PER_SECOND = 15_000 / 60;

type Counts = Record<string, number>;

/** Forwards Gmail calls to the sandbox and counts them per API method. */
async function countingProxy(target: string) {
  let counts: Counts = {};
  const methodOf = (method: string, path: string): string => {
    const p = path.split('?')[0]!.replace(/^\/gmail\/v1\/users\/[^/]+/, '');
    if (p === '/profile') return 'users.getProfile';
    if (p === '/threads') return 'threads.list';
    if (/^\/threads\/[^/]+$/.test(p)) return 'threads.get';
    if (p === '/history') return 'history.list';
    return `${method} ${p}`;
  };
  const body = (request: IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => resolve(Buffer.concat(chunks)));
      request.on('error', reject);
    });
  const server = createServer(async (request, response) => {
    const name = methodOf(request.method ?? 'GET', request.url ?? '/');
    counts[name] = (counts[name] ?? 0) + 1;
    try {
      const payload = request.method === 'GET' || request.method === 'HEAD' ? undefined : await body(request);
      const headers = new Headers();
      for (const [key, value] of Object.entries(request.headers)) {
        if (typeof value === 'string' && key !== 'host' && key !== 'connection') headers.set(key, value);
      }
      const upstream = await fetch(target + request.url, { method: request.method ?? 'GET', headers, ...(payload ? { body: new Uint8Array(payload) } : {}) });
      const out: Record<string, string> = {};
      upstream.headers.forEach((value, key) => {
        if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(key)) out[key] = value;
      });
      response.writeHead(upstream.status, out);
      response.end(Buffer.from(await upstream.arrayBuffer()));
    } catch (error) {
      response.writeHead(502).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    take(): Counts {
      const taken = counts;
      counts = {};
      return taken;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function request<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (answer) => resolve(answer as T));
    child.once('exit', (code) => reject(new Error(`the runner process exited with ${code}`)));
    child.send(message);
  });
}

async function main() {
  const server = await startBenchServer();
  const sandbox = await startSandbox({ port: 0, seed: 1, webhookSigningKey: 'bench-signing-key', nangoSecretKey: 'bench', firebaseProjectId: 'bench' });
  const proxy = await countingProxy(sandbox.url);
  const databaseUrl = await server.freshDatabase('bench_sync');
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    NANGO_HOST: sandbox.url,
    NANGO_SECRET_KEY: 'bench',
    GOOGLE_API_ROOT_URL: proxy.url,
    WEBHOOK_KICK_RUNNER: 'false',
    LOG_LEVEL: 'silent',
  });
  const { runMigrations } = await import('../db/migrate');
  await runMigrations(databaseUrl);
  const { db, closeDb } = await import('../lib/database');
  const { upsertConnection, enqueueSyncs } = await import('../lib/connections');
  const connect = async (userId: string) => {
    const connection = await upsertConnection(db(), { userId, provider: 'gmail', providerConfigKey: 'google-mail', nangoConnectionId: `gmail-${userId}` });
    if (!connection) throw new Error(`could not create the connection of ${userId}`);
    return connection;
  };

  const child = fork(new URL('./sync-runner.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], env: process.env, stdio: 'inherit' });
  await new Promise((resolve) => child.once('message', resolve));
  const drain = () => request<{ wallMs: number; passes: number; maxRssKb: number }>(child, 'drain');

  // 1. Backfill of 2,000 threads, 50 ms a Gmail request.
  sandbox.ensureUser('backfill', { gmailThreads: THREADS });
  sandbox.setFaults('gmail', { latencyMs: LATENCY_MS });
  const backfillConnection = await connect('backfill');
  await enqueueSyncs(db(), backfillConnection, 'full');
  proxy.take();
  console.log(`backfill of ${THREADS} threads, ${LATENCY_MS} ms a Gmail request ...`);
  const backfillRun = await drain();
  const backfillCalls = proxy.take();
  const backfillUsage = sandbox.quotaUsage('backfill').gmail;
  const { rows } = await db().execute(sql`
    SELECT (SELECT count(*) FROM email_threads WHERE connection_id = ${backfillConnection.id})::int AS threads,
           (SELECT count(*) FROM email_messages WHERE connection_id = ${backfillConnection.id})::int AS messages,
           (SELECT status FROM jobs WHERE (payload->>'connectionId')::bigint = ${backfillConnection.id} ORDER BY id DESC LIMIT 1) AS status`);
  const stored = rows[0] as { threads: number; messages: number; status: string };
  if (stored.threads !== THREADS || stored.status !== 'succeeded') throw new Error(`backfill incomplete: ${JSON.stringify(stored)}`);
  const unitsPerSecond = backfillUsage.totalUnits / (backfillRun.wallMs / 1000);
  const backfill = {
    threads: stored.threads,
    messages: stored.messages,
    wallSeconds: round(backfillRun.wallMs / 1000, 1),
    runnerPasses: backfillRun.passes,
    threadsPerSecond: round(stored.threads / (backfillRun.wallMs / 1000), 1),
    quotaUnits: backfillUsage.totalUnits,
    quotaUnitsPerSecond: round(unitsPerSecond, 1),
    shareOfQuotaLimit: round(unitsPerSecond / GMAIL_UNITS_PER_SECOND, 3),
    quotaRefusals: backfillUsage.refusals,
    calls: backfillCalls,
    runnerPeakRssMb: round(backfillRun.maxRssKb / 1024, 0),
  };

  // 2. Incremental cost of 10 new emails in a 10,000-thread mailbox.
  sandbox.setFaults('gmail', {});
  const user = sandbox.ensureUser('incremental', { gmailThreads: BIG_MAILBOX });
  const bigConnection = await connect('incremental');
  await enqueueSyncs(db(), bigConnection, 'initial');
  const initialRun = await drain();
  proxy.take();
  const unitsBefore = sandbox.quotaUsage('incremental').gmail.totalUnits;
  // 7 new threads and 3 replies to threads the backfill holds (the 3 newest).
  const repliedTo = sandbox.gmail.listThreads('incremental', { maxResults: 3 }).threads!.map((t) => t.id);
  for (let i = 0; i < NEW_EMAILS; i++) {
    const threadId = i < NEW_EMAILS - repliedTo.length ? undefined : repliedTo[i - (NEW_EMAILS - repliedTo.length)];
    sandbox.gmail.addMessage('incremental', {
      from: `Sender ${i} <sender${i}@example.com>`,
      to: user.email,
      subject: threadId ? undefined : `New matter ${i}`,
      text: `Message ${i} of the incremental benchmark.`,
      ...(threadId ? { threadId } : {}),
    });
  }
  await enqueueSyncs(db(), bigConnection, 'incremental');
  const incrementalRun = await drain();
  const incrementalCalls = proxy.take();
  const incremental = {
    mailboxThreads: BIG_MAILBOX,
    newEmails: NEW_EMAILS,
    calls: incrementalCalls,
    totalCalls: Object.values(incrementalCalls).reduce((a, b) => a + b, 0),
    quotaUnits: sandbox.quotaUsage('incremental').gmail.totalUnits - unitsBefore,
    wallMs: round(incrementalRun.wallMs, 0),
    initialBackfillSeconds: round(initialRun.wallMs / 1000, 1),
  };

  console.log('\nGmail backfill');
  console.table({
    threads: backfill.threads,
    messages: backfill.messages,
    'wall time (s)': backfill.wallSeconds,
    'runner passes': backfill.runnerPasses,
    'threads/s': backfill.threadsPerSecond,
    'quota units': backfill.quotaUnits,
    'quota units/s (limit 250)': backfill.quotaUnitsPerSecond,
    'share of the limit': backfill.shareOfQuotaLimit,
    'quota refusals': backfill.quotaRefusals,
    'runner peak RSS (MB)': backfill.runnerPeakRssMb,
  });
  console.table(backfill.calls);
  console.log(`\nGmail incremental: ${NEW_EMAILS} new emails in a ${BIG_MAILBOX}-thread mailbox`);
  console.table({ ...incremental.calls, 'total calls': incremental.totalCalls, 'quota units': incremental.quotaUnits, 'wall time (ms)': incremental.wallMs });

  await request(child, 'stop').catch(() => undefined);
  await closeDb();
  await proxy.close();
  await sandbox.close();

  // 3. Salesforce: 50,000 leads (bench/sync-salesforce.ts: its own sandbox, database and runner process).
  console.log('\nSalesforce Lead backfill ...');
  const salesforce = await benchSalesforce(server);
  console.table(salesforce);

  saveResult('sync.json', {
    date: new Date().toISOString(),
    ...machine(),
    postgres: await server.postgresVersion(),
    gmail: { latencyMs: LATENCY_MS, backfill, incremental },
    salesforce,
  });
  await server.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
