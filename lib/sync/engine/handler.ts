import { z } from 'zod';
import type { Db } from '../../../db/client';
import { providerEnabled } from '../../config';
import { getConnection, markConnectionError, markConnectionSynced } from '../../connections/connections';
import { DeferJobError, PermanentJobError, RetryableJobError } from '../../jobs/errors';
import { defineHandler, describeError, type JobHandler } from '../../jobs/runner';
import { ConnectionCredentials } from '../../providers/credentials';
import { ProviderError, QuotaExhaustedError } from '../../providers/errors';
import { sharedPacer } from '../../providers/quota';
import { budgetPerMinute, type Provider } from '../providers';
import { recordStreamError, recordStreamSuccess } from '../state';
import type { SyncPayload } from '../streams';
import { SyncError } from './errors';
import { runSync } from './loop';
import { providerRequest } from './request';
import type { AnyStreamSync, SyncContext } from './types';

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
 * The job handler of `sync.<provider>`: loads the connection from the job's database, paces and
 * authenticates the provider calls, runs the provider's sync through the engine (./loop.ts), and turns
 * its outcome into the job's: done, checkpointed (deferred to continue at once, no attempt spent),
 * quota-deferred, retried or failed.
 */
export function syncHandler(provider: Provider, sync: AnyStreamSync): JobHandler<SyncPayload> {
  return defineHandler({
    payload: payloadSchema,
    run: async (payload, job) => {
      const { db } = job;
      const connection = await getConnection(db, payload.connectionId);
      if (!connection || connection.userId !== job.job.userId || connection.provider !== provider) {
        throw new PermanentJobError(`connection ${payload.connectionId} no longer exists`);
      }
      if (connection.status === 'deleted' || connection.status === 'paused') {
        return { status: 'succeeded', result: { skipped: `connection ${connection.status}` } };
      }
      // Switched off: no call to the provider. Once it is on again, the stale-sync cron catches up.
      if (!providerEnabled(provider)) {
        throw new PermanentJobError(`${provider} is turned off on this deployment (PROVIDERS_DISABLED): sync refused`);
      }
      const logger = job.logger.child({ connectionId: connection.id, stream: payload.stream });
      const deadline = () => Date.now() + job.timeLeftMs() - CHECKPOINT_MARGIN_MS;
      const credentials = new ConnectionCredentials(connection);
      const pacer = sharedPacer(db, connection.userId, provider, budgetPerMinute(provider));
      const context: SyncContext = {
        db,
        connection,
        stream: payload.stream,
        payload,
        job,
        logger,
        credentials,
        get deadline() {
          return deadline();
        },
        outOfTime: () => Date.now() > deadline(),
        request: providerRequest(provider, credentials, pacer, deadline, job.signal),
      };
      try {
        const outcome = await runSync(sync, context, (progress) => job.progress(progress));
        // The next run can only start in the next pass: due at this pass's deadline (after which this
        // runner claims nothing), so the next pass takes it at once, and this one does not take it
        // again only to find it too late.
        const nextPass = new Date(Date.now() + job.timeLeftMs());
        if (outcome.status === 'too_late') {
          return { status: 'deferred', until: nextPass, reason: 'too little time left in this runner pass' };
        }
        if (outcome.status === 'checkpoint') {
          return { status: 'deferred', until: nextPass, reason: `checkpoint after ${outcome.records} records: time budget used` };
        }
        await markSynced(db, connection.id, payload.stream);
        return { status: 'succeeded', result: { records: outcome.records } };
      } catch (error) {
        throw await translateFailure(db, connection.id, payload.stream, error);
      } finally {
        await pacer.flush().catch((error) => logger.warn({ err: error }, 'could not record provider usage'));
      }
    },
  });
}

async function markSynced(db: Db, connectionId: number, stream: string): Promise<void> {
  await db.transaction(async (tx) => {
    await markConnectionSynced(tx, connectionId);
    await recordStreamSuccess(tx, connectionId, stream);
  });
}

/**
 * Maps a failure to what the queue should do, and records it on the stream's state: the user's quota
 * spent (our pacer) or refused by the provider defers the job; credentials refused even after a refresh
 * fail it and put the connection in error; a transient provider error (an open circuit included) retries
 * it, after the provider's Retry-After where it gave one; any other provider answer, or a SyncError, fails it.
 */
async function translateFailure(db: Db, connectionId: number, stream: string, error: unknown): Promise<unknown> {
  if (error instanceof DeferJobError) return error;
  if (error instanceof QuotaExhaustedError) return new DeferJobError(error.until, error.message);
  const message = describeError(error);
  await recordStreamError(db, connectionId, [stream], message).catch(() => undefined);
  if (error instanceof SyncError) return new PermanentJobError(message, { cause: error });
  if (!(error instanceof ProviderError)) return error;
  if (error.isQuota) {
    return new DeferJobError(new Date(Date.now() + (error.retryAfterMs ?? 60_000)), `${error.provider} refused for quota`);
  }
  if (error.isUnauthorized) {
    await markConnectionError(db, { id: connectionId }, 'the provider refused the credentials, even freshly refreshed');
    return new PermanentJobError(`${error.provider} refused the connection's credentials after a token refresh`, { cause: error });
  }
  if (error.isTransient) return new RetryableJobError(message, error.retryAfterMs, { cause: error });
  return new PermanentJobError(message, { cause: error });
}
