import { and, asc, eq, getTableColumns, inArray, ne, or, sql, type SQL } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client';
import { connections, type Connection } from '../../db/schema';
import { DomainError } from '../errors';
import { cancelMatching } from '../jobs';
import { decodeKeyset, keysetTime, toPage } from '../pagination';
import { streamStates } from '../sync/state';
import type { Provider } from '../sync/providers';

/**
 * The `connections` table: one row per Nango connection a user made, its status (active, paused,
 * error, deleted) and when it last synced. Every statement on it is here.
 */

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

/** A connection as the API shows it, without its streams. */
export function connectionSummary(row: Connection): Omit<ConnectionView, 'streams'> {
  return {
    id: row.id,
    provider: row.provider,
    connectionId: row.nangoConnectionId,
    providerConfigKey: row.providerConfigKey,
    status: row.status,
    lastError: row.lastError,
    lastSyncedAt: row.lastSyncedAt,
    createdAt: row.createdAt,
  };
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
    ...connectionSummary(row),
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

/** The connection, whatever its status and owner (the sync and action handlers load theirs by id). */
export async function getConnection(db: DbOrTx, id: number): Promise<Connection | undefined> {
  const [row] = await db.select().from(connections).where(eq(connections.id, id));
  return row;
}

/**
 * A query for the live (not deleted) connection Nango knows by this id, as (id, user_id, status): for a
 * statement that finds the connection and acts on it in one round trip (the webhook's hot path).
 */
export function liveConnectionByNangoId(providerConfigKey: string, nangoConnectionId: string): SQL {
  return sql`SELECT id, user_id, status FROM connections
    WHERE provider_config_key = ${providerConfigKey} AND nango_connection_id = ${nangoConnectionId} AND status <> 'deleted'`;
}

/** The parts of a connection that enqueueing its syncs needs. */
export type ConnectionRef = Pick<Connection, 'id' | 'userId' | 'provider'>;

/** The user's active connections of those providers, oldest first. */
export async function activeConnections(db: DbOrTx, userId: string, providers: readonly string[]): Promise<ConnectionRef[]> {
  return db
    .select({ id: connections.id, userId: connections.userId, provider: connections.provider })
    .from(connections)
    .where(and(eq(connections.userId, userId), eq(connections.status, 'active'), inArray(connections.provider, [...providers])))
    .orderBy(asc(connections.id));
}

/**
 * Active connections that have not synced for `staleAfterMinutes` (or never, and were created longer
 * ago than that), least recently synced first, at most `limit`.
 */
export async function staleConnections(db: DbOrTx, staleAfterMinutes: number, limit: number): Promise<ConnectionRef[]> {
  const lastSeen = sql`coalesce(${connections.lastSyncedAt}, ${connections.createdAt})`;
  return db
    .select({ id: connections.id, userId: connections.userId, provider: connections.provider })
    .from(connections)
    .where(and(eq(connections.status, 'active'), sql`${lastSeen} < now() - make_interval(mins => ${staleAfterMinutes})`))
    .orderBy(lastSeen, asc(connections.id))
    .limit(limit);
}

/** A sync of the connection finished: it has synced now. */
export async function markConnectionSynced(db: DbOrTx, id: number): Promise<void> {
  await db.update(connections).set({ lastSyncedAt: sql`now()`, updatedAt: sql`now()` }).where(eq(connections.id, id));
}

/** A connection by its id, or by the Nango connection it records. */
export type ConnectionKey = { id: number } | { providerConfigKey: string; nangoConnectionId: string };

function byKey(key: ConnectionKey): SQL | undefined {
  return 'id' in key
    ? eq(connections.id, key.id)
    : and(eq(connections.providerConfigKey, key.providerConfigKey), eq(connections.nangoConnectionId, key.nangoConnectionId));
}

/**
 * The connection's credentials no longer work (a token refresh failed, or the provider refused them
 * even freshly refreshed): status `error` with the reason, until it is re-authorised. A paused one
 * stays paused (the reason is kept); a deleted one is left alone. Returns false when no live
 * connection matched.
 */
export async function markConnectionError(db: DbOrTx, key: ConnectionKey, reason: string): Promise<boolean> {
  const updated = await db
    .update(connections)
    .set({
      status: sql`CASE WHEN ${connections.status} = 'paused' THEN 'paused' ELSE 'error' END`,
      lastError: reason,
      updatedAt: sql`now()`,
    })
    .where(and(byKey(key), ne(connections.status, 'deleted')))
    .returning({ id: connections.id });
  return updated.length > 0;
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

