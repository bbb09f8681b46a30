/**
 * npm run bench:automations
 *
 * 1. Webhook → run completed: mail arrives in the sandbox's Gmail, Nango's sync webhook is sent to the
 *    local server with the runner kicked (as in production: waitUntil(kick())), and the time until the
 *    unit's run is `completed` is measured (the sync, the matcher job and the run job all run).
 * 2. Matching cost: one user with 1,000 active units (varied prompts); the compiled conditions are
 *    evaluated for every event, in process (per event, all units) and through the matcher job's
 *    transaction (read, evaluate, write runs, mark matched) for 2,000 events.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { authPayload, syncSuccessPayload } from '../dev/sandbox/index';
import { startBenchApp } from './app';
import { machine, round, saveResult } from './harness';

const ROUNDS = Number(process.env.BENCH_AUTOMATION_ROUNDS ?? 40);
const UNITS = 1_000;
const MATCH_EVENTS = 2_000;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 1,000 prompts of the shapes people write: senders, domains, subjects, negations, ORs. */
function prompts(count: number): string[] {
  const shapes = [
    (i: number) => `when: email from:sender${i}@example.com then: do nothing`,
    (i: number) => `when: email from:@domain${i}.example subject:invoice then: do nothing`,
    (i: number) => `when: email subject:"order ${i}" -category:promotions then: do nothing`,
    (i: number) => `when: email (from:a${i}@x.example OR to:b${i}@y.example) has:attachment then: do nothing`,
    (i: number) => `when: email label:Project${i} is:unread then: do nothing`,
  ];
  return Array.from({ length: count }, (_, i) => shapes[i % shapes.length]!(i));
}

async function main() {
  const bench = await startBenchApp(
    'automations',
    {
      WEBHOOK_KICK_RUNNER: 'true',
      RATE_LIMIT_PER_MINUTE: '100000',
      AUTOMATIONS_MAX_RUNS_PER_UNIT_PER_HOUR: '100000',
      AUTOMATIONS_MAX_UNITS_PER_USER: String(UNITS + 10),
    },
    { seed: 3 },
  );
  const { server, sandbox, databaseUrl } = bench;
  const { startServer } = await import('../dev/server');
  const app = await startServer({ port: 0 });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const scalar = async <T>(text: string, values: unknown[] = []) => (await pool.query(text, values)).rows[0] as T;

  const settled = async (timeoutMs = 60_000) => {
    const end = Date.now() + timeoutMs;
    while ((await scalar<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE status IN ('queued', 'running')`)).n > 0) {
      if (Date.now() > end) throw new Error('jobs did not settle');
      await sleep(20);
    }
  };

  // ---- 1. webhook → run completed ----------------------------------------------------------------
  const user = 'bench-user';
  sandbox.ensureUser(user, { gmailThreads: 5 });
  const connectionId = `gmail-${user}`;
  const auth = await sandbox.sendWebhook(`${app.url}/api/webhooks/nango`, authPayload({ connectionId, providerConfigKey: 'google-mail', endUser: { endUserId: user } }));
  if (auth.status !== 202) throw new Error(`auth webhook answered ${auth.status}: ${await auth.text()}`);
  await settled();
  const token = await sandbox.mintIdToken(user);
  const created = await fetch(`${app.url}/api/units`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', prompt: 'when: email from:alerts@bench.example then: do nothing' }),
  });
  if (created.status !== 201) throw new Error(`unit creation answered ${created.status}: ${await created.text()}`);

  const latencies: number[] = [];
  for (let round_ = 0; round_ < ROUNDS; round_++) {
    const before = (await scalar<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE status = 'completed'`)).n;
    sandbox.gmail.addMessage(user, { from: 'alerts@bench.example', subject: `Alert ${round_}`, text: 'Disk almost full' });
    const started = performance.now();
    const response = await sandbox.sendWebhook(
      `${app.url}/api/webhooks/nango`,
      syncSuccessPayload({ connectionId, providerConfigKey: 'google-mail', syncName: 'emails', model: 'GmailEmail', modifiedAfter: new Date(Date.now() + round_) }),
    );
    if (response.status !== 202) throw new Error(`sync webhook answered ${response.status}`);
    while ((await scalar<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE status = 'completed'`)).n === before) {
      if (performance.now() - started > 30_000) throw new Error('no run completed within 30 s');
      await sleep(2);
    }
    latencies.push(performance.now() - started);
    await settled();
  }

  // ---- 2. matching cost with 1,000 active units --------------------------------------------------
  const { compilePrompt } = await import('../lib/automations/language/compile');
  const { matchFacts, matchesUnit } = await import('../lib/automations/language/evaluate');
  const { factsOf } = await import('../lib/automations/facts');
  const compiled = prompts(UNITS).map((p) => compilePrompt(p));
  const payloads = Array.from({ length: MATCH_EVENTS }, (_, i) => ({
    messageId: `m${i}`,
    threadId: `t${i}`,
    from: { name: 'Sender', address: `sender${i % 1500}@example.com` },
    to: [{ name: null, address: 'me@example.com' }],
    cc: [],
    subject: i % 3 === 0 ? `Invoice ${i}` : `Order ${i % 1000}`,
    snippet: 'Hello',
    hasAttachment: i % 2 === 0,
    labelIds: ['INBOX', 'UNREAD'],
    category: 'other',
    internalDate: new Date().toISOString(),
  }));
  let matched = 0;
  const inProcessStart = performance.now();
  for (const payload of payloads) {
    const facts = matchFacts(factsOf('email.received', payload));
    for (const unit of compiled) if (matchesUnit(unit, 'email.received', facts)) matched += 1;
  }
  const inProcessMsPerEvent = (performance.now() - inProcessStart) / MATCH_EVENTS;

  const matchUser = 'bench-matcher';
  await pool.query(
    `INSERT INTO units (user_id, name, prompt, compiled, status, activated_at)
     SELECT $1, 'u' || i, p, c::jsonb, 'active', now() - interval '1 minute'
     FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(p, c, i)`,
    [matchUser, prompts(UNITS), compiled.map((c) => JSON.stringify(c))],
  );
  await pool.query(
    `INSERT INTO events (user_id, type, provider_id, dedupe_key, payload)
     SELECT $1, 'email.received', 'm' || i, 'bench:' || i, p::jsonb FROM unnest($2::text[]) WITH ORDINALITY AS t(p, i)`,
    [matchUser, payloads.map((p) => JSON.stringify(p))],
  );
  const { db } = await import('../lib/database');
  const { matchUserEvents } = await import('../lib/automations/matcher');
  const matcherStart = performance.now();
  let runsMade = 0;
  while (true) {
    const outcome = await matchUserEvents(db(), matchUser, { batchSize: 500, maxRunsPerUnitPerHour: 1_000_000 });
    runsMade += outcome.runs;
    if (!outcome.more) break;
  }
  const matcherMsPerEvent = (performance.now() - matcherStart) / MATCH_EVENTS;

  const result = {
    machine: machine(),
    postgres: await server.postgresVersion(),
    webhookToRunCompleted: {
      rounds: ROUNDS,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
      maxMs: round(Math.max(...latencies)),
      note: 'signed sync webhook → sync job (Gmail history through the sandbox) → matcher job → run job → completed; runner kicked by the webhook',
    },
    matching: {
      activeUnits: UNITS,
      events: MATCH_EVENTS,
      inProcess: { msPerEvent: round(inProcessMsPerEvent, 3), usPerUnitEvaluation: round((inProcessMsPerEvent * 1000) / UNITS, 3), matches: matched },
      matcherJob: { msPerEvent: round(matcherMsPerEvent, 3), runsMade },
    },
  };
  console.log(JSON.stringify(result, null, 2));
  saveResult('automations.json', result);
  await pool.end();
  await app.close();
  const { closeDb } = await import('../lib/database');
  await closeDb();
  await bench.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
