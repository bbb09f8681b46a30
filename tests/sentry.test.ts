import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSentryStub, type SentryStub } from '../dev/sentry-stub';
import { enqueue } from '../lib/jobs/sql/enqueue';
import { defineHandler } from '../lib/jobs/runner';
import { jobSettled } from '../lib/observability/jobs';
import { hashUserId, scrubText } from '../lib/observability/scrub';
import { resetSentryForTests, scrubEvent } from '../lib/observability/sentry';
import { loggerOptions, logLevel, logFormat } from '../lib/observability/logger';
import { parseConfig } from '../lib/config';
import pino from 'pino';
import { Writable } from 'node:stream';
import { testRunner } from './helpers/runner';
import { startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';
import { z } from 'zod';

/**
 * Errors to Sentry against a local stand-in for its ingest endpoint (dev/sentry-stub.ts), which keeps
 * every envelope: an unhandled error of a real function (over HTTP) and a job that failed for good
 * arrive, tagged with release and environment, flushed before the function returns; and nothing
 * personal is in any envelope: no token, key, address, body or SQL parameter.
 */
let stub: SentryStub;
let app: SandboxedApp;
const USER = 'carol.secret@example.com';
const ADDRESS = 'dave.private@example.org';

beforeAll(async () => {
  stub = await startSentryStub();
  app = await startSandboxedApp({
    SENTRY_DSN: stub.dsn,
    SENTRY_ENVIRONMENT: 'ci',
    SENTRY_RELEASE: 'switchyard@test-release',
    WEBHOOK_KICK_RUNNER: 'false',
  });
  await resetSentryForTests();
});
afterAll(async () => {
  await resetSentryForTests();
  await app?.close();
  await stub?.close();
});

/** Everything that must never reach Sentry, as it would appear in an envelope. */
function expectNoPii(raw: string, secrets: string[]) {
  for (const secret of secrets) expect(raw, `"${secret}" reached Sentry`).not.toContain(secret);
  expect(raw).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/);
}

describe('errors to Sentry', () => {
  it("sends a function's unhandled error before the response returns, tagged and scrubbed", async () => {
    const token = await app.token(USER);
    // A real failure deep in a real endpoint: the table it reads is gone. Drizzle's error message
    // carries the query's parameters (the user id, an address here).
    await app.database.pool.query('ALTER TABLE audit_log RENAME TO audit_log_away');
    let response: Response;
    try {
      response = await fetch(`${app.url}/api/audit?limit=5`, {
        headers: { authorization: `Bearer ${token}`, 'x-request-id': 'req-sentry-test-1' },
      });
    } finally {
      await app.database.pool.query('ALTER TABLE audit_log_away RENAME TO audit_log');
    }
    expect(response.status).toBe(500);
    const body = await response.json();
    expect(body.error).toMatchObject({ code: 'internal_error', requestId: 'req-sentry-test-1' });
    expect(JSON.stringify(body)).not.toContain('audit_log');

    // Flushed before the function returned: already here, no waiting.
    const events = stub.events();
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.release).toBe('switchyard@test-release');
    expect(event.environment).toBe('ci');
    expect(event.tags).toMatchObject({ request_id: 'req-sentry-test-1', route: '/api/audit', method: 'GET' });
    // The query error and its cause (linked): the query is kept, its parameters are not.
    const values = event.exception.values.map((v: { value: string }) => v.value);
    expect(values).toContain('relation "audit_log" does not exist');
    const failedQuery = values.find((v: string) => v.startsWith('Failed query'));
    expect(failedQuery).toMatch(/from "audit_log"[\s\S]*\nparams: \[redacted\]$/);
    expectNoPii(stub.envelopes.map((e) => e.raw).join('\n'), [token, USER, 'carol.secret', 'Bearer ey']);
  });

  it('sends a job that failed for good with its kind, attempt and hashed user id', async () => {
    const before = stub.events().length;
    const handlers = {
      'test.explode': defineHandler({
        payload: z.object({ to: z.string() }),
        run: async ({ to }) => {
          throw new Error(`provider refused to send to ${to} with token ya29.a0AfH6SMBexampleexampletoken and api_key=abc123def456`);
        },
      }),
      'test.retry': defineHandler({
        payload: z.object({}),
        run: async () => {
          throw new Error('temporary glitch');
        },
      }),
    };
    await enqueue(app.database.db, { kind: 'test.explode', userId: USER, payload: { to: ADDRESS }, maxAttempts: 1 });
    // A retry with attempts left is not an incident: nothing is sent for it.
    await enqueue(app.database.db, { kind: 'test.retry', userId: 'erin', payload: {}, maxAttempts: 5 });
    const runner = testRunner(app.database.db, handlers, { onJobSettled: jobSettled });
    const summary = await runner.run({ deadline: Date.now() + 10_000 });
    expect(summary.dead).toBe(1);
    const events = await stub.waitForEvents(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stub.events()).toHaveLength(before + 1);
    const event = events[before]!;
    expect(event.tags).toMatchObject({ job_kind: 'test.explode', job_attempt: 1, job_outcome: 'dead' });
    expect(event.user).toEqual({ id: hashUserId(USER) });
    expect(event.release).toBe('switchyard@test-release');
    expect(event.exception.values[0].value).toBe(
      'provider refused to send to [email] with token [redacted] and api_key=[redacted]',
    );
    expectNoPii(stub.envelopes.map((e) => e.raw).join('\n'), [USER, ADDRESS, 'ya29.a0AfH6', 'abc123def456']);
  });

  it('scrubs whatever else an event carries: request, extras, breadcrumbs, user, local variables', () => {
    const event = scrubEvent({
      message: 'failed for bob@example.com',
      user: { id: 'bob', email: 'bob@example.com', ip_address: '10.0.0.1' },
      request: {
        url: 'https://api.example.com/api/emails?sender=bob@example.com',
        method: 'POST',
        data: '{"bodyText":"hello"}',
        cookies: { session: 'abc' },
        headers: { authorization: 'Bearer secret-token-value', 'x-request-id': 'r1', cookie: 'session=abc' },
      },
      extra: { accessToken: 'tok', nested: { password: 'p', note: 'mail alice@example.com' } },
      breadcrumbs: [{ message: 'query', data: { params: ['alice@example.com'], sql: 'select 1' } }],
      exception: { values: [{ type: 'Error', value: 'Key (email)=(x@y.io) already exists', stacktrace: { frames: [{ vars: { token: 't' } }] } }] },
    } as any);
    const raw = JSON.stringify(event);
    expect(raw).not.toMatch(/@example\.com|x@y\.io|secret-token-value|session=abc|"tok"|bodyText|10\.0\.0\.1/);
    expect(event.user).toEqual({ id: hashUserId('bob') });
    expect(event.request!.headers).toEqual({ 'x-request-id': 'r1' });
    expect(event.exception!.values![0]!.value).toBe('Key (email)=([redacted]) already exists');
    expect(event.exception!.values![0]!.stacktrace!.frames![0]!.vars).toBeUndefined();
  });

  it('scrubs text: bearer tokens, JWTs, keys, addresses, SQL parameters, URL credentials', () => {
    expect(scrubText('Authorization: Bearer abc.def.ghi-123')).toBe('Authorization: Bearer [redacted]');
    expect(scrubText('token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlX2hlcmU')).toBe('token [redacted]');
    expect(scrubText(`key sk_${'a'.repeat(43)} and xoxb-1234-5678-abcdefgh`)).toBe('key [redacted] and [redacted]');
    expect(scrubText('Failed query: select * from t where a = $1\nparams: alice,42')).toBe(
      'Failed query: select * from t where a = $1\nparams: [redacted]',
    );
    expect(scrubText('postgres://user:hunter2@db:5432/x')).toBe('postgres://[redacted]@db:5432/x');
    expect(scrubText('refresh_token=1//abc&x=1 password: "pw"')).toBe('refresh_token=[redacted]&x=1 password: "[redacted]"');
    expect(scrubText('to Alice <alice@example.com>')).toBe('to Alice <[email]>');
  });

  it('keeps the same secrets out of error logs, whatever the error carries', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const log = pino({ ...loggerOptions(parseConfig({ LOG_LEVEL: 'info' })) }, sink);
    const error = Object.assign(new Error('Failed query: select 1 where email = $1\nparams: carol@example.com'), {
      config: { headers: { Authorization: 'Bearer ya29.secret-token-value' }, data: 'raw body' },
      response: { status: 502, data: { email: 'carol@example.com' } },
      cause: new Error('refused for dave@example.org'),
    });
    log.error({ err: error, headers: { authorization: 'Bearer abc' }, body: 'hello', user: { email: 'x@y.io' } }, 'sending to erin@example.net failed');
    const written = lines.join('');
    expect(written).not.toMatch(/@example\.|x@y\.io|secret-token-value|raw body|hello|Bearer abc/);
    expect(JSON.parse(written)).toMatchObject({ msg: 'sending to [email] failed', err: { type: 'Error', responseStatus: 502 } });
  });

  it('logs by environment: info in production, debug in development, warn in tests; pretty only in development', () => {
    expect(logLevel(parseConfig({ NODE_ENV: 'production' }))).toBe('info');
    expect(logLevel(parseConfig({ NODE_ENV: 'development' }))).toBe('debug');
    expect(logLevel(parseConfig({ NODE_ENV: 'test' }))).toBe('warn');
    expect(logLevel(parseConfig({ NODE_ENV: 'production', LOG_LEVEL: 'error' }))).toBe('error');
    expect(logFormat(parseConfig({ NODE_ENV: 'development' }))).toBe('pretty');
    expect(logFormat(parseConfig({ NODE_ENV: 'production' }))).toBe('json');
  });
});
