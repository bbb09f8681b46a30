import { and, eq, getTableColumns, ne, or, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client';
import { connections, type Connection } from '../../db/schema';
import { DomainError } from '../errors';
import { cancelMatching, enqueueMany } from '../jobs';
import { getNangoConnection } from '../providers/nango';
import { providerConfigKeys, streamsOf, type Provider } from '../sync/providers';
import { streamStates } from '../sync/state';
import { syncDedupeKey, syncJobKind, type SyncPayload } from '../sync/streams';
import { decodeKeyset, keysetTime, toPage } from '../pagination';

export interface ConnectionInput {
  userId: string;
  provider: Provider;
  providerConfigKey: string;
  nangoConnectionId: string;
}

export interface RecordedConnection {
  connection: Connection;
  /** created: new; revived: it was deleted; existing: it was already there (its status before is `previousStatus`). */
  change: 'created' | 'revived' | 'existing';
  previousStatus: Connection['status'] | null;
}

export type RecordOutcome = RecordedConnection | { connection: null; refused: 'another_user' | 'deleted' };

/**
 * Creates the connection, or brings an existing one back to active (re-authorised; a paused one stays
 * paused). A deleted one is revived only when `reviveDeleted` (the frontend's POST, checked live with
 * Nango); a webhook never revives one, since an old delivery replayed after its de-duplication row was
 * pruned would undo the user's deletion. A connection that belongs to another user is refused: it
 * never changes hands silently. Run it in a transaction: the row is locked between the two statements.
 */
export async function recordConnection(
  db: DbOrTx,
  input: ConnectionInput,
  options: { reviveDeleted: boolean },
): Promise<RecordOutcome> {
  const match = and(
    eq(connections.providerConfigKey, input.providerConfigKey),
    eq(connections.nangoConnectionId, input.nangoConnectionId),
  );
  const [previous] = await db.select({ status: connections.status }).from(connections).where(match).for('update');
  const [row] = await db
    .insert(connections)
    .values({ ...input, status: 'active' })
    .onConflictDoUpdate({
      target: [connections.providerConfigKey, connections.nangoConnectionId],
      set: {
        userId: sql`CASE WHEN ${connections.status} = 'deleted' THEN excluded.user_id ELSE ${connections.userId} END`,
        status: sql`CASE WHEN ${connections.status} = 'paused' THEN 'paused' ELSE 'active' END`,
        lastError: null,
        deletedAt: null,
        updatedAt: sql`now()`,
      },
      setWhere: options.reviveDeleted
        ? or(and(eq(connections.userId, sql`excluded.user_id`), ne(connections.status, 'deleted')), eq(connections.status, 'deleted'))
        : and(eq(connections.userId, sql`excluded.user_id`), ne(connections.status, 'deleted')),
    })
    // xmax is 0 on a row this statement inserted (rather than updated).
    .returning({ ...getTableColumns(connections), inserted: sql<boolean>`(xmax = 0)` });
  if (!row) return { connection: null, refused: previous?.status === 'deleted' ? 'deleted' : 'another_user' };
  const { inserted, ...connection } = row;
  const change = inserted ? 'created' : previous?.status === 'deleted' ? 'revived' : 'existing';
  return { connection, change, previousStatus: inserted ? null : (previous?.status ?? null) };
}

/** recordConnection for callers that only need the row (a deleted one is revived); null when refused. */
export async function upsertConnection(db: DbOrTx, input: ConnectionInput): Promise<Connection | null> {
  return (await recordConnection(db, input, { reviveDeleted: true })).connection;
}

/** Enqueues a sync of each of the connection's streams, deduplicated per stream. */
export async function enqueueSyncs(
  db: DbOrTx,
  connection: Pick<Connection, 'id' | 'userId' | 'provider'>,
  mode: SyncPayload['mode'],
  options: { streams?: readonly string[]; startDate?: string; endDate?: string; priority?: number } = {},
): Promise<number[]> {
  const streams = options.streams ?? streamsOf(connection.provider);
  const results = await enqueueMany(
    db,
    streams.map((stream) => ({
      kind: syncJobKind(connection.provider),
      userId: connection.userId,
      payload: {
        connectionId: connection.id,
        stream,
        mode,
        ...(options.startDate ? { startDate: options.startDate } : {}),
        ...(options.endDate ? { endDate: options.endDate } : {}),
      } satisfies SyncPayload,
      dedupeKey: syncDedupeKey(connection.id, stream),
      // A change that arrives while the stream syncs must not be lost: run once more afterwards.
      rerunIfRunning: true,
      priority: options.priority ?? (mode === 'incremental' ? 0 : 10),
    })),
  );
  return results.map((result) => result.job.id);
}

/**
 * After the frontend's Nango Connect flow: checks with Nango that the connection exists (and belongs
 * to this user when Nango knows its end user), records it and enqueues its initial backfill. Telling
 * it again about a connection it has is not a new connection (`created` false): a connection that has
 * synced gets no second backfill, one that had failed (status error) an incremental sync to catch up.
 */
export async function connectFromFrontend(
  db: Db,
  userId: string,
  input: { provider: Provider; connectionId: string },
): Promise<{ connection: Connection; jobIds: number[]; created: boolean }> {
  const providerConfigKey = providerConfigKeys()[input.provider];
  let remote;
  try {
    remote = await getNangoConnection(providerConfigKey, input.connectionId);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'not_found') {
      throw new DomainError('unprocessable', error.message, [{ path: 'connectionId', message: 'unknown to Nango' }]);
    }
    throw error;
  }
  if (remote.endUserId && remote.endUserId !== userId) {
    throw new DomainError('unprocessable', 'this Nango connection belongs to another user', [
      { path: 'connectionId', message: 'belongs to another user' },
    ]);
  }
  return db.transaction(async (tx) => {
    const recorded = await recordConnection(
      tx,
      { userId, provider: input.provider, providerConfigKey, nangoConnectionId: input.connectionId },
      { reviveDeleted: true },
    );
    if (!recorded.connection) throw new DomainError('conflict', 'this Nango connection belongs to another user');
    const { connection, change, previousStatus } = recorded;
    const created = change !== 'existing';
    let jobIds: number[] = [];
    if (connection.status !== 'paused') {
      // A connection that never finished a sync still wants its backfill (the queued one is returned,
      // a failed one queued again); one that has synced gets none again, but catches up after an error.
      if (created || connection.lastSyncedAt === null) jobIds = await enqueueSyncs(tx, connection, 'initial');
      else if (previousStatus === 'error') jobIds = await enqueueSyncs(tx, connection, 'incremental');
    }
    return { connection, jobIds, created };
  });
}

export interface ConnectionView {
  id: number;
  /** As stored: a declared provider's name (lib/sync/providers.ts). */
  provider: string;
  connectionId: string;
  providerConfigKey: string;
  status: Connection['status'];
  lastError: string | null;
  lastSyncedAt: Date | null;
  createdAt: Date;
  streams: { stream: string; lastSuccessAt: Date | null; lastError: string | null; lastErrorAt: Date | null }[];
}

/** The caller's connections, newest first, with each stream's last outcome. */
export async function listConnections(
  db: Db,
  userId: string,
  page: { limit: number; cursor?: string },
): Promise<{ data: ConnectionView[]; nextCursor: string | null }> {
  const position = page.cursor ? decodeKeyset(page.cursor) : null;
  const rows = await db
    .select({ ...getTableColumns(connections), keysetTime: keysetTime(connections.createdAt) })
    .from(connections)
    .where(
      and(
        eq(connections.userId, userId),
        ne(connections.status, 'deleted'),
        position ? sql`(${connections.createdAt}, ${connections.id}) < (${position.t}::timestamptz, ${position.i})` : undefined,
      ),
    )
    .orderBy(sql`${connections.createdAt} DESC NULLS LAST`, sql`${connections.id} DESC`)
    .limit(page.limit + 1);
  const ids = rows.slice(0, page.limit).map((r) => r.id);
  const states = await streamStates(db, ids);
  return toPage(rows, page.limit, (row) => ({
    id: row.id,
    provider: row.provider,
    connectionId: row.nangoConnectionId,
    providerConfigKey: row.providerConfigKey,
    status: row.status,
    lastError: row.lastError,
    lastSyncedAt: row.lastSyncedAt,
    createdAt: row.createdAt,
    streams: states
      .filter((state) => state.connectionId === row.id)
      .map((state) => ({
        stream: state.stream,
        lastSuccessAt: state.lastSuccessAt,
        lastError: state.lastError,
        lastErrorAt: state.lastErrorAt,
      })),
  }));
}

/** The caller's connection, or a not_found error (another tenant's is not found either). */
export async function getOwnConnection(db: DbOrTx, userId: string, id: number): Promise<Connection> {
  const [row] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.id, id), eq(connections.userId, userId), ne(connections.status, 'deleted')));
  if (!row) throw new DomainError('not_found', 'no such connection');
  return row;
}

/**
 * Disconnects: stops the connection's jobs (queued ones at once, running ones at their next heartbeat)
 * and marks it deleted. With `purge`, its synced data goes too (the rows cascade from the connection).
 */
export async function deleteConnection(
  db: Db,
  userId: string,
  id: number,
  options: { purge: boolean },
): Promise<{ cancelledJobs: number; purged: boolean }> {
  return db.transaction(async (tx) => {
    await getOwnConnection(tx, userId, id);
    const cancelledJobs = await cancelMatching(tx, userId, { payload: { connectionId: id } });
    if (options.purge) {
      await tx.delete(connections).where(and(eq(connections.id, id), eq(connections.userId, userId)));
    } else {
      await tx
        .update(connections)
        .set({ status: 'deleted', deletedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(connections.id, id), eq(connections.userId, userId)));
    }
    return { cancelledJobs, purged: options.purge };
  });
}

/** What pause and resume answer: the connection, without its streams. */
export type ConnectionSummary = Omit<ConnectionView, 'streams'> & { updatedAt: Date };

function summary(row: Connection): ConnectionSummary {
  return {
    id: row.id,
    provider: row.provider,
    connectionId: row.nangoConnectionId,
    providerConfigKey: row.providerConfigKey,
    status: row.status,
    lastError: row.lastError,
    lastSyncedAt: row.lastSyncedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Pauses a connection: its webhooks are still recorded but start no sync, and its sync jobs stop
 * (queued ones are cancelled at once, a running one at its next heartbeat, so it cannot queue a rerun
 * either). Idempotent. Other jobs that mention the connection (automations, actions) are left alone.
 */
export async function pauseConnection(
  db: Db,
  userId: string,
  id: number,
): Promise<{ connection: ConnectionSummary; cancelledJobs: number }> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(connections)
      .set({ status: 'paused', updatedAt: sql`now()` })
      .where(and(eq(connections.id, id), eq(connections.userId, userId), ne(connections.status, 'deleted')))
      .returning();
    if (!row) throw new DomainError('not_found', 'no such connection');
    // Every sync job carries its stream's dedupe key while queued or running: jobs_dedupe_key_idx finds them.
    const cancelledJobs = await cancelMatching(tx, userId, {
      kind: syncJobKind(row.provider),
      dedupeKeys: streamsOf(row.provider).map((stream) => syncDedupeKey(row.id, stream)),
    });
    return { connection: summary(row), cancelledJobs };
  });
}

/**
 * Resumes a paused connection (status back to active) and enqueues an incremental sync of each of its
 * streams, which catches up with what changed while it was paused. On a connection that is not paused
 * it only enqueues that sync (deduplicated against one already queued).
 */
export async function resumeConnection(
  db: Db,
  userId: string,
  id: number,
): Promise<{ connection: ConnectionSummary; jobIds: number[] }> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(connections)
      .set({
        status: sql`CASE WHEN ${connections.status} = 'paused' THEN 'active' ELSE ${connections.status} END`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(connections.id, id), eq(connections.userId, userId), ne(connections.status, 'deleted')))
      .returning();
    if (!row) throw new DomainError('not_found', 'no such connection');
    const jobIds = await enqueueSyncs(tx, row, 'incremental');
    return { connection: summary(row), jobIds };
  });
}
