/**
 * npm run bench:capacity: what a user costs, measured on a simulated population, and what 1,000, 10,000
 * and 100,000 users need (seed 001's capacity planning, measured instead of guessed).
 *
 * 1. Onboarding: USERS sandbox users with realistic mailboxes, calendars and CRMs connect all three
 *    providers (Nango's auth webhooks, through the API); the runner (the cron's `runJobs()`) backfills
 *    them. Measured: Postgres bytes per mail thread, event, CRM record and timeline row, jobs and
 *    provider calls (Gmail quota units, Calendar and Salesforce requests) per user, runner seconds.
 * 2. Steady state: HOURS simulated hours; each hour every user gets the PROFILE's changes (new mail and
 *    replies, calendar changes, CRM updates), Nango's sync webhooks announce them, and the runner syncs
 *    them. Measured per user-hour: jobs, provider calls, runner seconds, Postgres CPU and bytes added.
 * 3. Fairness: FAIR_USERS users with one job each queued behind one user with FAIR_USERS jobs; the
 *    claims a light user waits before its job is claimed, at the defaults.
 *
 * The projection (README "Capacity") multiplies the measured costs by stated rates: the sync-stale
 * cron's hourly floor per stream (SYNC_STALE_AFTER_MINUTES 60), the retention defaults, Vercel Cron's
 * pass each minute. BENCH_CAPACITY_USERS / _HOURS / _FAIR_USERS change the run (result to capacity.tmp.json).
 */
import { loadavg } from 'node:os';
import pg from 'pg';
import { authPayload, PROVIDER_CONFIG_KEYS, startSandbox, syncSuccessPayload, SYNCS, type SandboxSizes } from '../dev/sandbox/index';
import { machine, round, saveResult, startBenchServer } from './harness';

const SIGNING_KEY = 'bench-capacity-signing-key';
const CUSTOM = ['BENCH_CAPACITY_USERS', 'BENCH_CAPACITY_HOURS', 'BENCH_CAPACITY_FAIR_USERS'].some((name) => process.env[name]);
const USERS = Number(process.env.BENCH_CAPACITY_USERS ?? 6);
const HOURS = Number(process.env.BENCH_CAPACITY_HOURS ?? 8);
const FAIR_USERS = Number(process.env.BENCH_CAPACITY_FAIR_USERS ?? 10_000);

/** A user's data at onboarding, the sandbox's generator filling it with realistic mail, events and records. */
const SIZES: Required<SandboxSizes> = { gmailThreads: 1_000, calendarEvents: 300, leads: 200, contacts: 200, accounts: 50, opportunities: 50 };
/** What a working hour brings one user (the seed's ~100 mails and ~20 calendar changes a day, over ~10 hours). */
const PROFILE = { newThreads: 6, replies: 4, eventsAdded: 1, eventsMoved: 1, leadsUpdated: 2, opportunitiesUpdated: 1 };
const WORKING_HOURS_PER_DAY = 10;

/** Google's published per-project quotas (developers.google.com/workspace/gmail/api/reference/quota). */
const GMAIL_PROJECT_UNITS_PER_MINUTE = 1_200_000;

type Usage = Record<'gmail' | 'calendar' | 'salesforce', { totalUnits: number; requests: number }>;

async function main() {
  const server = await startBenchServer();
  const sandbox = await startSandbox({ port: 0, webhookSigningKey: SIGNING_KEY, nangoSecretKey: 'bench', firebaseProjectId: 'bench' });
  const databaseUrl = await server.freshDatabase('bench_capacity');
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    NANGO_HOST: sandbox.url,
    GOOGLE_API_ROOT_URL: sandbox.url,
    NANGO_SECRET_KEY: 'bench',
    NANGO_WEBHOOK_SIGNING_KEY: SIGNING_KEY,
    FIREBASE_PROJECT_ID: 'bench',
    // The runner passes are the bench's own, timed one by one.
    WEBHOOK_KICK_RUNNER: 'false',
    LOG_LEVEL: 'silent',
  });
  const { runMigrations } = await import('../db/migrate');
  await runMigrations(databaseUrl);
  const { startServer } = await import('../dev/server');
  const { runJobs } = await import('../lib/worker/runner');
  const { closeDb } = await import('../lib/database');
  const { config } = await import('../lib/config');
  const app = await startServer({ port: 0 });
  const webhookUrl = `${app.url}/api/webhooks/nango`;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const one = async <T>(text: string): Promise<T> => (await client.query(text)).rows[0] as T;
  const load = [loadavg()[0]!];

  /** Passes as the cron runs them until nothing is queued or running; their summed wall time. */
  async function drain(): Promise<number> {
    let ms = 0;
    for (;;) {
      const started = performance.now();
      await runJobs();
      ms += performance.now() - started;
      const { open } = await one<{ open: number }>(`SELECT count(*)::int AS open FROM jobs WHERE status IN ('queued', 'running')`);
      if (open === 0) return ms;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const usage = (): Usage => {
    const all = sandbox.quotaUsage();
    const sum: Usage = { gmail: { totalUnits: 0, requests: 0 }, calendar: { totalUnits: 0, requests: 0 }, salesforce: { totalUnits: 0, requests: 0 } };
    for (const user of Object.values(all)) {
      for (const provider of ['gmail', 'calendar', 'salesforce'] as const) {
        sum[provider].totalUnits += user[provider].totalUnits;
        sum[provider].requests += user[provider].requests;
      }
    }
    return sum;
  };
  const minus = (a: Usage, b: Usage) =>
    Object.fromEntries((['gmail', 'calendar', 'salesforce'] as const).map((p) => [p, { units: a[p].totalUnits - b[p].totalUnits, requests: a[p].requests - b[p].requests }])) as Record<
      keyof Usage,
      { units: number; requests: number }
    >;
  const jobsDone = async () => (await one<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE status = 'succeeded'`)).n;
  const databaseBytes = async () => Number((await one<{ bytes: string }>(`SELECT pg_database_size(current_database()) AS bytes`)).bytes);

  // 1. Onboarding.
  const users = Array.from({ length: USERS }, (_, i) => `cap-${i}`);
  const bytesBefore = await databaseBytes();
  for (const user of users) {
    sandbox.ensureUser(user, SIZES);
    for (const provider of ['gmail', 'calendar', 'salesforce'] as const) {
      const response = await sandbox.sendWebhook(
        webhookUrl,
        authPayload({ connectionId: sandbox.connectionIds(user)[provider], providerConfigKey: PROVIDER_CONFIG_KEYS[provider], endUser: { endUserId: user } }),
      );
      if (response.status !== 202) throw new Error(`auth webhook answered ${response.status}`);
    }
  }
  let usageBefore = usage();
  let cpuBefore = await server.cpuMs();
  const onboardingMs = await drain();
  const failed = (await client.query(`SELECT kind, status, last_error FROM jobs WHERE status <> 'succeeded' LIMIT 5`)).rows;
  if (failed.length > 0) throw new Error(`onboarding left jobs unsucceeded: ${JSON.stringify(failed)}`);
  const onboarding = {
    runnerSecondsPerUser: round(onboardingMs / 1000 / USERS, 2),
    postgresCpuSecondsPerUser: round(((await server.cpuMs()) - cpuBefore) / 1000 / USERS, 2),
    jobsPerUser: round((await jobsDone()) / USERS, 1),
    providerPerUser: perUser(minus(usage(), usageBefore), USERS),
    bytesPerUser: Math.round(((await databaseBytes()) - bytesBefore) / USERS),
  };
  await client.query('VACUUM ANALYZE');
  const tables = (
    await client.query<{ name: string; bytes: string; rows: string }>(`
      SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes, s.n_live_tup AS rows
      FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid
      WHERE c.relname IN ('email_threads', 'email_messages', 'calendar_events', 'crm_records', 'interactions', 'events', 'jobs', 'sync_states', 'webhook_events')`)
  ).rows.map((row) => ({ table: row.name, rows: Number(row.rows), bytesPerRow: Number(row.rows) ? Math.round(Number(row.bytes) / Number(row.rows)) : null }));
  console.log('onboarding', JSON.stringify(onboarding));
  console.table(tables);

  // 2. Steady state.
  const succeededBefore = await jobsDone();
  usageBefore = usage();
  cpuBefore = await server.cpuMs();
  const steadyBytesBefore = await databaseBytes();
  let steadyMs = 0;
  let webhooks = 0;
  for (let hour = 0; hour < HOURS; hour++) {
    for (const user of users) {
      const threads: string[] = [];
      for (let i = 0; i < PROFILE.newThreads; i++) {
        threads.push(sandbox.gmail.addMessage(user, { from: `Sender ${hour}-${i} <s${hour}x${i}@example.com>`, subject: `Hour ${hour} note ${i}`, text: 'A new message.' }).threadId);
      }
      for (let i = 0; i < PROFILE.replies; i++) {
        sandbox.gmail.addMessage(user, { from: `Replier <r${i}@example.com>`, threadId: threads[i % threads.length]!, text: 'A reply.' });
      }
      for (let i = 0; i < PROFILE.eventsAdded; i++) {
        const start = Date.now() + (hour + 24) * 3_600_000;
        sandbox.calendar.addEvent(user, { summary: `Meeting ${hour}`, start: { dateTime: new Date(start).toISOString() }, end: { dateTime: new Date(start + 1_800_000).toISOString() } });
      }
      const events = sandbox.calendar.events(user).filter((event) => event.status !== 'cancelled' && !event.recurrence && !event.recurringEventId && event.start?.dateTime);
      for (let i = 0; i < PROFILE.eventsMoved; i++) sandbox.calendar.moveEvent(user, events[(hour * 7 + i) % events.length]!.id, 30);
      const leads = sandbox.salesforce.ids(user, 'Lead');
      for (let i = 0; i < PROFILE.leadsUpdated; i++) sandbox.salesforce.updateRecord(user, 'Lead', leads[(hour * 3 + i) % leads.length]!, { Status: 'Working - Contacted' });
      const opportunities = sandbox.salesforce.ids(user, 'Opportunity');
      for (let i = 0; i < PROFILE.opportunitiesUpdated; i++) sandbox.salesforce.updateRecord(user, 'Opportunity', opportunities[(hour + i) % opportunities.length]!, { StageName: 'Negotiation/Review' });
      // What Nango's syncs announce after their runs found the changes: one webhook per changed model.
      const announced = [
        { provider: 'gmail', ...SYNCS.gmail },
        { provider: 'calendar', ...SYNCS.calendar },
        { provider: 'salesforce', ...SYNCS.salesforce.Lead },
        { provider: 'salesforce', ...SYNCS.salesforce.Opportunity },
      ] as const;
      for (const { provider, syncName, model } of announced) {
        const response = await sandbox.sendWebhook(
          webhookUrl,
          syncSuccessPayload({ connectionId: sandbox.connectionIds(user)[provider], providerConfigKey: PROVIDER_CONFIG_KEYS[provider], syncName, model, modifiedAfter: new Date(Date.now() - 3_600_000 + hour) }),
        );
        if (response.status !== 202) throw new Error(`sync webhook answered ${response.status}`);
        webhooks++;
      }
    }
    steadyMs += await drain();
    load.push(loadavg()[0]!);
  }
  const userHours = USERS * HOURS;
  const steady = {
    webhooksPerUserHour: round(webhooks / userHours, 2),
    jobsPerUserHour: round(((await jobsDone()) - succeededBefore) / userHours, 2),
    runnerSecondsPerUserHour: round(steadyMs / 1000 / userHours, 3),
    postgresCpuSecondsPerUserHour: round(((await server.cpuMs()) - cpuBefore) / 1000 / userHours, 3),
    providerPerUserHour: perUser(minus(usage(), usageBefore), userHours),
    bytesPerUserHour: Math.round(((await databaseBytes()) - steadyBytesBefore) / userHours),
  };
  console.log('steady state', JSON.stringify(steady));
  const streams = Number((await one<{ n: number }>(`SELECT count(*)::int AS n FROM sync_states`)).n) / USERS;
  const idlePass = await timeIdlePasses(runJobs);
  await app.close();
  await client.end();
  await closeDb();

  // 3. Fairness.
  const fairness = await measureFairness(await server.freshDatabase('bench_capacity_fairness'), config().JOBS_PER_USER_RUNNING_CAP, config().JOBS_RUNNER_BATCH_SIZE);
  console.log('fairness', JSON.stringify(fairness));

  const projection = project({ onboarding, steady, streamsPerUser: streams, idlePassSeconds: idlePass, settings: config() });
  console.table(projection.rows);

  saveResult(CUSTOM ? 'capacity.tmp.json' : 'capacity.json', {
    date: new Date().toISOString(),
    ...machine(),
    postgres: await server.postgresVersion(),
    loadAverage: { start: round(load[0]!, 1), end: round(load.at(-1)!, 1) },
    users: USERS,
    hours: HOURS,
    sizes: SIZES,
    profile: PROFILE,
    onboarding,
    tables,
    steady,
    streamsPerUser: streams,
    idlePassSeconds: idlePass,
    fairness,
    projection,
  });
  await server.stop();
  await sandbox.close();
}

function perUser(usage: Record<string, { units: number; requests: number }>, divisor: number) {
  return Object.fromEntries(Object.entries(usage).map(([provider, u]) => [provider, { units: round(u.units / divisor, 1), requests: round(u.requests / divisor, 1) }]));
}

/** What a cron pass costs when there is nothing to do: most of the 1,440 passes a day on a quiet deployment. */
async function timeIdlePasses(runJobs: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await runJobs();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return round(times[10]! / 1000, 4);
}

/**
 * FAIR_USERS light users with one job each, queued after a heavy user's FAIR_USERS jobs, claimed at the
 * defaults' batch and cap; returns how many claims the light users waited for (max and p99).
 */
async function measureFairness(databaseUrl: string, perUserCap: number, batchSize: number) {
  const { runMigrations } = await import('../db/migrate');
  await runMigrations(databaseUrl);
  const { createDatabase } = await import('../db/client');
  const { claim, settle } = await import('../lib/jobs');
  const database = createDatabase({ connectionString: databaseUrl, max: 2, connectionTimeoutMillis: 10_000, statementTimeoutMillis: 60_000, idleTimeoutMillis: 10_000 });
  const pool = database.pool;
  await pool.query(`
    INSERT INTO job_users (user_id) SELECT 'heavy' UNION ALL SELECT 'light-' || i FROM generate_series(1, ${FAIR_USERS}) i;
    INSERT INTO jobs (kind, user_id, payload, created_at, run_at)
      SELECT 'noop', 'heavy', '{}', now() - interval '1 hour', now() - interval '1 hour' FROM generate_series(1, ${FAIR_USERS});
    INSERT INTO jobs (kind, user_id, payload) SELECT 'noop', 'light-' || i, '{}' FROM generate_series(1, ${FAIR_USERS}) i;
    ANALYZE jobs; ANALYZE job_users;`);
  const firstClaim = new Map<string, number>();
  let claims = 0;
  let heavyBeforeLastLight = 0;
  const started = performance.now();
  while (firstClaim.size < FAIR_USERS + 1) {
    const batch = await claim(database.db, { runnerId: 'fairness', limit: batchSize, leaseSeconds: 60, perUserCap });
    if (batch.length === 0) break;
    for (const job of batch) {
      claims++;
      if (!firstClaim.has(job.userId)) firstClaim.set(job.userId, claims);
      if (job.userId === 'heavy' && firstClaim.size < FAIR_USERS + 1) heavyBeforeLastLight++;
    }
    await settle(database.db, 'fairness', batch.map((job) => ({ id: job.id, attempt: job.attempts, outcome: 'succeeded' as const })));
  }
  const waits = [...firstClaim].filter(([user]) => user !== 'heavy').map(([, at]) => at).sort((a, b) => a - b);
  await database.close();
  return {
    lightUsers: FAIR_USERS,
    heavyUserJobs: FAIR_USERS,
    perUserCap,
    batchSize,
    claimsUntilEveryLightUserStarted: claims,
    lightUserWaitClaims: { p50: waits[Math.floor(waits.length / 2)] ?? null, p99: waits[Math.floor(waits.length * 0.99)] ?? null, max: waits.at(-1) ?? null },
    heavyJobsClaimedMeanwhile: heavyBeforeLastLight,
    seconds: round((performance.now() - started) / 1000, 1),
  };
}

interface Measured {
  onboarding: { runnerSecondsPerUser: number; jobsPerUser: number; providerPerUser: Record<string, { units: number; requests: number }>; bytesPerUser: number };
  steady: { jobsPerUserHour: number; runnerSecondsPerUserHour: number; providerPerUserHour: Record<string, { units: number; requests: number }>; bytesPerUserHour: number };
  streamsPerUser: number;
  idlePassSeconds: number;
  settings: { JOBS_RETENTION_DAYS: number; DATABASE_POOL_MAX: number; SYNC_STALE_AFTER_MINUTES: number };
}

/**
 * A day of a user: WORKING_HOURS_PER_DAY hours as measured, and in the other hours the sync-stale cron's
 * floor (every stream once an hour, an incremental sync that finds nothing). Onboarding spread over a
 * month (a thirtieth of the users a day), as a growing product sees it.
 */
function project(m: Measured) {
  const quietHours = 24 - WORKING_HOURS_PER_DAY;
  const floorJobsPerHour = (m.streamsPerUser * 60) / m.settings.SYNC_STALE_AFTER_MINUTES;
  const jobsPerDay = m.steady.jobsPerUserHour * WORKING_HOURS_PER_DAY + floorJobsPerHour * quietHours;
  // A sync that finds nothing costs about what a steady job costs, less its writes: an upper bound.
  const secondsPerJob = m.steady.runnerSecondsPerUserHour / Math.max(m.steady.jobsPerUserHour, 1e-9);
  const runnerSecondsPerDay = jobsPerDay * secondsPerJob;
  const gmailUnitsPerDay = m.steady.providerPerUserHour.gmail!.units * WORKING_HOURS_PER_DAY + quietHours * 2; // history.list: 2 units
  const storedBytes = m.onboarding.bytesPerUser + m.steady.bytesPerUserHour * WORKING_HOURS_PER_DAY * 30; // a month of mail
  const rows = [1_000, 10_000, 100_000].map((users) => {
    const runnerSeconds = users * runnerSecondsPerDay + 1_440 * m.idlePassSeconds;
    const busyInstances = runnerSeconds / 86_400;
    const onboardingPerDay = users / 30;
    const gmailUnitsPerMinute = (users * gmailUnitsPerDay) / (WORKING_HOURS_PER_DAY * 60) + (onboardingPerDay * m.onboarding.providerPerUser.gmail!.units) / (WORKING_HOURS_PER_DAY * 60);
    return {
      users,
      databaseGB: round((users * storedBytes) / 1e9, 1),
      jobsPerDay: Math.round(users * jobsPerDay),
      runnerFunctionSecondsPerDay: Math.round(runnerSeconds + onboardingPerDay * m.onboarding.runnerSecondsPerUser),
      concurrentRunners: Math.max(1, Math.ceil(busyInstances * 2)),
      postgresConnections: Math.max(1, Math.ceil(busyInstances * 2)) * m.settings.DATABASE_POOL_MAX + m.settings.DATABASE_POOL_MAX,
      cronPassesPerDay: 1_440,
      gmailUnitsPerMinuteAtPeak: Math.round(gmailUnitsPerMinute),
      gmailShareOfProjectQuota: round(gmailUnitsPerMinute / GMAIL_PROJECT_UNITS_PER_MINUTE, 4),
    };
  });
  return {
    perUserPerDay: { jobs: round(jobsPerDay, 1), runnerSeconds: round(runnerSecondsPerDay, 2), gmailUnits: Math.round(gmailUnitsPerDay), storedBytesAfterAMonth: Math.round(storedBytes) },
    assumptions: {
      workingHoursPerDay: WORKING_HOURS_PER_DAY,
      staleFloorJobsPerHour: floorJobsPerHour,
      onboardedPerDay: 'a thirtieth of the users',
      concurrentRunners: 'twice the busy time over the day, for peaks',
      postgresConnections: 'DATABASE_POOL_MAX per runner instance, plus one pool for the API',
      gmailProjectQuota: `${GMAIL_PROJECT_UNITS_PER_MINUTE} units a minute`,
    },
    rows,
  };
}

await main();
