/**
 * npm run bench:webhook: signed Nango sync webhooks against api/webhooks/nango.ts on the local server
 * and the embedded Postgres, 50 concurrent connections for 10 s (autocannon). Every request carries a
 * distinct body (so none is a redelivery) for one of 20 connections: each stores its delivery and
 * finds or enqueues the connection's deduplicated sync job, in one transaction.
 */
import autocannon from 'autocannon';
import { connectGmailUsers, forkApi, signedGmailSync, startBenchApp } from './app';
import { round, saveResult } from './harness';

const CONNECTIONS = 20;
const DURATION_S = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);

async function main() {
  const bench = await startBenchApp('webhook', {
    // The ingestion path alone: a runner pass per request would measure the runner, not the webhook.
    WEBHOOK_KICK_RUNNER: 'false',
    DATABASE_POOL_MAX: '20',
  });
  const { sandbox, databaseUrl, signingKey } = bench;
  const api = await forkApi();
  const url = `${api.url}/api/webhooks/nango`;
  await connectGmailUsers(sandbox, api.url, CONNECTIONS);

  let sequence = 0;
  const signedSync = () => signedGmailSync(signingKey, sequence++, CONNECTIONS);


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

  saveResult('webhook.json', { ...(await bench.resultHeader()), ...figures, stored: rows[0] });
  await api.stop();
  await bench.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
