/**
 * The Salesforce Lead sync end to end: a sandbox org with 50,000 leads (about 1.5% of them in the
 * recycle bin, as generated), a fresh database, and the real runner (lib/jobs' registry, passes as
 * long as the cron's: JOBS_RUNNER_MAX_DURATION_S 60, margin 10) in its own process, draining the
 * Lead stream's initial backfill: jsforce keyset queries of 2,000 rows on queryAll, each page upserted
 * with its events, timeline rows and cursor in one transaction. No latency is added to the sandbox,
 * so the figure is switchyard's own throughput (a real org adds ~0.5-2 s per 2,000-row query).
 *
 *   tsx bench/sync-salesforce.ts     (alone: starts its own embedded Postgres; saves bench/results/sync-salesforce.json)
 *   BENCH_LOG_LEVEL=debug tsx bench/sync-salesforce.ts > log   (the runner's logs: one line per stored page)
 *
 * bench/sync.ts imports benchSalesforce(server) and runs it on its own bench server. The function keeps
 * to itself: its own sandbox, database, pool and runner process, nothing of the caller's process-wide
 * configuration or database touched.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { createDatabase } from '../db/client';
import { runMigrations } from '../db/migrate';
import { startSandbox } from '../dev/sandbox/index';
import { enqueueSyncs, upsertConnection } from '../lib/connections';
import { machine, round, saveResult, startBenchServer, type BenchServer } from './harness';

const LEADS = 50_000;
const USER = 'bench-salesforce';
const RUNNER_FLAG = '--runner';

export async function benchSalesforce(server: BenchServer): Promise<Record<string, number>> {
  const sandbox = await startSandbox({ port: 0, seed: 1, webhookSigningKey: 'bench-signing-key', nangoSecretKey: 'bench', firebaseProjectId: 'bench' });
  const user = sandbox.ensureUser(USER, { leads: LEADS, contacts: 0, accounts: 0, opportunities: 0, gmailThreads: 1, calendarEvents: 0 });
  const databaseUrl = await server.freshDatabase('bench_sync_salesforce');
  await runMigrations(databaseUrl);
  const database = createDatabase({
    connectionString: databaseUrl,
    max: 2,
    connectionTimeoutMillis: 5_000,
    statementTimeoutMillis: 60_000,
    idleTimeoutMillis: 10_000,
    applicationName: 'bench-salesforce',
  });
  const child = fork(fileURLToPath(import.meta.url), [RUNNER_FLAG], {
    execArgv: ['--import', 'tsx'],
    // The runner's whole configuration: the caller's environment is not this benchmark's.
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
      DATABASE_URL: databaseUrl,
      NANGO_HOST: sandbox.url,
      NANGO_SECRET_KEY: 'bench',
      WEBHOOK_KICK_RUNNER: 'false',
      JOBS_RUNNER_MAX_DURATION_S: '60',
      JOBS_RUNNER_MARGIN_S: '10',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`the runner process exited with ${code}`)));
    });
    const connection = await upsertConnection(database.db, {
      userId: USER,
      provider: 'salesforce',
      providerConfigKey: 'salesforce',
      nangoConnectionId: user.connectionIds.salesforce,
    });
    if (!connection) throw new Error('could not create the Salesforce connection');
    await enqueueSyncs(database.db, connection, 'initial', { streams: ['Lead'] });

    console.log(`salesforce: backfill of the Lead stream, ${LEADS} leads ...`);
    const started = performance.now();
    const run = await new Promise<{ passes: number; maxRssKb: number }>((resolve, reject) => {
      child.once('message', (answer) => resolve(answer as { passes: number; maxRssKb: number }));
      child.once('exit', (code) => reject(new Error(`the runner process exited with ${code}`)));
      child.send('drain');
    });
    const seconds = (performance.now() - started) / 1000;

    const { rows } = await database.db.execute(sql`
      SELECT (SELECT count(*) FROM crm_records WHERE connection_id = ${connection.id} AND object = 'Lead' AND deleted_at IS NULL)::int AS stored,
             (SELECT count(*) FROM events WHERE connection_id = ${connection.id} AND type = 'crm.lead.created')::int AS events,
             (SELECT count(*) FROM interactions WHERE connection_id = ${connection.id})::int AS interactions,
             (SELECT status FROM jobs WHERE (payload->>'connectionId')::bigint = ${connection.id} ORDER BY id DESC LIMIT 1) AS status,
             (SELECT (progress->>'pages')::int FROM jobs WHERE (payload->>'connectionId')::bigint = ${connection.id} ORDER BY id DESC LIMIT 1) AS pages`);
    const result = rows[0] as { stored: number; events: number; interactions: number; status: string; pages: number };
    const live = sandbox.salesforce.count(USER, 'Lead');
    if (result.status !== 'succeeded' || result.stored !== live || result.events !== live || result.interactions !== live) {
      throw new Error(`salesforce backfill incomplete: ${JSON.stringify({ ...result, live })}`);
    }
    const usage = sandbox.quotaUsage(USER).salesforce;
    return {
      leads: LEADS,
      seconds: round(seconds, 2),
      recordsPerSecond: round(LEADS / seconds, 0),
      storedLive: result.stored,
      pages: result.pages,
      requests: usage.requests,
      refusals: usage.refusals,
      runnerPasses: run.passes,
      runnerPeakRssMb: round(run.maxRssKb / 1024, 0),
    };
  } finally {
    child.send('stop');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    await database.close();
    await sandbox.close();
  }
}

/** The runner process: on 'drain', cron-length passes until no job is queued or running. */
async function runnerProcess(): Promise<void> {
  const { closeDb, db } = await import('../lib/database');
  const { passDeadline, runner } = await import('../lib/worker/runner');
  const open = async () => {
    const result = await db().execute(sql`
      SELECT count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS open,
             count(*) FILTER (WHERE status = 'queued' AND run_at <= now())::int AS runnable
      FROM jobs`);
    return result.rows[0] as { open: number; runnable: number };
  };
  process.on('message', async (message) => {
    if (message === 'drain') {
      let passes = 0;
      for (let state = await open(); state.open > 0; state = await open()) {
        // A checkpointed job is runnable at once; a deferred or retried one at its run_at.
        if (state.runnable === 0) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        await runner().run({ deadline: passDeadline() });
        passes += 1;
      }
      process.send?.({ passes, maxRssKb: process.resourceUsage().maxRSS });
    } else if (message === 'stop') {
      await closeDb();
      process.exit(0);
    }
  });
  process.send?.('ready');
}

async function main(): Promise<void> {
  const server = await startBenchServer();
  try {
    const figures = await benchSalesforce(server);
    console.table(figures);
    saveResult('sync-salesforce.json', { date: new Date().toISOString(), ...machine(), postgres: await server.postgresVersion(), ...figures });
  } finally {
    await server.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const entry = process.argv.includes(RUNNER_FLAG) ? runnerProcess() : main();
  entry.catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
