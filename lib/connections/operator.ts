import { and, eq, getTableColumns, ne, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client';
import { connections, type Connection, type ConnectionStatus } from '../../db/schema';
import { DomainError } from '../errors';
import { liveJobsByDedupeKey, type QueuedJob } from '../jobs';
import { keysetTime, newestFirst, toPage } from '../pagination';
import { streamsOf } from '../sync/providers';
import { streamStates, type StreamState } from '../sync/state';
import { syncDedupeKey } from '../sync/streams';
import { connectionSummary } from './connections';
import { pauseConnection, resumeConnection } from './pause-resume';
import { enqueueSyncs } from './sync-jobs';

/**
 * Every user's connections as an operator sees them (the admin API): each with its streams' cursor
 * age, last outcome, and the sync job queued or running for it now with its progress.
 */

export interface AdminStreamView {
  stream: string;
  cursorSavedAt: Date | null;
  /** Seconds since a sync last moved the stream's cursor; null before the first. */
  cursorAgeSeconds: number | null;
  lastSuccessAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** The stream's sync job queued or running now (one at a time), or null. */
  job: { id: number; status: QueuedJob['status']; mode: unknown; attempts: number; progress: unknown; startedAt: Date | null; lastError: string | null } | null;
}

export interface AdminConnectionView {
  id: number;
  userId: string;
  provider: string;
  connectionId: string;
  providerConfigKey: string;
  status: ConnectionStatus;
  lastError: string | null;
  lastSyncedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  streams: AdminStreamView[];
}

export interface AdminConnectionFilter {
  provider?: string;
  status?: ConnectionStatus;
  userId?: string;
}

/** The connections' views: two statements for any number of them (their streams, their live sync jobs). */
async function views(db: DbOrTx, rows: Connection[]): Promise<AdminConnectionView[]> {
  const states = await streamStates(db, rows.map((row) => row.id));
  const streamsByConnection = new Map<number, string[]>(
    rows.map((row) => {
      const recorded = states.filter((state) => state.connectionId === row.id).map((state) => state.stream);
      return [row.id, [...new Set([...streamsOf(row.provider), ...recorded])]];
    }),
  );
  const keys = rows.flatMap((row) => streamsByConnection.get(row.id)!.map((stream) => syncDedupeKey(row.id, stream)));
  const jobs = new Map((await liveJobsByDedupeKey(db, keys)).map((job) => [job.dedupeKey!, job]));
  const now = Date.now();
  return rows.map((row) => ({
    ...connectionSummary(row),
    userId: row.userId,
    updatedAt: row.updatedAt,
    streams: streamsByConnection.get(row.id)!.map((stream) => {
      const state: Partial<StreamState> = states.find((s) => s.connectionId === row.id && s.stream === stream) ?? {};
      const job = jobs.get(syncDedupeKey(row.id, stream));
      const cursorSavedAt = state.cursorSavedAt ?? null;
      return {
        stream,
        cursorSavedAt,
        cursorAgeSeconds: cursorSavedAt ? Math.max(0, Math.round((now - cursorSavedAt.getTime()) / 1000)) : null,
        lastSuccessAt: state.lastSuccessAt ?? null,
        lastError: state.lastError ?? null,
        lastErrorAt: state.lastErrorAt ?? null,
        job: job
          ? {
              id: job.id,
              status: job.status,
              mode: (job.payload as { mode?: unknown } | null)?.mode ?? null,
              attempts: job.attempts,
              progress: job.progress,
              startedAt: job.startedAt,
              lastError: job.lastError,
            }
          : null,
      };
    }),
  }));
}

/** Every user's connections, newest first (deleted ones only when `status` asks for them). */
export async function listAllConnections(
  db: DbOrTx,
  filter: AdminConnectionFilter,
  page: { limit: number; cursor?: string },
): Promise<{ data: AdminConnectionView[]; nextCursor: string | null }> {
  // connections_recent_idx, or a user's connections_user_idx.
  const keyset = newestFirst(connections.createdAt, connections.id, page);
  const rows = await db
    .select({ ...getTableColumns(connections), keysetTime: keysetTime(connections.createdAt) })
    .from(connections)
    .where(
      and(
        filter.status === undefined ? ne(connections.status, 'deleted') : eq(connections.status, filter.status),
        filter.provider === undefined ? undefined : eq(connections.provider, filter.provider),
        filter.userId === undefined ? undefined : eq(connections.userId, filter.userId),
        keyset.after,
      ),
    )
    .orderBy(...keyset.orderBy)
    .limit(keyset.limit);
  const page_ = toPage(rows, page.limit, (row) => row);
  return { data: await views(db, page_.data), nextCursor: page_.nextCursor };
}

async function connectionById(db: DbOrTx, id: number): Promise<Connection> {
  const [row] = await db.select().from(connections).where(eq(connections.id, id));
  if (!row) throw new DomainError('not_found', `connection ${id} not found`);
  return row;
}

/** Any user's connection, deleted ones too; not_found when there is none. */
export async function getAnyConnection(db: DbOrTx, id: number): Promise<AdminConnectionView> {
  return (await views(db, [await connectionById(db, id)]))[0]!;
}

/** The operator pauses a connection for its user (pauseConnection). */
export async function pauseAnyConnection(db: Db, id: number): Promise<{ connection: AdminConnectionView; cancelledJobs: number }> {
  const { userId } = await connectionById(db, id);
  const { cancelledJobs } = await pauseConnection(db, userId, id);
  return { connection: await getAnyConnection(db, id), cancelledJobs };
}

/** The operator resumes a connection for its user (resumeConnection: an incremental sync catches up). */
export async function resumeAnyConnection(db: Db, id: number): Promise<{ connection: AdminConnectionView; jobIds: number[] }> {
  const { userId } = await connectionById(db, id);
  const { jobIds } = await resumeConnection(db, userId, id);
  return { connection: await getAnyConnection(db, id), jobIds };
}

/**
 * Sync now: an incremental sync of every stream of an active connection, ahead of the queue's other
 * incremental work (deduplicated against a sync already queued; one running is asked to run again).
 * A paused, failing or deleted connection is a conflict: resume or re-authorise it first.
 */
export async function syncConnectionNow(db: Db, id: number): Promise<{ connection: AdminConnectionView; jobIds: number[] }> {
  const row = await connectionById(db, id);
  if (row.status !== 'active') {
    throw new DomainError('conflict', `connection ${id} is ${row.status}; only an active connection can be synced`);
  }
  const jobIds = await enqueueSyncs(db, row, 'incremental', { priority: -1 });
  return { connection: await getAnyConnection(db, id), jobIds };
}

/** Connections by status (deleted ones left out), for the operators' summary. */
export async function countConnectionsByStatus(db: DbOrTx): Promise<Record<Exclude<ConnectionStatus, 'deleted'>, number>> {
  const rows = await db
    .select({ status: connections.status, count: sql<number>`count(*)::int` })
    .from(connections)
    .where(ne(connections.status, 'deleted'))
    .groupBy(connections.status);
  const count = (status: ConnectionStatus) => Number(rows.find((row) => row.status === status)?.count ?? 0);
  return { active: count('active'), paused: count('paused'), error: count('error') };
}

/** Who owns these connections and of which provider, for lists that name them. */
export async function connectionOwners(db: DbOrTx, ids: readonly number[]): Promise<Map<number, { userId: string; provider: string }>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: connections.id, userId: connections.userId, provider: connections.provider })
    .from(connections)
    .where(sql`${connections.id} = ANY(${sql.param([...ids])}::bigint[])`);
  return new Map(rows.map((row) => [row.id, { userId: row.userId, provider: row.provider }]));
}
