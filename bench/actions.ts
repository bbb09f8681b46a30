/**
 * npm run bench:actions: actions through the API, the provider sandbox playing Gmail, Calendar and
 * Salesforce, the embedded Postgres.
 *
 * 1. Throughput: 50 users, each a client that sends one action after another (email.send,
 *    calendar.create_event, crm.create in turn, each with a new Idempotency-Key) and waits for its
 *    answer, for BENCH_ACTIONS_SECONDS (default 20). The API runs in its own process and runs the
 *    actions in its kicked runner pass, as a Vercel function does. Reports actions a second, the
 *    answers (200 done, 202 still running) and request latency p50/p99.
 * 2. Exactly once under faults: BENCH_ACTIONS_FAULTY actions (default 300) of the 50 users submitted
 *    (202 at once), run by 3 runner processes of which one is SIGKILLed every 2 s and replaced, while
 *    20% of the providers' writes fail (5% refused with a 5xx, 10% applied and then answered with a
 *    5xx, 5% applied and never answered). Then every email, event and record in the sandbox is counted
 *    per action: duplicates (more than one) must be 0, and so must missing ones.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import type { Sandbox } from '../dev/sandbox/index';
import { forkApi, startBenchApp, type ApiProcess } from './app';
import { round, saveResult } from './harness';

const USERS = 50;
const SECONDS = Number(process.env.BENCH_ACTIONS_SECONDS ?? 20);
const FAULTY_ACTIONS = Number(process.env.BENCH_ACTIONS_FAULTY ?? 300);
const RUNNERS = 3;
const KILL_EVERY_MS = 2_000;
const TOOLS = ['email.send', 'calendar.create_event', 'crm.create'] as const;
type Tool = (typeof TOOLS)[number];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** One action's request: its path and body, marked with `tag` so that its side effect can be found. */
function request(tool: Tool, tag: string, n: number): { path: string; body: unknown } {
  if (tool === 'email.send') return { path: '/api/emails/send', body: { to: ['someone@example.com'], subject: tag, text: `Bench email ${n}` } };
  if (tool === 'calendar.create_event') {
    const start = Date.UTC(2031, 0, 1) + n * 3_600_000;
    return {
      path: '/api/calendar/events',
      body: { summary: tag, start: { dateTime: new Date(start).toISOString() }, end: { dateTime: new Date(start + 1_800_000).toISOString() } },
    };
  }
  return { path: '/api/crm/lead', body: { LastName: tag, Company: 'Bench Inc' } };
}

/** Every process the bench started: none outlives it, even when it fails. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** CPU seconds a process has used (Linux /proc; null elsewhere). */
function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

async function startApi(env: Record<string, string>): Promise<ApiProcess & { pid: number }> {
  const api = await forkApi(env);
  children.add(api.child);
  return { ...api, pid: api.child.pid! };
}

/** A runner process; `ready` once it runs jobs. */
function startRunner(): { child: ChildProcess; ready: Promise<void> } {
  const child = fork(new URL('./actions-runner.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    // A runner holds what it claimed until its lease lapses when it is killed: claim a few at a time.
    env: { ...process.env, JOBS_RUNNER_CONCURRENCY: '16', JOBS_RUNNER_BATCH_SIZE: '8' },
    stdio: 'inherit',
  });
  children.add(child);
  const ready = new Promise<void>((resolve) => child.once('message', () => resolve()));
  return { child, ready };
}

async function main() {
  const bench = await startBenchApp('actions', {
    NODE_ENV: 'production',
    // What is measured is the actions, not the API's limiter nor the per-user send rate.
    RATE_LIMIT_PER_MINUTE: '100000',
    GMAIL_SENDS_PER_MINUTE: '10000',
    WEBHOOK_KICK_RUNNER: 'false',
    DATABASE_POOL_MAX: '20',
    JOBS_RUNNER_CONCURRENCY: '64',
    JOBS_LEASE_S: '5',
    JOBS_BACKOFF_BASE_MS: '200',
    JOBS_BACKOFF_MAX_MS: '2000',
    PROVIDER_TIMEOUT_MS: '2000',
  });
  const { sandbox, databaseUrl } = bench;

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const users = Array.from({ length: USERS }, (_, i) => `bench-user-${i}`);
  const tokens = new Map<string, string>();
  for (const user of users) {
    sandbox.ensureUser(user, { gmailThreads: 3, calendarEvents: 3, leads: 3, contacts: 0, accounts: 1, opportunities: 0 });
    const ids = sandbox.connectionIds(user);
    await client.query(
      `INSERT INTO connections (user_id, provider, nango_connection_id, provider_config_key)
       VALUES ($1, 'gmail', $2, 'google-mail'), ($1, 'calendar', $3, 'google-calendar'), ($1, 'salesforce', $4, 'salesforce')`,
      [user, ids.gmail, ids.calendar, ids.salesforce],
    );
    tokens.set(user, await sandbox.mintIdToken(user));
  }

  const post = async (
    url: string,
    user: string,
    path: string,
    body: unknown,
    key: string = randomUUID(),
  ): Promise<{ status: number; ms: number; actionId?: number; answer: unknown }> => {
    const started = performance.now();
    const response = await fetch(url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.get(user)}`, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { action?: { id: number } };
    return { status: response.status, ms: performance.now() - started, actionId: answer.action?.id, answer };
  };

  // 1. Throughput and latency.
  const api = await startApi({ ACTIONS_KICK_RUNNER: 'true', ACTIONS_WAIT_MS: '10000' });
  for (const tool of TOOLS) {
    const warm = request(tool, `warm-${tool}`, 0);
    const answer = await post(api.url, users[0]!, warm.path, warm.body);
    if (answer.status !== 200) throw new Error(`warm-up ${tool} answered ${answer.status}: ${JSON.stringify(answer.answer)}`);
  }
  // One at a time: what a single action costs end to end (request, job, provider calls, commit).
  const sequential: number[] = [];
  for (let n = 0; n < 30; n++) {
    const tool = TOOLS[n % TOOLS.length]!;
    const { path, body } = request(tool, `single-${n}`, n);
    const answer = await post(api.url, users[1]!, path, body);
    if (answer.status !== 200) throw new Error(`${tool} answered ${answer.status}`);
    sequential.push(answer.ms);
  }
  sequential.sort((a, b) => a - b);
  const unloaded = { p50: round(percentile(sequential, 50), 0), p99: round(percentile(sequential, 99), 0) };
  console.log(`one at a time: p50 ${unloaded.p50} ms, p99 ${unloaded.p99} ms`);

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const byTool: Record<string, number> = {};
  const load = loadavg()[0]!;
  const commits = async () => Number((await client.query(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`)).rows[0].xact_commit);
  const commitsBefore = await commits();
  const apiCpuBefore = cpuSeconds(api.pid);
  const ownCpuBefore = process.cpuUsage();
  const started = Date.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    users.map(async (user, u) => {
      for (let n = 0; Date.now() < until; n++) {
        const tool = TOOLS[(u + n) % TOOLS.length]!;
        const { path, body } = request(tool, `load-${user}-${n}`, n);
        const answer = await post(api.url, user, path, body);
        latencies.push(answer.ms);
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status === 200) byTool[tool] = (byTool[tool] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  const apiCpu = apiCpuBefore === null ? null : cpuSeconds(api.pid)! - apiCpuBefore;
  const ownCpu = process.cpuUsage(ownCpuBefore);
  // Transactions (an autocommit statement is one): the database's share of an action.
  const transactions = (await commits()) - commitsBefore;
  await api.stop();
  latencies.sort((a, b) => a - b);
  const done = statuses[200] ?? 0;
  const throughput = {
    unloadedLatencyMs: unloaded,
    users: USERS,
    durationSeconds: round(elapsed, 1),
    requests: latencies.length,
    actionsDone: done,
    actionsPerSecond: round(done / elapsed, 1),
    byTool,
    answers: statuses,
    latencyMs: { p50: round(percentile(latencies, 50), 0), p99: round(percentile(latencies, 99), 0), max: round(latencies.at(-1) ?? 0, 0) },
    // The machine is shared: what the work itself cost says more than the wall clock under a heavy load.
    cpuMsPerAction: {
      api: apiCpu === null ? null : round((apiCpu * 1000) / Math.max(1, done), 1),
      sandboxAndClients: round((ownCpu.user + ownCpu.system) / 1000 / Math.max(1, done), 1),
    },
    databaseTransactionsPerAction: round(transactions / Math.max(1, done), 1),
    loadAverageAtStart: round(load, 1),
  };
  console.log(
    `throughput: ${throughput.actionsPerSecond} actions/s done in the request (${done} of ${latencies.length} answered 200), ` +
      `p50 ${throughput.latencyMs.p50} ms, p99 ${throughput.latencyMs.p99} ms; answers ${JSON.stringify(statuses)}; ` +
      `CPU per action: API ${throughput.cpuMsPerAction.api} ms, sandbox and clients ${throughput.cpuMsPerAction.sandboxAndClients} ms; ` +
      `${throughput.databaseTransactionsPerAction} database transactions per action (load average ${throughput.loadAverageAtStart})`,
  );

  // 2. Exactly once with faults and killed runners.
  const faulty = { errorRate: 0.05, errorAfterApplyRate: 0.1, hangAfterApplyRate: 0.05, hangMs: 10_000 };
  for (const provider of ['gmail', 'calendar', 'salesforce'] as const) sandbox.setFaults(provider, faulty);
  const submitting = await startApi({ ACTIONS_KICK_RUNNER: 'false', ACTIONS_WAIT_MS: '0' });
  const submitted: { actionId: number; user: string; tool: Tool; tag: string; key: string; path: string; body: unknown }[] = [];
  for (let n = 0; n < FAULTY_ACTIONS; n++) {
    const user = users[n % USERS]!;
    const tool = TOOLS[n % TOOLS.length]!;
    const tag = `faulty-${n}`;
    const key = randomUUID();
    const { path, body } = request(tool, tag, 1_000 + n);
    const answer = await post(submitting.url, user, path, body, key);
    if (answer.status !== 202 || !answer.actionId) throw new Error(`submitting ${tool} answered ${answer.status}`);
    submitted.push({ actionId: answer.actionId, user, tool, tag, key, path, body });
  }

  const faultStarted = Date.now();
  // Runners that are working (they have started); a killed one is replaced at once.
  const working: ChildProcess[] = [];
  const launch = () => {
    const runner = startRunner();
    void runner.ready.then(() => working.push(runner.child));
  };
  for (let i = 0; i < RUNNERS; i++) launch();
  let killed = 0;
  const open = async () => Number((await client.query(`SELECT count(*) AS n FROM actions WHERE status IN ('queued', 'running')`)).rows[0].n);
  let stopKilling = false;
  const killer = (async () => {
    while (!stopKilling) {
      await sleep(KILL_EVERY_MS);
      if (stopKilling || working.length === 0) continue;
      const victim = working.splice(Math.floor(Math.random() * working.length), 1)[0]!;
      victim.kill('SIGKILL');
      killed++;
      launch();
    }
  })();
  // Kill runners while a tenth of the actions or more are left; then let the last ones finish.
  while ((await open()) > FAULTY_ACTIONS / 10 && Date.now() - faultStarted < 240_000) await sleep(250);
  stopKilling = true;
  await killer;
  for (const provider of ['gmail', 'calendar', 'salesforce'] as const) sandbox.setFaults(provider, {});
  // Actions whose jobs died (runners killed while holding them, attempt after attempt) are failed as 503
  // when read; a client sends the same request again, and it resumes.
  let askedAgain = 0;
  while (Date.now() - faultStarted < 600_000) {
    const left = await open();
    const abandoned = (
      await client.query(`
        SELECT a.id FROM actions a LEFT JOIN jobs j ON j.id = a.job_id
        WHERE (a.status IN ('queued', 'running') AND j.status = 'dead') OR (a.status = 'failed' AND (a.error->>'status')::int = 503)`)
    ).rows;
    for (const { id } of abandoned) {
      const action = submitted.find((s) => s.actionId === Number(id))!;
      const answer = await post(submitting.url, action.user, action.path, action.body, action.key);
      if (answer.status !== 503 && answer.status !== 202 && answer.status !== 200) throw new Error(`asking again answered ${answer.status}`);
      askedAgain++;
    }
    if (left === 0 && abandoned.length === 0) break;
    await sleep(250);
  }
  await submitting.stop();
  const faultSeconds = (Date.now() - faultStarted) / 1000;
  for (const child of children) child.kill('SIGKILL');

  const outcomes = (await client.query(`SELECT status, count(*)::int AS n FROM actions WHERE id = ANY($1) GROUP BY status`, [submitted.map((s) => s.actionId)])).rows;
  let duplicates = 0;
  let missing = 0;
  for (const action of submitted) {
    const count = sideEffects(sandbox, action.user, action.tool, action.tag);
    if (count > 1) duplicates += count - 1;
    if (count === 0) missing++;
  }
  const orphanDrafts = users.reduce((sum, user) => sum + sandbox.gmail.draftIds(user).size, 0);
  const injected = Object.fromEntries((['gmail', 'calendar', 'salesforce'] as const).map((p) => [p, sandbox.faultStats(p)]));
  const exactlyOnce = {
    actions: FAULTY_ACTIONS,
    faults: '20% of provider writes: 5% refused with a 5xx, 10% applied then answered 5xx, 5% applied then never answered',
    runners: RUNNERS,
    runnersKilled: killed,
    askedAgain,
    seconds: round(faultSeconds, 1),
    outcomes: Object.fromEntries(outcomes.map((o) => [o.status, o.n])),
    duplicates,
    missing,
    orphanDrafts,
    injected,
  };
  console.log(
    `exactly once: ${FAULTY_ACTIONS} actions, ${killed} runners killed, ${askedAgain} asked again, outcomes ${JSON.stringify(exactlyOnce.outcomes)}; ` +
      `duplicates ${duplicates}, missing ${missing}, drafts left ${orphanDrafts}`,
  );

  await client.end();
  saveResult('actions.json', { ...(await bench.resultHeader()), throughput, exactlyOnce });
  await bench.stop();
  if (duplicates > 0) process.exit(2);
}

/** How many emails, events or records the sandbox holds for one action's tag (exactly once: 1). */
function sideEffects(sandbox: Sandbox, user: string, tool: Tool, tag: string): number {
  if (tool === 'email.send') {
    return (sandbox.gmail.listMessages(user, { labelIds: ['SENT'], q: `subject:"${tag}"`, maxResults: 500 }).messages ?? []).filter(
      (m) => sandbox.gmail.getMessage(user, m.id, 'metadata').payload?.headers.find((h) => h.name === 'Subject')?.value === tag,
    ).length;
  }
  if (tool === 'calendar.create_event') return sandbox.calendar.events(user).filter((e) => e.summary === tag && e.status !== 'cancelled').length;
  return sandbox.salesforce.ids(user, 'Lead').filter((id) => sandbox.salesforce.getRecord(user, 'Lead', id)!.LastName === tag).length;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
