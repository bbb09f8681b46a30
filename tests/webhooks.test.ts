import { beforeEach, describe, expect, it } from 'vitest';
import { authPayload, signWebhookBody, syncFailurePayload, syncSuccessPayload, SYNCS } from '../dev/sandbox/index';
import { SIGNING_KEY, useSandboxedApp } from './helpers/sandbox-app';

/** api/webhooks/nango.ts over real HTTP, with deliveries the sandbox signed as Nango does. */
const app = useSandboxedApp({ WEBHOOK_KICK_RUNNER: 'false' });
beforeEach(async () => {
  await app.database.pool.query('TRUNCATE jobs, job_users, webhook_events, connections CASCADE');
});

const count = async (table: string, where = 'true') =>
  (await app.database.pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`)).rows[0].n as number;

const ACCEPTED = { status: 'accepted', message: 'Webhook received and queued for processing' };

function connectGmail(userId = 'alice') {
  return app.webhook(
    authPayload({ connectionId: `gmail-${userId}`, providerConfigKey: 'google-mail', provider: 'google-mail', endUser: { endUserId: userId } }),
  );
}

function gmailSync(userId: string, i: number) {
  return syncSuccessPayload({
    connectionId: `gmail-${userId}`,
    providerConfigKey: 'google-mail',
    ...SYNCS.gmail,
    modifiedAfter: new Date(Date.UTC(2026, 10, 1, 0, 0, i)),
    responseResults: { added: i, updated: 0, deleted: 0 },
  });
}

async function post(body: string, headers: Record<string, string>) {
  return fetch(`${app.url}/api/webhooks/nango`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

describe('auth webhooks', () => {
  it('creation: records the delivery, upserts the connection, enqueues its initial backfill; 202', async () => {
    const response = await connectGmail('alice');
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual(ACCEPTED);
    const { rows: [connection] } = await app.database.pool.query(`SELECT * FROM connections`);
    expect(connection).toMatchObject({ user_id: 'alice', provider: 'gmail', nango_connection_id: 'gmail-alice', status: 'active' });
    const { rows: jobs } = await app.database.pool.query(`SELECT kind, user_id, payload, status FROM jobs`);
    expect(jobs).toEqual([
      { kind: 'sync.gmail', user_id: 'alice', status: 'queued', payload: { connectionId: Number(connection.id), stream: 'threads', mode: 'initial' } },
    ]);
    const { rows: [delivery] } = await app.database.pool.query(`SELECT type, status, error FROM webhook_events`);
    expect(delivery).toMatchObject({ type: 'auth', status: 'processed', error: null });
  });

  it('a Salesforce connection backfills each object', async () => {
    await app.webhook(authPayload({ connectionId: 'salesforce-bob', providerConfigKey: 'salesforce', endUser: { endUserId: 'bob' } }));
    const { rows } = await app.database.pool.query(`SELECT payload->>'stream' AS stream FROM jobs ORDER BY 1`);
    expect(rows.map((r) => r.stream)).toEqual(['Account', 'Contact', 'Lead', 'Opportunity']);
  });

  it('without an end user the delivery is kept as rejected, with the reason', async () => {
    const response = await app.webhook(authPayload({ connectionId: 'gmail-x', providerConfigKey: 'google-mail' }));
    expect(response.status).toBe(202);
    const { rows } = await app.database.pool.query(`SELECT status, error FROM webhook_events`);
    expect(rows).toEqual([{ status: 'rejected', error: 'the auth webhook names no end user, so the connection has no owner' }]);
    expect(await count('connections')).toBe(0);
  });

  it('a failed token refresh marks the connection in error', async () => {
    await connectGmail('alice');
    await app.webhook(
      authPayload({ connectionId: 'gmail-alice', providerConfigKey: 'google-mail', operation: 'refresh', success: false, endUser: { endUserId: 'alice' } }),
    );
    const { rows } = await app.database.pool.query(`SELECT status, last_error FROM connections`);
    expect(rows[0].status).toBe('error');
    expect(rows[0].last_error).toMatch(/^token refresh failed: /);
  });
});

describe('sync webhooks', () => {
  it('a burst of 100 sync webhooks for one connection and model leaves 1 queued job', async () => {
    await connectGmail('alice');
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => app.webhook(gmailSync('alice', i + 1))));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(202));
    expect(await count('jobs', `status = 'queued'`)).toBe(1);
    expect(await count('webhook_events')).toBe(101);
  });

  it('a redelivery of the same bytes adds 0 rows', async () => {
    await connectGmail('alice');
    const body = JSON.stringify(gmailSync('alice', 1));
    const headers = signWebhookBody(SIGNING_KEY, body) as unknown as Record<string, string>;
    expect((await post(body, headers)).status).toBe(202);
    const before = { events: await count('webhook_events'), jobs: await count('jobs') };
    const again = await post(body, headers);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(ACCEPTED);
    expect({ events: await count('webhook_events'), jobs: await count('jobs') }).toEqual(before);
  });

  it('enqueues an incremental sync once the earlier job is done', async () => {
    await connectGmail('alice');
    await app.database.pool.query(`UPDATE jobs SET status = 'succeeded'`);
    await app.webhook(gmailSync('alice', 1));
    const { rows } = await app.database.pool.query(`SELECT payload->>'mode' AS mode FROM jobs WHERE status = 'queued'`);
    expect(rows).toEqual([{ mode: 'incremental' }]);
  });

  it('while the sync runs, a sync webhook marks it to run once more instead of queueing a second job', async () => {
    await connectGmail('alice');
    await app.database.pool.query(`UPDATE jobs SET status = 'running', locked_by = 'r', locked_until = now() + interval '1 minute'`);
    await app.webhook(gmailSync('alice', 1));
    const { rows } = await app.database.pool.query(`SELECT status, rerun_requested_at IS NOT NULL AS rerun FROM jobs`);
    expect(rows).toEqual([{ status: 'running', rerun: true }]);
  });

  it('a paused connection records the delivery with the reason and starts no job; a deleted one rejects it', async () => {
    await connectGmail('alice');
    await app.database.pool.query(`UPDATE jobs SET status = 'succeeded'`);
    await app.database.pool.query(`UPDATE connections SET status = 'paused'`);
    await app.webhook(gmailSync('alice', 1));
    await app.database.pool.query(`UPDATE connections SET status = 'deleted'`);
    await app.webhook(gmailSync('alice', 2));
    const { rows } = await app.database.pool.query(`SELECT status, error FROM webhook_events WHERE type = 'sync' ORDER BY id`);
    expect(rows).toEqual([
      { status: 'processed', error: 'connection paused: no sync started' },
      { status: 'rejected', error: 'unknown connection "gmail-alice"' },
    ]);
    expect(await count('jobs', `status = 'queued'`)).toBe(0);
  });

  it('a failed sync is recorded on the stream state and starts no job', async () => {
    await connectGmail('alice');
    await app.database.pool.query(`UPDATE jobs SET status = 'succeeded'`);
    await app.webhook(
      syncFailurePayload({
        connectionId: 'gmail-alice',
        providerConfigKey: 'google-mail',
        ...SYNCS.gmail,
        error: { type: 'script_http_error', description: 'Gmail answered 500' },
      }),
    );
    const { rows } = await app.database.pool.query(`SELECT stream, last_error FROM sync_states`);
    expect(rows).toEqual([{ stream: 'threads', last_error: 'script_http_error: Gmail answered 500' }]);
    expect(await count('jobs', `status = 'queued'`)).toBe(0);
  });

  it('an unknown connection is 202 and kept as rejected with the reason', async () => {
    const response = await app.webhook(gmailSync('nobody', 1));
    expect(response.status).toBe(202);
    const { rows } = await app.database.pool.query(`SELECT status, error, nango_connection_id FROM webhook_events`);
    expect(rows).toEqual([{ status: 'rejected', error: 'unknown connection "gmail-nobody"', nango_connection_id: 'gmail-nobody' }]);
    expect(await count('jobs')).toBe(0);
  });
});

describe('bad deliveries', () => {
  const body = () => JSON.stringify(gmailSync('alice', 1));

  it('a wrong or missing signature is 401 and stores nothing', async () => {
    const wrong = await post(body(), { 'x-nango-hmac-sha256': 'a'.repeat(64) });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.code).toBe('unauthenticated');
    expect((await post(body(), {})).status).toBe(401);
    expect((await post(body(), { 'x-nango-hmac-sha256': 'not-hex' })).status).toBe(401);
    const otherKey = signWebhookBody('another-key', body()) as unknown as Record<string, string>;
    expect((await post(body(), otherKey)).status).toBe(401);
    expect(await count('webhook_events')).toBe(0);
  });

  it('a tampered body with a valid-looking header is 401', async () => {
    const original = body();
    const headers = signWebhookBody(SIGNING_KEY, original) as unknown as Record<string, string>;
    const tampered = original.replace('"added":1', '"added":9');
    expect(tampered).not.toBe(original);
    expect((await post(tampered, headers)).status).toBe(401);
    // Same JSON, other bytes (whitespace): the signature covers the exact bytes.
    expect((await post(original + ' ', headers)).status).toBe(401);
    expect(await count('webhook_events')).toBe(0);
  });

  it('malformed JSON is 400; a missing field is 400 naming it; an unknown provider config key is 422', async () => {
    const send = (raw: string) => post(raw, signWebhookBody(SIGNING_KEY, raw) as unknown as Record<string, string>);
    const malformed = await send('{"type": "sync",');
    expect(malformed.status).toBe(400);
    const { connectionId: _, ...withoutConnection } = gmailSync('alice', 1);
    const missing = await send(JSON.stringify(withoutConnection));
    expect(missing.status).toBe(400);
    const error = (await missing.json()).error;
    expect(error.details).toEqual([expect.objectContaining({ path: 'connectionId' })]);
    const unknownKey = await send(JSON.stringify({ ...gmailSync('alice', 1), providerConfigKey: 'hubspot' }));
    expect(unknownKey.status).toBe(422);
    expect(await count('webhook_events')).toBe(0);
  });

  it('a body over 1 MB is 413', async () => {
    const big = JSON.stringify({ ...gmailSync('alice', 1), padding: 'x'.repeat(1024 * 1024) });
    const response = await post(big, signWebhookBody(SIGNING_KEY, big) as unknown as Record<string, string>);
    expect(response.status).toBe(413);
    expect(await count('webhook_events')).toBe(0);
  });

  it('a webhook type switchyard does not use is recorded as ignored', async () => {
    const forward = { from: 'google-mail', type: 'forward', connectionId: 'gmail-alice', providerConfigKey: 'google-mail', payload: {} };
    expect((await app.webhook(forward)).status).toBe(202);
    const { rows } = await app.database.pool.query(`SELECT status, error FROM webhook_events`);
    expect(rows).toEqual([{ status: 'ignored', error: 'webhook type "forward" is not used by switchyard' }]);
  });
});
