/**
 * npm run bench:leak: 20,000 requests against the API in this process (the read API and the signed
 * Nango webhook, alternating, 20 at a time), then the heap after a full GC compared with the heap after
 * a warm-up of 2,000: it must grow by less than 20 MB. Run with --expose-gc (the npm script does).
 * Exits 1 when the heap grew too much. BENCH_LEAK_REQUESTS changes the count (result to leak.tmp.json).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connectGmailUsers, seedReaderMailbox, signedGmailSync, startBenchApp } from './app';
import { round, saveResult } from './harness';

const REQUESTS = Number(process.env.BENCH_LEAK_REQUESTS ?? 20_000);
const WARMUP = 2_000;
const CONCURRENCY = 20;
const LIMIT_MB = 20;
/** Users whose Gmail sync webhooks the run sends. */
const USERS = 20;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  console.error('run with --expose-gc: npm run bench:leak');
  process.exit(2);
}

async function settledHeapMb(): Promise<number> {
  // Several collections with pauses between: finalizers and weak references get their turn.
  for (let i = 0; i < 4; i++) {
    gc!();
    await sleep(100);
  }
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function main() {
  const bench = await startBenchApp('leak', {
    NODE_ENV: 'production',
    RATE_LIMIT_PER_MINUTE: '100000',
    WEBHOOK_KICK_RUNNER: 'false',
  });
  const { sandbox, databaseUrl, signingKey } = bench;
  await seedReaderMailbox(databaseUrl, 500);

  const { startServer } = await import('../dev/server');
  const { closeDb } = await import('../lib/database');
  const app = await startServer({ port: 0 });
  const webhookUrl = `${app.url}/api/webhooks/nango`;
  await connectGmailUsers(sandbox, app.url, USERS);
  const token = await sandbox.mintIdToken('reader');
  let sequence = 0;
  let failures = 0;
  const one = async () => {
    try {
      await request();
    } catch {
      // A refused or reset connection is a failed request, not the end of the run.
      failures += 1;
    }
  };
  const request = async () => {
    const n = sequence++;
    let response: Response;
    if (n % 2 === 0) {
      response = await fetch(`${app.url}/api/emails?limit=25`, { headers: { authorization: `Bearer ${token}` } });
    } else {
      response = await fetch(webhookUrl, { method: 'POST', ...signedGmailSync(signingKey, n, USERS) });
    }
    await response.arrayBuffer();
    if (!response.ok) failures += 1;
  };
  const burst = async (count: number) => {
    let left = count;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (left > 0) {
          left -= 1;
          await one();
        }
      }),
    );
  };

  await burst(WARMUP);
  const baseline = await settledHeapMb();
  const started = Date.now();
  const samples: number[] = [];
  for (let done = 0; done < REQUESTS; done += 2_000) {
    await burst(Math.min(2_000, REQUESTS - done));
    samples.push(round(process.memoryUsage().heapUsed / 1024 / 1024, 1));
  }
  const seconds = (Date.now() - started) / 1000;
  const final = await settledHeapMb();
  const growth = final - baseline;
  const verdict = growth < LIMIT_MB ? 'ok' : 'LEAK';
  console.log(
    `${REQUESTS} requests in ${round(seconds, 1)} s (${failures} failed): heap after GC ${round(baseline, 1)} MB -> ${round(final, 1)} MB, ` +
      `growth ${round(growth, 2)} MB (limit ${LIMIT_MB} MB): ${verdict}; heap in use every 2,000: ${samples.join(', ')} MB; rss ${round(process.memoryUsage().rss / 1024 / 1024, 0)} MB`,
  );
  saveResult(process.env.BENCH_LEAK_REQUESTS ? 'leak.tmp.json' : 'leak.json', {
    ...(await bench.resultHeader()),
    requests: REQUESTS,
    failed: failures,
    seconds: round(seconds, 1),
    heapAfterGcMb: { baseline: round(baseline, 2), final: round(final, 2), growth: round(growth, 2) },
    limitMb: LIMIT_MB,
    verdict,
    heapInUseEvery2000Mb: samples,
  });
  await app.close();
  await closeDb();
  await bench.stop();
  process.exit(verdict === 'ok' ? 0 : 1);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
