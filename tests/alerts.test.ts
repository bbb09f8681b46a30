import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSlackStub, type SlackStub } from '../dev/slack-stub';
import { runAlerts } from '../lib/alerts';
import { slackNotifier } from '../lib/alerts/slack';
import { parseConfig } from '../lib/config';
import { hashUserId } from '../lib/observability/scrub';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { CRON_SECRET, startTestApp, type TestApp } from './helpers/server';

/**
 * The alerts against a local Slack (dev/slack-stub.ts): each of seed 001's conditions opens one
 * incident and one message, a repeat evaluation sends nothing, the clearing sends one recovery, a
 * failed post is retried, and overlapping evaluations never post twice.
 */
let database: TestDatabase;
let slack: SlackStub;

const thresholds = parseConfig({ ALERT_MIN_SAMPLES: '10', ALERT_WINDOW_MINUTES: '15' });

beforeAll(async () => {
  database = await createTestDatabase();
  slack = await startSlackStub({ botToken: 'xoxb-test-token' });
});
afterAll(async () => {
  await database?.destroy();
  await slack?.close();
});
beforeEach(async () => {
  await database.pool.query('TRUNCATE jobs, job_users, ops_metric_windows, alert_incidents, runs, units CASCADE');
  slack.messages.length = 0;
  slack.failNext(0);
});

const webhook = () => slackNotifier({ ...thresholds, SLACK_WEBHOOK_URL: slack.webhookUrl });
const run = (overrides: Partial<typeof thresholds> = {}, notifier = webhook()) =>
  runAlerts(database.db, { thresholds: { ...thresholds, ...overrides }, notifier, environment: 'test' });

/** One minute of counters, as the instances flush them. */
async function windows(rows: [metric: string, label: string, count: number, max?: number][]) {
  for (const [metric, label, count, max] of rows) {
    await database.pool.query(
      `INSERT INTO ops_metric_windows (metric, label, window_start, count, max) VALUES ($1, $2, date_trunc('minute', now()), $3, $4)
       ON CONFLICT (metric, label, window_start) DO UPDATE SET count = excluded.count, max = excluded.max`,
      [metric, label, count, max ?? 0],
    );
  }
}

async function seedEveryCondition() {
  const { pool } = database;
  await pool.query(`INSERT INTO jobs (kind, user_id) SELECT 'sync.gmail', 'heavy-user' FROM generate_series(1, 1001)`);
  await pool.query(`INSERT INTO jobs (kind, user_id, status, finished_at) VALUES ('sync.gmail', 'u', 'dead', now())`);
  await windows([
    ['provider_calls', 'gmail', 100],
    ['provider_errors', 'gmail', 6],
    ['provider_calls', 'calendar', 100],
    ['provider_errors', 'calendar', 5], // exactly 5%: not over
    ['job_outcomes', 'sync.salesforce:succeeded', 17],
    ['job_outcomes', 'sync.salesforce:retry', 3],
    ['job_outcomes', 'sync.gmail:succeeded', 50],
    ['job_outcomes', 'sync.gmail:deferred', 50], // checkpoints are not failures
    ['webhook_ms', '10', 80],
    ['webhook_ms', '1000', 20],
    ['circuit_open', 'salesforce', 2],
    ['pool_waiting', '', 12, 4],
  ]);
  const { rows } = await pool.query(`INSERT INTO units (user_id, name, prompt, compiled) VALUES ('u', 'n', 'p', '{}') RETURNING id`);
  await pool.query(
    `INSERT INTO runs (user_id, unit_id, event_type, facts, status, finished_at)
     SELECT 'u', $1, 'email.received', '{}', CASE WHEN i <= 3 THEN 'failed' ELSE 'completed' END, now() FROM generate_series(1, 20) i`,
    [rows[0].id],
  );
}

const EVERY_KEY = [
  `queue_depth_user:${hashUserId('heavy-user')}`,
  'provider_error_rate:gmail',
  'sync_failure_rate:sync.salesforce',
  'automation_failure_rate',
  'pool_exhaustion:instances',
  'webhook_p95',
  'circuit_open:salesforce',
  'dead_jobs_growing',
];

describe('alerts', () => {
  it('opens one incident per condition, tells Slack once, and once more when it clears', async () => {
    await seedEveryCondition();
    const first = await run();
    expect(first.failedRules).toEqual([]);
    expect(first.firing.sort()).toEqual([...EVERY_KEY].sort());
    expect(first.opened.sort()).toEqual([...EVERY_KEY].sort());
    expect(slack.messages).toHaveLength(EVERY_KEY.length);
    const text = slack.messages.map((m) => m.text).join('\n');
    expect(text).toContain(`queue_depth_user: user ${hashUserId('heavy-user')} has 1001 queued jobs (threshold 1000)`);
    expect(text).toContain('provider_error_rate: gmail: 6.0% of 100 requests failed');
    expect(text).toContain('sync.salesforce: 15.0% of 20 runs failed');
    expect(text).toContain('15.0% of 20 automation runs failed');
    // The 95th of 100 is three quarters into the (500, 1000] bucket.
    expect(text).toMatch(/webhook_p95: Nango webhooks p95 875 ms over 100 deliveries/);
    expect(text).not.toContain('heavy-user');

    // Still firing: nothing new.
    const second = await run();
    expect(second.opened).toEqual([]);
    expect(slack.messages).toHaveLength(EVERY_KEY.length);

    // Everything clears: one recovery each.
    await database.pool.query(`TRUNCATE jobs, job_users, ops_metric_windows, runs, units CASCADE`);
    const third = await run();
    expect(third.resolved.sort()).toEqual([...EVERY_KEY].sort());
    expect(slack.messages).toHaveLength(EVERY_KEY.length * 2);
    expect(slack.messages.slice(EVERY_KEY.length).every((m) => m.text.startsWith(':white_check_mark: [switchyard test] recovered after'))).toBe(true);
    await run();
    expect(slack.messages).toHaveLength(EVERY_KEY.length * 2);
  });

  it("alerts on the database's connections in use over max_connections", async () => {
    const summary = await run({ ALERT_DB_CONNECTIONS_RATIO: 0.0001 });
    expect(summary.firing).toEqual(['pool_exhaustion:server']);
    expect(slack.messages[0]!.text).toMatch(/pool_exhaustion: the database has [\d.]+% of max_connections in use/);
    await run({ ALERT_DB_CONNECTIONS_RATIO: 0.0001 });
    expect(slack.messages).toHaveLength(1);
    await run();
    expect(slack.messages[1]!.text).toMatch(/recovered after 1 min: pool_exhaustion \(pool_exhaustion:server\)/);
  });

  it('does not rate small samples', async () => {
    await windows([['provider_calls', 'gmail', 5], ['provider_errors', 'gmail', 5]]);
    expect((await run()).firing).toEqual([]);
  });

  it('retries a message Slack did not take, and posts it once', async () => {
    await database.pool.query(`INSERT INTO jobs (kind, user_id, status, finished_at) VALUES ('x', 'u', 'dead', now())`);
    slack.failNext(1);
    const first = await run();
    expect(first).toMatchObject({ opened: ['dead_jobs_growing'], notified: 0, notifyFailures: 1 });
    expect(slack.messages).toHaveLength(0);
    const second = await run();
    expect(second).toMatchObject({ opened: [], notified: 1, notifyFailures: 0 });
    expect(slack.messages).toHaveLength(1);
  });

  it('posts each message once when evaluations overlap', async () => {
    await seedEveryCondition();
    await Promise.all([run(), run(), run()]);
    expect(slack.messages).toHaveLength(EVERY_KEY.length);
    const { rows } = await database.pool.query(`SELECT count(*)::int AS n FROM alert_incidents WHERE resolved_at IS NULL`);
    expect(rows[0].n).toBe(EVERY_KEY.length);
  });

  it('posts with a bot token and a channel (chat.postMessage)', async () => {
    await database.pool.query(`INSERT INTO jobs (kind, user_id, status, finished_at) VALUES ('x', 'u', 'dead', now())`);
    const bot = slackNotifier({ ...thresholds, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_CHANNEL: '#ops', SLACK_API_URL: slack.apiUrl });
    await run({}, bot);
    expect(slack.messages).toEqual([expect.objectContaining({ via: 'chat.postMessage', channel: '#ops' })]);
    const wrong = slackNotifier({ ...thresholds, SLACK_BOT_TOKEN: 'xoxb-wrong', SLACK_CHANNEL: '#ops', SLACK_API_URL: slack.apiUrl });
    await expect(wrong!.post('x')).rejects.toThrow(/invalid_auth/);
  });
});

describe('GET /api/cron/alerts', () => {
  let app: TestApp;
  afterEach(async () => {
    await app?.close();
  });

  it('runs the rules with the cron secret, and only with it', async () => {
    app = await startTestApp({ SLACK_WEBHOOK_URL: slack.webhookUrl });
    await app.database.pool.query(`INSERT INTO jobs (kind, user_id, status, finished_at) VALUES ('x', 'u', 'dead', now())`);
    expect((await fetch(`${app.url}/api/cron/alerts`)).status).toBe(401);
    const response = await fetch(`${app.url}/api/cron/alerts`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ opened: ['dead_jobs_growing'], notified: 1, slack: 'incoming webhook' });
    expect(slack.messages.at(-1)!.text).toMatch(/dead_jobs_growing: 1 jobs went dead/);
  });
});
