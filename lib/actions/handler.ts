import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { connections, type Action } from '../../db/schema';
import { budgetPerMinute, isProvider, type Provider } from '../sync/providers';
import {
  DeferJobError,
  RetryableJobError,
  defineHandler,
  describeError,
  type JobContext,
  type JobHandler,
} from '../jobs';
import { providerEnabled } from '../config';
import { DomainError } from '../errors';
import { ConnectionCredentials } from '../providers/credentials';
import { ProviderError, QuotaExhaustedError } from '../providers/errors';
import { QuotaPacer } from '../providers/quota';
import { providerRequest } from '../sync/engine/request';
import { markFailed, markSucceeded, markWaiting, recordState, startAttempt } from './store';
import { ActionFailure, failure, type ActionContext, type ActionError, type ActionTool } from './types';
import { announceFinished } from './wait';

export interface ActionPayload {
  actionId: number;
}

const payloadSchema: z.ZodType<ActionPayload> = z.object({ actionId: z.number().int().positive() });

/** Left before the runner's deadline for the last commit. */
const COMMIT_MARGIN_MS = 2_000;

/** An attempt that a newer attempt of the same action superseded (its job's lease lapsed): it stops. */
class SupersededAttemptError extends RetryableJobError {
  constructor(actionId: number) {
    super(`action ${actionId}: a newer attempt has taken over`);
    this.name = 'SupersededAttemptError';
  }
}

/**
 * A connection's credentials, kept a few minutes across the actions of this process: an action costs
 * no Nango round trip when its connection was used just before. A token that expired meanwhile is
 * refused with a 401, which refreshes it once (ConnectionCredentials).
 */
const credentialsCache = new Map<number, { credentials: ConnectionCredentials; at: number; key: string }>();
const CREDENTIALS_TTL_MS = 5 * 60_000;
const MAX_CACHED_CREDENTIALS = 10_000;

function credentialsFor(connection: { id: number; providerConfigKey: string; nangoConnectionId: string }): ConnectionCredentials {
  const key = `${connection.providerConfigKey}\u0000${connection.nangoConnectionId}`;
  const cached = credentialsCache.get(connection.id);
  if (cached && cached.key === key && Date.now() - cached.at < CREDENTIALS_TTL_MS) return cached.credentials;
  if (credentialsCache.size >= MAX_CACHED_CREDENTIALS) credentialsCache.delete(credentialsCache.keys().next().value!);
  const credentials = new ConnectionCredentials(connection);
  credentialsCache.set(connection.id, { credentials, at: Date.now(), key });
  return credentials;
}

/** One pacer per user and provider in this process, kept across jobs (as the syncs keep theirs). */
const pacers = new Map<string, QuotaPacer>();
const MAX_PACERS = 10_000;

function pacerFor(database: Db, userId: string, provider: Provider): QuotaPacer {
  const key = `${provider}:${userId}`;
  let pacer = pacers.get(key);
  if (!pacer) {
    if (pacers.size >= MAX_PACERS) pacers.delete(pacers.keys().next().value!);
    pacer = new QuotaPacer({ db: () => database, userId, provider, perMinute: budgetPerMinute(provider) });
    pacers.set(key, pacer);
  }
  return pacer;
}

/**
 * The handler of `action` jobs: runs one action's tool under the provider's pacing, timeout, retry and
 * circuit breaker, and settles the action:
 * - done: the synced rows (read your writes) and the success commit together;
 * - refused by the provider for good (ActionFailure, a 4xx): failed, with the answer a replay repeats;
 * - refused for quota: failed as 429 with Retry-After (the same request may be sent again after it);
 * - transient (5xx, timeouts, an open circuit): the job retries with backoff, the action waits with
 *   its last error; on the job's last attempt the action fails as 503;
 * - deferred by the quota pacer: waits, no attempt spent.
 * Whatever happens, a tool's side effect is exactly once: each tool records the provider's ids as
 * soon as they exist and asks the provider what became of them on the next attempt.
 */
export function actionHandler(toolNamed: (name: string) => ActionTool | undefined): JobHandler<ActionPayload> {
  return defineHandler({
    payload: payloadSchema,
    run: async ({ actionId }, job) => {
      const database = job.db;
      const action = await startAttempt(database, actionId);
      if (!action) return { status: 'succeeded', result: { actionId, skipped: 'the action has finished already' } };
      const tool = toolNamed(action.tool);
      const lastAttempt = job.job.attempts >= job.job.maxAttempts;
      const settle = settler(database, action, tool);
      if (!tool) return settle.failed({ status: 422, code: 'unprocessable', message: `no tool is named ${action.tool}` });

      const [connection] = await database.select().from(connections).where(eq(connections.id, action.connectionId));
      if (!connection || connection.userId !== action.userId || connection.status !== 'active') {
        return settle.failed({
          status: 409,
          code: 'conflict',
          message: `the ${action.provider} connection is ${connection?.status ?? 'gone'}: resume or reconnect it, then ask again with a new Idempotency-Key`,
        });
      }

      const logger = job.logger.child({ actionId, tool: action.tool, connectionId: connection.id });
      const deadline = () => Date.now() + job.timeLeftMs() - COMMIT_MARGIN_MS;
      const credentials = credentialsFor(connection);
      if (!isProvider(tool.provider)) {
        return settle.failed({ status: 422, code: 'unprocessable', message: `${tool.provider} is not a declared provider` });
      }
      const provider = tool.provider;
      if (!providerEnabled(provider)) {
        return settle.failed({ status: 422, code: 'provider_disabled', message: `${provider} is turned off on this deployment (PROVIDERS_DISABLED)` });
      }
      const pacer = pacerFor(database, action.userId, provider);
      const context: ActionContext<unknown, Record<string, unknown>> = {
        db: database,
        action: { id: action.id, userId: action.userId, idempotencyKey: action.idempotencyKey, tool: action.tool, createdAt: action.createdAt },
        input: action.input,
        connection,
        state: { ...(action.providerState as Record<string, unknown>) },
        record: async (patch) => {
          if (!(await recordState(database, action.id, action.attempts, patch))) throw new SupersededAttemptError(action.id);
          Object.assign(context.state, patch);
        },
        request: providerRequest(provider, credentials, pacer, deadline, job.signal),
        instanceUrl: async () => {
          const { instanceUrl } = await credentials.get();
          if (!instanceUrl) throw failure.unavailable('Nango returned no Salesforce instance URL for the connection');
          return instanceUrl;
        },
        signal: job.signal,
        logger,
      };

      try {
        const outcome = await tool.run(context);
        return await settle.succeeded(outcome.result, outcome.store);
      } catch (error) {
        if (error instanceof SupersededAttemptError) throw error;
        if (error instanceof QuotaExhaustedError) {
          await markWaiting(database, action.id, action.attempts, { status: 429, code: 'rate_limited', message: error.message });
          throw new DeferJobError(error.until, error.message);
        }
        const answer = definitiveAnswer(error, provider);
        if (answer) return settle.failed(answer);
        const transient = transientAnswer(error);
        if (lastAttempt) return settle.failed({ ...transient, message: `${transient.message} (gave up after ${job.job.attempts} attempts)` });
        await markWaiting(database, action.id, action.attempts, transient);
        logger.warn({ err: error }, 'action attempt failed; it will be retried');
        throw error instanceof RetryableJobError ? error : new RetryableJobError(transient.message, retryAfterOf(error), { cause: error });
      } finally {
        await pacer.flush().catch((error) => logger.warn({ err: error }, 'could not record provider usage'));
      }
    },
  });
}

function settler(database: Db, action: Action, tool: ActionTool | undefined) {
  const kept = () => (tool?.retained ? tool.retained(action.input) : action.input);
  return {
    async succeeded(result: unknown, store?: (tx: Parameters<Parameters<Db['transaction']>[0]>[0]) => Promise<void>) {
      const settled = await database.transaction(async (tx) => {
        await store?.(tx);
        return markSucceeded(tx, action.id, action.attempts, result, kept());
      });
      if (!settled) throw new SupersededAttemptError(action.id);
      announceFinished(action.id);
      return { status: 'succeeded' as const, result: { actionId: action.id, outcome: 'succeeded' } };
    },
    async failed(answer: ActionError) {
      if (!(await markFailed(database, action.id, action.attempts, answer, kept()))) throw new SupersededAttemptError(action.id);
      announceFinished(action.id);
      // The job did its work: the action's outcome is recorded (and answered) on the action.
      return { status: 'succeeded' as const, result: { actionId: action.id, outcome: 'failed', status: answer.status } };
    },
  };
}

/** A refusal retrying cannot change, as the action's answer; null for what is worth another attempt. */
function definitiveAnswer(error: unknown, provider: Provider): ActionError | null {
  if (error instanceof ActionFailure) return error.answer;
  // Nango no longer holds the connection (deleted there): nothing to retry until it is reconnected.
  if (error instanceof DomainError && error.code === 'not_found') {
    return { status: 409, code: 'conflict', message: `${error.message}: reconnect ${provider}` };
  }
  if (!(error instanceof ProviderError)) return null;
  if (error.isQuota) {
    return {
      status: 429,
      code: 'rate_limited',
      message: `${provider} refused for quota: ${error.message}`,
      retryAfterSeconds: Math.max(1, Math.ceil((error.retryAfterMs ?? 60_000) / 1000)),
    };
  }
  if (error.isUnauthorized) {
    return {
      status: 503,
      code: 'dependency_unavailable',
      message: `${provider} refused the connection's credentials even freshly refreshed: reconnect it`,
    };
  }
  if (error.isTransient) return null;
  if (error.status === 404) return { status: 404, code: 'not_found', message: error.message };
  return { status: 422, code: 'unprocessable', message: error.message };
}

function transientAnswer(error: unknown): ActionError {
  if (error instanceof ProviderError || error instanceof RetryableJobError) {
    return { status: 503, code: 'dependency_unavailable', message: describeError(error) };
  }
  return { status: 500, code: 'internal_error', message: 'the action failed unexpectedly' };
}

function retryAfterOf(error: unknown): number | undefined {
  return error instanceof ProviderError ? error.retryAfterMs : undefined;
}

export type { JobContext };
