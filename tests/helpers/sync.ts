import { beforeEach, expect } from 'vitest';
import { authPayload, PROVIDER_CONFIG_KEYS, type SandboxSizes } from '../../dev/sandbox/index';
import { resetProviderPoliciesForTests } from '../../lib/providers/resilience';
import { useSandboxedApp, type SandboxedApp } from './sandbox-app';
import { CRON_SECRET } from './server';

export type SyncedProvider = 'gmail' | 'calendar' | 'salesforce';

export interface SyncHarnessOptions {
  /** How long drain() waits for the queue to empty by default; default 90 s. */
  drainTimeoutMs?: number;
}

/**
 * The sandboxed app of a provider's sync tests, with the harness over it. The webhook does not kick the
 * runner (the tests run passes themselves), retries come back within a second (the fault tests), and
 * each test starts without the faults or the open circuit breaker of the one before.
 */
export function useSyncTestApp(provider: SyncedProvider, options: SyncHarnessOptions & { env?: Record<string, string> } = {}) {
  const app = useSandboxedApp({ WEBHOOK_KICK_RUNNER: 'false', JOBS_BACKOFF_BASE_MS: '100', JOBS_BACKOFF_MAX_MS: '1000', ...options.env });
  beforeEach(() => {
    app.sandbox.setFaults(provider, {});
    resetProviderPoliciesForTests();
  });
  return { app, ...syncHarness(app, options) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What every end-to-end sync test does against a sandboxed app: connect a sandbox user the way the
 * product does, run the cron, run passes until the queue is empty, read the database. `app` is the test
 * file's useSandboxedApp(): it is read when the harness is used, not when it is made.
 */
export function syncHarness(app: SandboxedApp, options: SyncHarnessOptions = {}) {
  const query = async <T = any>(text: string, values: unknown[] = []) =>
    (await app.database.pool.query(text, values)).rows as T[];

  /** The connection, created as the frontend creates it (which enqueues the initial backfill). */
  async function connect(provider: SyncedProvider, userId: string, sizes: SandboxSizes = {}): Promise<{ id: number; jobIds: number[] }> {
    app.sandbox.ensureUser(userId, sizes);
    const response = await fetch(`${app.url}/api/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await app.token(userId)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ provider, connectionId: `${provider}-${userId}` }),
    });
    expect(response.status).toBe(201);
    const body = await response.json();
    return { id: body.connection.id as number, jobIds: body.jobIds as number[] };
  }

  /** The connection, recorded from Nango's auth webhook (which enqueues the initial backfill); its id. */
  async function connectByWebhook(provider: SyncedProvider, userId: string, sizes: SandboxSizes = {}): Promise<number> {
    app.sandbox.ensureUser(userId, sizes);
    const connectionId = `${provider}-${userId}`;
    const response = await app.webhook(authPayload({ connectionId, providerConfigKey: PROVIDER_CONFIG_KEYS[provider], endUser: { endUserId: userId } }));
    expect(response.status).toBe(202);
    const [row] = await query<{ id: number }>(`SELECT id FROM connections WHERE nango_connection_id = $1`, [connectionId]);
    return Number(row!.id);
  }

  /** One call of the cron endpoint, as Vercel Cron makes it. */
  async function cronPass(): Promise<Response> {
    const response = await fetch(`${app.url}/api/cron/run-jobs`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
    expect(response.status).toBe(200);
    return response;
  }

  /**
   * Runs passes until no job is queued or running, and returns how many it ran. A pass runs when a job is
   * due (queued and its time come, or running under a lapsed lease); otherwise it waits for the next one
   * (a deferral, a retry's backoff, a lease a killed runner left behind).
   */
  async function drain(pass: () => Promise<unknown> = cronPass, timeoutMs = options.drainTimeoutMs ?? 90_000): Promise<number> {
    const started = Date.now();
    for (let passes = 0; ; ) {
      const [state] = await query<{ open: number; due: number; next_at: string | null }>(`
        SELECT count(*) FILTER (WHERE status IN ('queued', 'running'))::int AS open,
               count(*) FILTER (WHERE (status = 'queued' AND run_at <= now()) OR (status = 'running' AND locked_until < now()))::int AS due,
               (extract(epoch FROM min(CASE status WHEN 'queued' THEN run_at WHEN 'running' THEN locked_until END)) * 1000)::text AS next_at
        FROM jobs`);
      if (state!.open === 0) return passes;
      if (Date.now() - started > timeoutMs) {
        const open = await query(`SELECT id, kind, status, run_at, locked_until, last_error FROM jobs WHERE status IN ('queued', 'running') ORDER BY id`);
        throw new Error(`jobs still open after ${timeoutMs} ms: ${JSON.stringify(open)}`);
      }
      if (state!.due > 0) {
        await pass();
        passes++;
      } else await sleep(state!.next_at ? Math.min(2_000, Math.max(20, Number(state!.next_at) - Date.now())) : 100);
    }
  }

  /** The sync cursor stored for a connection's stream, or null. */
  async function cursorOf(connectionId: number, stream: string): Promise<any> {
    const [row] = await query(`SELECT cursor FROM sync_states WHERE connection_id = $1 AND stream = $2`, [connectionId, stream]);
    return row?.cursor ?? null;
  }

  return { query, connect, connectByWebhook, cronPass, drain, cursorOf };
}
