import { randomUUID } from 'node:crypto';
import { afterEach, expect } from 'vitest';
import type { ConnectionKind } from '../../dev/sandbox/index';
import { resetConfigForTests } from '../../lib/config';
import { resetProviderPoliciesForTests } from '../../lib/providers/resilience';
import { useForFile } from './lifecycle';
import { startSandboxedApp, type SandboxedApp } from './sandbox-app';
import { CRON_SECRET } from './server';

/**
 * What the actions' suites share: the API on a fresh database with the sandbox playing the providers,
 * connections made as the frontend makes them, and requests with an Idempotency-Key.
 */
export interface ActionsApp extends SandboxedApp {
  /** POST/PATCH/DELETE with a bearer token for the user and an Idempotency-Key (a fresh one unless given). */
  write(method: string, path: string, userId: string, body?: unknown, key?: string): Promise<ApiAnswer>;
  get(path: string, userId: string): Promise<ApiAnswer>;
  /** The user's active connection of the provider (made once: the connection row, no backfill queued). */
  connect(userId: string, provider: ConnectionKind): Promise<number>;
  q<T = Record<string, any>>(text: string, values?: unknown[]): Promise<T[]>;
  /** Runs cron passes until no job is queued or running. */
  drain(timeoutMs?: number): Promise<void>;
}

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * This test file's actions app (startActionsApp) for one provider's actions: started before its tests,
 * closed after them; each test leaves no faults of that provider and no open circuit breaker behind.
 */
export function useActionsApp(provider: ConnectionKind, env: Record<string, string> = {}): ActionsApp {
  const app = useForFile(() => startActionsApp(env), (started) => started.close());
  afterEach(() => {
    app.sandbox.setFaults(provider, {});
    resetProviderPoliciesForTests();
  });
  return app;
}

export async function startActionsApp(env: Record<string, string> = {}): Promise<ActionsApp> {
  const app = await startSandboxedApp({
    WEBHOOK_KICK_RUNNER: 'false',
    JOBS_BACKOFF_BASE_MS: '100',
    JOBS_BACKOFF_MAX_MS: '1000',
    PROVIDER_TIMEOUT_MS: '3000',
    RATE_LIMIT_PER_MINUTE: '100000',
    ...env,
  });
  // The sandbox's URL exists only now; nothing has read the Google root yet.
  process.env.GOOGLE_API_ROOT_URL = app.sandbox.url;
  resetConfigForTests();
  resetProviderPoliciesForTests();
  const tokens = new Map<string, string>();
  const token = async (userId: string) => {
    let t = tokens.get(userId);
    if (!t) tokens.set(userId, (t = await app.token(userId)));
    return t;
  };
  const answer = async (response: Response): Promise<ApiAnswer> => {
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
  };
  const q = async <T = Record<string, any>>(text: string, values: unknown[] = []) => (await app.database.pool.query(text, values)).rows as T[];
  const connections = new Map<string, number>();
  return {
    ...app,
    q,
    async write(method, path, userId, body, key = randomUUID()) {
      const headers: Record<string, string> = { authorization: `Bearer ${await token(userId)}`, 'idempotency-key': key };
      if (body !== undefined) headers['content-type'] = 'application/json';
      return answer(await fetch(app.url + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }));
    },
    async get(path, userId) {
      return answer(await fetch(app.url + path, { headers: { authorization: `Bearer ${await token(userId)}` } }));
    },
    async connect(userId, provider) {
      const known = connections.get(`${userId}:${provider}`);
      if (known) return known;
      app.sandbox.ensureUser(userId, { gmailThreads: 6, calendarEvents: 6, leads: 5, contacts: 5, accounts: 3, opportunities: 3 });
      const ids = app.sandbox.connectionIds(userId);
      const configKey = { gmail: 'google-mail', calendar: 'google-calendar', salesforce: 'salesforce' }[provider];
      const [row] = await q<{ id: number }>(
        `INSERT INTO connections (user_id, provider, nango_connection_id, provider_config_key, status) VALUES ($1, $2, $3, $4, 'active') RETURNING id`,
        [userId, provider, ids[provider], configKey],
      );
      connections.set(`${userId}:${provider}`, row!.id);
      return row!.id;
    },
    async drain(timeoutMs = 60_000) {
      const started = Date.now();
      while (true) {
        const response = await fetch(`${app.url}/api/cron/run-jobs`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
        expect(response.status).toBe(200);
        const [state] = await q<{ open: number }>(`SELECT count(*)::int AS open FROM jobs WHERE status IN ('queued', 'running')`);
        if (state!.open === 0) return;
        if (Date.now() - started > timeoutMs) throw new Error(`jobs still open after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
