import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { connections, syncStates } from '../../db/schema';
import { db } from '../database';
import { DeferJobError, PermanentJobError, RetryableJobError } from '../jobs/errors';
import { defineHandler, describeError, type JobHandler } from '../jobs/runner';
import { ConnectionCredentials } from '../providers/credentials';
import { ProviderError } from '../providers/errors';
import { QuotaPacer } from '../providers/quota';
import { buildRequest, type ProviderSync, type SyncContext } from './context';
import { budgetPerMinute, type Provider } from './providers';
import type { SyncPayload } from './streams';

const payloadSchema: z.ZodType<SyncPayload> = z.object({
  connectionId: z.number().int().positive(),
  stream: z.string().min(1),
  mode: z.enum(['initial', 'incremental', 'full', 'date_range']),
  startDate: z.string().optional(),
  endDate: z.string().optional(),
});

/** Leaves this long before the runner's deadline to commit the last page and the checkpoint. */
const CHECKPOINT_MARGIN_MS = 3_000;

/**
 * One pacer per user and provider in this process, kept across runs: a checkpointed sync that continues
 * here must not start with a fresh burst on top of what it just spent.
 */
const pacers = new Map<string, QuotaPacer>();
const MAX_PACERS = 10_000;

function pacerFor(userId: string, provider: Provider): QuotaPacer {
  const key = `${provider}:${userId}`;
  let pacer = pacers.get(key);
  if (!pacer) {
    if (pacers.size >= MAX_PACERS) pacers.delete(pacers.keys().next().value!);
    pacer = new QuotaPacer({ db, userId, provider, perMinute: budgetPerMinute(provider) });
    pacers.set(key, pacer);
  }
  return pacer;
}

/**
 * The job handler of `sync.<provider>`: loads the connection, paces and authenticates the provider
 * calls, runs the provider's sync, and turns its outcome into the job's: done, checkpointed (deferred
 * to continue at once, no attempt spent), quota-deferred, retried or failed.
 */
export function syncHandler(provider: Provider, run: ProviderSync): JobHandler<SyncPayload> {
  return defineHandler({
    payload: payloadSchema,
    run: async (payload, job) => {
      const database = db();
      const [connection] = await database.select().from(connections).where(eq(connections.id, payload.connectionId));
      if (!connection || connection.userId !== job.job.userId || connection.provider !== provider) {
        throw new PermanentJobError(`connection ${payload.connectionId} no longer exists`);
      }
      if (connection.status === 'deleted' || connection.status === 'paused') {
        return { status: 'succeeded', result: { skipped: `connection ${connection.status}` } };
      }
      const logger = job.logger.child({ connectionId: connection.id, stream: payload.stream });
      const deadline = () => Date.now() + job.timeLeftMs() - CHECKPOINT_MARGIN_MS;
      const credentials = new ConnectionCredentials(connection);
      const pacer = pacerFor(connection.userId, provider);
      const context: SyncContext = {
        db: database,
        connection,
        stream: payload.stream,
        payload,
        job,
        logger,
        credentials,
        pacer,
        get deadline() {
          return deadline();
        },
        request: buildRequest(provider, credentials, pacer, deadline, job.signal),
        progress: (progress) => job.progress(progress),
      };
      try {
        const outcome = await run(context);
        if (outcome.status === 'checkpoint') {
          return { status: 'deferred', until: new Date(), reason: `checkpoint after ${outcome.records} records: time budget used` };
        }
        await markSynced(connection.id, payload.stream);
        return { status: 'succeeded', result: { records: outcome.records } };
      } catch (error) {
        throw await translateFailure(connection.id, payload.stream, error);
      } finally {
        await pacer.flush().catch((error) => logger.warn({ err: error }, 'could not record provider usage'));
      }
    },
  });
}

async function markSynced(connectionId: number, stream: string): Promise<void> {
  const database = db();
  await database.transaction(async (tx) => {
    await tx.update(connections).set({ lastSyncedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(connections.id, connectionId));
    await tx
      .insert(syncStates)
      .values({ connectionId, stream, lastSuccessAt: sql`now()` })
      .onConflictDoUpdate({
        target: [syncStates.connectionId, syncStates.stream],
        set: { lastSuccessAt: sql`now()`, lastError: null, lastErrorAt: null, updatedAt: sql`now()` },
      });
  });
}

/** Maps a failure to what the queue should do, and records it on the stream's state. */
async function translateFailure(connectionId: number, stream: string, error: unknown): Promise<unknown> {
  if (error instanceof DeferJobError) return error;
  const message = describeError(error);
  await db()
    .insert(syncStates)
    .values({ connectionId, stream, lastError: message, lastErrorAt: sql`now()` })
    .onConflictDoUpdate({
      target: [syncStates.connectionId, syncStates.stream],
      set: { lastError: message, lastErrorAt: sql`now()`, updatedAt: sql`now()` },
    })
    .catch(() => undefined);
  if (!(error instanceof ProviderError)) return error;
  if (error.isQuota) {
    return new DeferJobError(new Date(Date.now() + (error.retryAfterMs ?? 60_000)), `${error.provider} refused for quota`);
  }
  if (error.isUnauthorized) {
    await db()
      .update(connections)
      .set({ status: 'error', lastError: 'the provider refused the credentials, even freshly refreshed', updatedAt: sql`now()` })
      .where(eq(connections.id, connectionId));
    return new PermanentJobError(`${error.provider} refused the connection's credentials after a token refresh`, { cause: error });
  }
  if (error.isTransient) return new RetryableJobError(message, error.retryAfterMs, { cause: error });
  return new PermanentJobError(message, { cause: error });
}
