import { z } from 'zod';
import type { Db } from '../../db/client';
import { activeConnections, enqueueSyncs, staleConnections } from '../connections';
import { DomainError } from '../errors';
import { cancel, getJob, getJobs, type QueuedJob } from '../jobs';
import { isoInstant } from '../read/query';
import { providerNames, streamsOf, type Provider } from './providers';
import type { SyncPayload } from './streams';

/**
 * Syncs as the API sees them (POST /api/syncs, GET and DELETE /api/syncs/{id}, the stale-sync cron):
 * a sync is a job of a `sync.<provider>` kind; asking for one enqueues a job per stream.
 */

/** POST /api/syncs: which providers, and how far back. */
export const syncRequestSchema = z
  .object({
    providers: z.array(z.enum(providerNames)).min(1).max(providerNames.length * 2),
    mode: z.enum(['incremental', 'full', 'date_range']),
    startDate: isoInstant.optional(),
    endDate: isoInstant.optional(),
  })
  .superRefine((input, ctx) => {
    if (input.mode === 'date_range') {
      if (!input.startDate) ctx.addIssue({ code: 'custom', path: ['startDate'], message: 'required when mode is date_range' });
      if (!input.endDate) ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'required when mode is date_range' });
      if (input.startDate && input.endDate && input.startDate.at >= input.endDate.at) {
        ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'must be later than startDate' });
      }
    } else {
      for (const key of ['startDate', 'endDate'] as const) {
        if (input[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'only allowed when mode is date_range' });
      }
    }
  });
export type SyncRequest = z.infer<typeof syncRequestSchema>;

/**
 * A date_range window every provider can express: Gmail's after:/before: take Unix seconds (from
 * 1970) and Salesforce's dates end at 4000-12-31. Outside it, 422 now rather than a job that fails.
 */
const SYNC_WINDOW = { from: Date.parse('1970-01-01T00:00:00Z'), until: Date.parse('4001-01-01T00:00:00Z') };

function assertSyncWindow(input: SyncRequest): void {
  for (const key of ['startDate', 'endDate'] as const) {
    const at = input[key]?.at.getTime();
    if (at !== undefined && (at < SYNC_WINDOW.from || at >= SYNC_WINDOW.until)) {
      throw new DomainError('unprocessable', `${key} is outside the dates the providers can sync (1970-01-01 to 4000-12-31)`, [
        { path: key, message: 'outside 1970-01-01 to 4000-12-31' },
      ]);
    }
  }
}

export interface RequestedSync {
  id: number;
  connectionId: number;
  provider: Provider;
  stream: string;
  /** The job's own mode and status: a stream already syncing returns that job (one per stream at a time). */
  mode: SyncPayload['mode'];
  status: QueuedJob['status'];
}

/**
 * Enqueues a sync of every stream of each of the caller's active connections of those providers,
 * in one transaction. None: 422 naming `providers`.
 */
export async function requestSyncs(db: Db, userId: string, input: SyncRequest): Promise<{ jobs: RequestedSync[] }> {
  assertSyncWindow(input);
  const wanted = [...new Set(input.providers)];
  return db.transaction(async (tx) => {
    const matching = await activeConnections(tx, userId, wanted);
    if (matching.length === 0) {
      throw new DomainError('unprocessable', `no active connection for ${wanted.join(', ')}`, [
        { path: 'providers', message: 'no active connection of these providers' },
      ]);
    }
    const requested: Omit<RequestedSync, 'mode' | 'status'>[] = [];
    for (const connection of matching) {
      const ids = await enqueueSyncs(tx, connection, input.mode, {
        startDate: input.startDate?.at.toISOString(),
        endDate: input.endDate?.at.toISOString(),
      });
      ids.forEach((id, k) =>
        requested.push({ id, connectionId: connection.id, provider: connection.provider as Provider, stream: streamsOf(connection.provider)[k]! }),
      );
    }
    const byId = new Map((await getJobs(tx, requested.map((r) => r.id), userId)).map((job) => [job.id, job]));
    return {
      jobs: requested.map((r) => {
        const job = byId.get(r.id)!;
        return { ...r, mode: (job.payload as SyncPayload).mode, status: job.status };
      }),
    };
  });
}

export interface SyncView {
  id: number;
  provider: Provider;
  connectionId: number;
  stream: string;
  mode: SyncPayload['mode'];
  startDate: string | null;
  endDate: string | null;
  status: QueuedJob['status'];
  attempts: number;
  maxAttempts: number;
  progress: unknown;
  result: unknown;
  lastError: string | null;
  cancelRequestedAt: Date | null;
  runAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

function toSyncView(job: QueuedJob): SyncView {
  const payload = (job.payload ?? {}) as Partial<SyncPayload>;
  return {
    id: job.id,
    provider: job.kind.slice('sync.'.length) as Provider,
    connectionId: payload.connectionId ?? 0,
    stream: payload.stream ?? '',
    mode: payload.mode ?? 'incremental',
    startDate: payload.startDate ?? null,
    endDate: payload.endDate ?? null,
    status: job.status,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    progress: job.progress,
    result: job.result,
    lastError: job.lastError,
    cancelRequestedAt: job.cancelRequestedAt,
    runAt: job.runAt,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    updatedAt: job.updatedAt,
  };
}

/** One of the caller's sync jobs; any other job (another tenant's, another kind) is not found. */
export async function getSync(db: Db, userId: string, id: number): Promise<SyncView> {
  const job = await getJob(db, id, userId);
  if (!job || !job.kind.startsWith('sync.')) throw new DomainError('not_found', 'no such sync');
  return toSyncView(job);
}

/**
 * Cancels one of the caller's syncs: a queued one at once, a running one is asked to stop (its runner
 * aborts it at the next heartbeat). Cancelling a cancelled sync is a no-op; a finished one is a 409.
 */
export async function cancelSync(db: Db, userId: string, id: number): Promise<SyncView> {
  await getSync(db, userId, id);
  const job = await cancel(db, id, userId);
  if (!job) throw new DomainError('not_found', 'no such sync');
  if (job.status !== 'cancelled' && job.status !== 'running' && job.status !== 'queued') {
    throw new DomainError('conflict', `the sync has already finished (${job.status})`);
  }
  return toSyncView(job);
}

/**
 * The safety net for lost webhooks: an incremental sync of every active connection that has not
 * synced for `staleAfterMinutes` (or never, and was created longer ago than that). One statement
 * finds them (`staleConnections`), oldest first, at most `limit` per call (the next call takes the
 * rest); each stream's dedupe key makes a sync already queued or running count once.
 */
export async function enqueueStaleSyncs(
  db: Db,
  staleAfterMinutes: number,
  limit = 1_000,
): Promise<{ connections: number; enqueued: number }> {
  const stale = await staleConnections(db, staleAfterMinutes, limit);
  let enqueued = 0;
  for (const connection of stale) {
    // Below webhook-driven syncs (priority 0) and above backfills (10).
    enqueued += (await enqueueSyncs(db, connection, 'incremental', { priority: 5 })).length;
  }
  return { connections: stale.length, enqueued };
}
