/**
 * npm run bench:load: 100 concurrent connections (autocannon) for 60 s against each of the read API
 * (GET /api/emails, Firebase-authenticated, rate limit out of the way) and the Nango webhook (signed
 * sync deliveries, each distinct), the API in its own process on the embedded Postgres. Reports
 * throughput, p50/p99 latency and the error rate of each. BENCH_LOAD_SECONDS and
 * BENCH_LOAD_CONNECTIONS change the run (the result then goes to load.tmp.json).
 */
import autocannon from 'autocannon';
import pg from 'pg';
import { connectGmailUsers, forkApi, signedGmailSync, seedReaderMailbox, startBenchApp } from './app';
import { round, saveResult } from './harness';

const SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_LOAD_CONNECTIONS ?? 100);
const WEBHOOK_CONNECTIONS = 20;
const THREADS = 5_000;

async function main() {
  const bench = await startBenchApp('load', {
    NODE_ENV: 'production',
    // What is measured is the API, not its limiter or the runner a webhook would start.
    RATE_LIMIT_PER_MINUTE: '100000',
    WEBHOOK_KICK_RUNNER: 'false',
    DATABASE_POOL_MAX: '20',
  });
  const { sandbox, databaseUrl, signingKey } = bench;
  await seedReaderMailbox(databaseUrl, THREADS);
  const api = await forkApi();
  const appUrl = api.url;
  const webhookUrl = `${appUrl}/api/webhooks/nango`;
  await connectGmailUsers(sandbox, appUrl, WEBHOOK_CONNECTIONS);

  const token = await sandbox.mintIdToken('reader');
  // Warm-up, unmeasured: module loads, the JWKS fetch, the pool's connections.
  for (let i = 0; i < 50; i++) {
    const response = await fetch(`${appUrl}/api/emails?limit=25&category=billing`, { headers: { authorization: `Bearer ${token}` } });
    if (response.status !== 200) throw new Error(`the read API answered ${response.status}`);
    await response.arrayBuffer();
  }
  const read = await run('read API: GET /api/emails?limit=25', {
    url: `${appUrl}/api/emails?limit=25&category=billing`,
    headers: { authorization: `Bearer ${token}` },
  });

  let sequence = 0;
  const signedSync = () => signedGmailSync(signingKey, sequence++, WEBHOOK_CONNECTIONS);

  for (let i = 0; i < 50; i++) {
    const { body, headers } = signedSync();
    await (await fetch(webhookUrl, { method: 'POST', body, headers })).arrayBuffer();
  }
  const webhook = await run('webhook: POST /api/webhooks/nango', {
    url: webhookUrl,
    requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, ...signedSync() }) }],
  });

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query(`SELECT count(*)::int AS deliveries FROM webhook_events WHERE type = 'sync'`);
  await client.end();
  console.log(`stored ${rows[0].deliveries} sync deliveries`);
  const file = process.env.BENCH_LOAD_SECONDS || process.env.BENCH_LOAD_CONNECTIONS ? 'load.tmp.json' : 'load.json';
  saveResult(file, {
    ...(await bench.resultHeader()),
    connections: CONNECTIONS,
    durationSeconds: SECONDS,
    read,
    webhook: { ...webhook, storedDeliveries: rows[0].deliveries },
  });
  await api.stop();
  await bench.stop();
}

async function run(name: string, options: Partial<autocannon.Options>) {
  const result = await autocannon({ connections: CONNECTIONS, duration: SECONDS, ...options } as autocannon.Options);
  // `requests.total` counts answered requests; `errors` those that got none (timeouts included).
  const total = result.requests.total + result.errors;
  const failed = result.non2xx + result.errors;
  const figures = {
    requestsPerSecond: round(result.requests.average, 0),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    requests: total,
    failed,
    errorRate: total > 0 ? round(failed / total, 4) : 0,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count])),
    timeouts: result.timeouts,
    socketErrors: result.errors,
  };
  console.log(
    `${name}, ${CONNECTIONS} connections, ${SECONDS} s: ${figures.requestsPerSecond} req/s, p50 ${figures.latencyMs.p50} ms, ` +
      `p99 ${figures.latencyMs.p99} ms, ${total} requests, error rate ${(figures.errorRate * 100).toFixed(2)}% ` +
      `(status ${JSON.stringify(figures.statusCodes)}, ${result.timeouts} timeouts, ${result.errors} socket errors)`,
  );
  return figures;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
