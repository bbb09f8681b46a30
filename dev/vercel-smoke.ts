/**
 * CI smoke test: serves api/ with the real `vercel dev --local` (vercel CLI 60.1.3) and checks that it
 * answers as dev/server.ts does: health, the cron's 401 and 200, a dynamic [id] route (and a doubled
 * ?id= refused), a 405, a CORS preflight reaching the OPTIONS export, a 401 with the envelope, and the
 * operator console's static files (public/console) at /console/, the OpenAPI document, the API reference
 * page (public/docs) at /docs and an admin route (covered by the admin glob of vercel.json).
 * Usage: tsx dev/vercel-smoke.ts <path to the vercel binary>
 * Uses DATABASE_URL when set (migrating it), an embedded Postgres otherwise.
 */
import { spawn } from 'node:child_process';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { runMigrations } from '../db/migrate';
import { enqueue } from '../lib/jobs';
import { freePort, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres';

const vercelBin = process.argv[2] ?? 'vercel';

const CRON_SECRET = 'smoke-cron-secret-0123456789';
const ADMIN_API_KEY = 'smoke-admin-key-0123456789abcdef';
const ORIGIN = 'https://app.example.com';

async function main() {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres({ fast: true });
    databaseUrl = embedded.adminUrl;
  }
  await runMigrations(databaseUrl);
  try {
    await smoke(databaseUrl);
  } finally {
    await embedded?.stop();
  }
}

async function smoke(databaseUrl: string) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(vercelBin, ['dev', '--local', '--yes', '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, DATABASE_URL: databaseUrl, CRON_SECRET, ADMIN_API_KEY, CORS_ORIGINS: ORIGIN, VERCEL_TELEMETRY_DISABLED: '1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const failures: string[] = [];
  try {
    const ready = Date.now() + 90_000;
    while (!output.includes('Ready!')) {
      if (Date.now() > ready || child.exitCode !== null) throw new Error(`vercel dev did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    // An hour ahead, so that the cron pass below does not run it.
    const { job } = await enqueue(drizzle(client), { kind: 'smoke-check', userId: 'smoke', runAt: new Date(Date.now() + 3_600_000) });
    const jobId = job.id;
    await client.end();

    const check = async (name: string, path: string, init: RequestInit, expected: number, body?: (b: any) => boolean) => {
      const response = await fetch(base + path, init);
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      const ok = response.status === expected && (!body || body(parsed));
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${response.status} ${text.slice(0, 160)}`);
      if (!ok) failures.push(name);
    };
    await check('health', '/api/health', {}, 200, (b) => b.status === 'ok');
    await check('cron without secret', '/api/cron/run-jobs', {}, 401, (b) => b.error?.code === 'unauthenticated');
    await check('cron with secret', '/api/cron/run-jobs', { headers: { authorization: `Bearer ${CRON_SECRET}` } }, 200,
      (b) => typeof b.claimed === 'number');
    await check('dynamic route', `/api/admin/jobs/${jobId}`, { headers: { authorization: `Bearer ${ADMIN_API_KEY}` } }, 200,
      (b) => b.job?.id === Number(jobId));
    await check('dynamic route, bad id', '/api/admin/jobs/abc', { headers: { authorization: `Bearer ${ADMIN_API_KEY}` } }, 400);
    await check('unexported method', '/api/health', { method: 'POST' }, 405);
    // Vercel appends the path's id to the query: a client's own ?id= makes it appear twice, refused.
    await check('dynamic route, id also in the query', `/api/admin/jobs/999999?id=${jobId}`, { headers: { authorization: `Bearer ${ADMIN_API_KEY}` } }, 400,
      (b) => b.error?.code === 'validation_failed' && typeof b.error?.requestId === 'string');
    await check('cron with a lower-case bearer scheme', '/api/cron/run-jobs', { headers: { authorization: `bearer ${CRON_SECRET}` } }, 200);
    const preflight = await fetch(`${base}/api/connections`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
    const allowOrigin = preflight.headers.get('access-control-allow-origin');
    console.log(`${preflight.status === 204 && allowOrigin === ORIGIN ? 'ok  ' : 'FAIL'} CORS preflight: ${preflight.status} ${allowOrigin}`);
    if (preflight.status !== 204 || allowOrigin !== ORIGIN) failures.push('CORS preflight');
    await check('frontend API without a token', '/api/connections', {}, 401, (b) => b.error?.code === 'unauthenticated');
    const page = async (name: string, path: string, type: string, includes: string) => {
      const response = await fetch(base + path);
      const text = await response.text();
      const ok = response.status === 200 && (response.headers.get('content-type') ?? '').startsWith(type) && text.includes(includes);
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${response.status} ${response.headers.get('content-type')} ${text.length} B`);
      if (!ok) failures.push(name);
    };
    await page('console page', '/console/', 'text/html', '<script type="module" src="/console/app.js">');
    await page('console page without the slash', '/console', 'text/html', '<script type="module" src="/console/app.js">');
    await page('console script', '/console/app.js', 'application/javascript', '/api/admin/summary');
    await page('console styles', '/console/app.css', 'text/css', '.panel');
    // The OpenAPI document (a function whose file name has a dot: api/openapi.json.ts) and its reference page.
    await page('OpenAPI document', '/api/openapi.json', 'application/json', '"openapi":"3.1.0"');
    await page('API reference page', '/docs', 'text/html', '/docs/swagger-ui-bundle.js');
    await page('API reference script', '/docs/swagger-ui-bundle.js', 'application/javascript', 'SwaggerUIBundle');
    await check('admin summary', '/api/admin/summary', { headers: { authorization: `Bearer ${ADMIN_API_KEY}` } }, 200, (b) => b.queue?.depth !== undefined);
  } finally {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {}
  }
  if (failures.length > 0) {
    throw new Error(`vercel dev smoke test failed: ${failures.join(', ')}\n${output.slice(-3000)}`);
  }
  console.log('vercel dev smoke test passed');
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
