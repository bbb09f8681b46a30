import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, providerEnabled } from '../lib/config';
import { enqueue } from '../lib/jobs/sql/enqueue';
import { handlers } from '../lib/worker/registry';
import { testRunner } from './helpers/runner';
import { startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';
import { SyncedData } from './helpers/synced-data';

/**
 * PROVIDERS_DISABLED (seed 001's feature flags) over real HTTP: a provider turned off has its
 * webhooks recorded and ignored, its connects, syncs and actions refused with 422 provider_disabled,
 * and its queued sync jobs end without a call to it. The other providers are untouched.
 */
let app: SandboxedApp;
let salesforce: number;

beforeAll(async () => {
  app = await startSandboxedApp({ PROVIDERS_DISABLED: 'salesforce', WEBHOOK_KICK_RUNNER: 'false', RATE_LIMIT_PER_MINUTE: '100000' });
  app.sandbox.ensureUser('alice');
  salesforce = await new SyncedData(app.database.pool).connection({ userId: 'alice', provider: 'salesforce' });
});
afterAll(async () => {
  await app?.close();
});

async function post(path: string, body: object, headers: Record<string, string> = {}) {
  return fetch(app.url + path, {
    method: 'POST',
    headers: { authorization: `Bearer ${await app.token('alice')}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function expectDisabled(response: Response) {
  expect(response.status).toBe(422);
  const { error } = await response.json();
  expect(error).toMatchObject({ code: 'provider_disabled', message: 'salesforce is turned off on this deployment (PROVIDERS_DISABLED)' });
}

describe('provider switches', () => {
  it('parses the list, and refuses names that are not providers', () => {
    expect(parseConfig({ PROVIDERS_DISABLED: ' salesforce , gmail,salesforce' }).PROVIDERS_DISABLED).toEqual(['salesforce', 'gmail']);
    expect(parseConfig({}).PROVIDERS_DISABLED).toEqual([]);
    expect(() => parseConfig({ PROVIDERS_DISABLED: 'salesforce,myspace' })).toThrow(/PROVIDERS_DISABLED: expected a comma-separated list/);
    expect(providerEnabled('gmail', parseConfig({ PROVIDERS_DISABLED: 'salesforce' }))).toBe(true);
  });

  it('records a disabled provider\'s webhooks and does nothing with them', async () => {
    const response = await app.webhook({ type: 'sync', connectionId: 'salesforce-alice', providerConfigKey: 'salesforce', success: true, model: 'Lead' });
    expect(response.status).toBe(202);
    const { rows } = await app.database.pool.query(`SELECT status, error FROM webhook_events WHERE provider_config_key = 'salesforce'`);
    expect(rows).toEqual([{ status: 'ignored', error: 'salesforce is turned off on this deployment (PROVIDERS_DISABLED)' }]);
    const jobs = await app.database.pool.query(`SELECT count(*)::int AS n FROM jobs WHERE kind = 'sync.salesforce'`);
    expect(jobs.rows[0].n).toBe(0);
  });

  it('refuses its connects, syncs and actions with 422 provider_disabled, and serves the others', async () => {
    await expectDisabled(await post('/api/connections', { provider: 'salesforce', connectionId: 'salesforce-alice' }));
    await expectDisabled(await post('/api/syncs', { providers: ['salesforce'], mode: 'incremental' }));
    await expectDisabled(await post('/api/crm/lead', { LastName: 'Doe', Company: 'Acme' }, { 'idempotency-key': 'switch-test-1' }));
    expect((await post('/api/connections', { provider: 'gmail', connectionId: 'gmail-alice' })).status).toBe(201);
  });

  it('ends a queued sync of the provider without calling it', async () => {
    const { job } = await enqueue(app.database.db, {
      kind: 'sync.salesforce',
      userId: 'alice',
      payload: { connectionId: salesforce, stream: 'Lead', mode: 'incremental' },
    });
    // The refusal comes before credentials are fetched or a request is paced: nothing reaches Salesforce.
    await testRunner(app.database.db, handlers).run({ deadline: Date.now() + 10_000 });
    const { rows } = await app.database.pool.query(`SELECT status, last_error FROM jobs WHERE id = $1`, [job.id]);
    expect(rows[0]).toEqual({ status: 'failed', last_error: expect.stringMatching(/salesforce is turned off on this deployment \(PROVIDERS_DISABLED\): sync refused/) });
  });
});
