/**
 * npm run bench:webhook: signed Nango sync webhooks against api/webhooks/nango.ts on the local server
 * and the embedded Postgres, 50 concurrent connections for 10 s (autocannon). Every request carries a
 * distinct body (so none is a redelivery) for one of 20 connections: each stores its delivery and
 * finds or enqueues the connection's deduplicated sync job, in one transaction.
 */
import { fork } from 'node:child_process';
import autocannon from 'autocannon';
import { authPayload, startSandbox, syncSuccessPayload, SYNCS, signWebhookBody, stableStringify } from '../dev/sandbox/index';
import { machine, round, saveResult, startBenchServer } from './harness';

const SIGNING_KEY = 'bench-webhook-signing-key';
const CONNECTIONS = 20;
const DURATION_S = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);

async function main() {
  const server = await startBenchServer();
  const sandbox = await startSandbox({ port: 0, webhookSigningKey: SIGNING_KEY, nangoSecretKey: 'bench', firebaseProjectId: 'bench' });
  const databaseUrl = await server.freshDatabase('bench_webhook');
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    NANGO_HOST: sandbox.url,
    NANGO_SECRET_KEY: 'bench',
    NANGO_WEBHOOK_SIGNING_KEY: SIGNING_KEY,
    // The ingestion path alone: a runner pass per request would measure the runner, not the webhook.
    WEBHOOK_KICK_RUNNER: 'false',
    LOG_LEVEL: 'silent',
    DATABASE_POOL_MAX: '20',
  });
  const { runMigrations } = await import('../db/migrate');
  await runMigrations(databaseUrl);
  const child = fork(new URL('./webhook-server.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROFILE] : [])],
    env: process.env,
    stdio: 'inherit',
  });
  const appUrl = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`the API process exited with ${code}`)));
  });
  const url = `${appUrl}/api/webhooks/nango`;

  for (let i = 0; i < CONNECTIONS; i++) {
    const response = await sandbox.sendWebhook(
      url,
      authPayload({ connectionId: `gmail-u${i}`, providerConfigKey: 'google-mail', endUser: { endUserId: `u${i}` } }),
    );
    if (response.status !== 202) throw new Error(`auth webhook answered ${response.status}`);
  }

  let sequence = 0;
  const signedSync = () => {
    const n = sequence++;
    const body = stableStringify(
      syncSuccessPayload({
        connectionId: `gmail-u${n % CONNECTIONS}`,
        providerConfigKey: 'google-mail',
        ...SYNCS.gmail,
        modifiedAfter: new Date(Date.UTC(2026, 0, 1) + n),
        responseResults: { added: n % 7, updated: 0, deleted: 0 },
      }),
    );
    return { body, headers: { 'content-type': 'application/json', ...(signWebhookBody(SIGNING_KEY, body) as unknown as Record<string, string>) } };
  };

  // Unloaded: one request at a time, what a single delivery costs.
  const sequential: number[] = [];
  for (let i = 0; i < 300; i++) {
    const { body, headers } = signedSync();
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', body, headers });
    await response.arrayBuffer();
    if (response.status !== 202) throw new Error(`webhook answered ${response.status}`);
    sequential.push(performance.now() - started);
  }
  sequential.sort((a, b) => a - b);
  const unloaded = { p50: round(sequential[149]!, 2), p99: round(sequential[296]!, 2) };
  console.log(`one at a time: p50 ${unloaded.p50} ms, p99 ${unloaded.p99} ms`);

  const result = await autocannon({
    url,
    connections: 50,
    duration: DURATION_S,
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => ({ ...request, ...signedSync() }),
      },
    ],
  });

  const non202 = result.non2xx + result.errors + result.timeouts;
  const figures = {
    unloadedLatencyMs: unloaded,
    requestsPerSecond: round(result.requests.average, 0),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    requests: result.requests.total,
    non2xxOrErrors: non202,
    connections: 50,
    durationSeconds: DURATION_S,
  };
  console.log(
    `signed sync webhooks, 50 connections, ${DURATION_S} s: ${figures.requestsPerSecond} req/s, ` +
      `p50 ${figures.latencyMs.p50} ms, p99 ${figures.latencyMs.p99} ms, ${figures.requests} requests, ${non202} not 202`,
  );
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query(
    `SELECT (SELECT count(*) FROM webhook_events)::int AS deliveries, (SELECT count(*) FROM jobs WHERE status = 'queued')::int AS queued`,
  );
  await client.end();
  console.log(`stored ${rows[0].deliveries} deliveries; ${rows[0].queued} queued jobs (one per connection and stream)`);

  saveResult('webhook.json', { date: new Date().toISOString(), ...machine(), postgres: await server.postgresVersion(), ...figures, stored: rows[0] });
  child.send('stop');
  await new Promise((resolve) => child.once('exit', resolve));
  await sandbox.close();
  await server.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
