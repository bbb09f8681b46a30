import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client';
import type { Connection } from '../../db/schema';
import { cancelMatching, enqueueMany } from '../jobs';
import { streamsOf } from '../sync/providers';
import { syncDedupeKey, syncDedupeKeySql, syncJobKind, type SyncPayload } from '../sync/streams';
import type { ConnectionRef } from './connections';

/** A connection's sync jobs: one per stream at a time, found and deduplicated by the stream's key. */

/**
 * The \`enqueue_input\` rows (lib/jobs' \`enqueueSteps\`) of an incremental sync of these streams of the
 * connection in the statement's \`connection\` CTE (id, user_id, status), as \`enqueueSyncs\` would enqueue
 * them; none when \`gate\` is false or the connection is paused.
 */
export function incrementalSyncInput(provider: string, streams: readonly string[], gate: SQL): SQL {
  const payload: Omit<SyncPayload, 'connectionId' | 'stream'> = { mode: 'incremental' };
  return sql`
    SELECT ${syncJobKind(provider)}::text AS kind, c.user_id,
      jsonb_build_object('connectionId', c.id, 'stream', s.stream) || ${JSON.stringify(payload)}::jsonb AS payload,
      0 AS priority, NULL::timestamptz AS run_at, NULL::int AS max_attempts,
      ${syncDedupeKeySql(sql`c.id`, sql`s.stream`)} AS dedupe_key, true AS rerun, s.ord
    FROM connection c, unnest(${sql.param(streams)}::text[]) WITH ORDINALITY AS s(stream, ord)
    WHERE c.status <> 'paused' AND (${gate})`;
}

/** Enqueues a sync of each of the connection's streams, deduplicated per stream. */
export async function enqueueSyncs(
  db: DbOrTx,
  connection: ConnectionRef,
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
 * Stops the connection's sync jobs (queued ones at once, a running one at its next heartbeat, so it
 * cannot queue a rerun either); other jobs that mention the connection are left alone. Every sync job
 * carries its stream's dedupe key while queued or running: jobs_dedupe_key_idx finds them.
 */
export async function cancelSyncs(db: DbOrTx, connection: Pick<Connection, 'id' | 'userId' | 'provider'>): Promise<number> {
  return cancelMatching(db, connection.userId, {
    kind: syncJobKind(connection.provider),
    dedupeKeys: streamsOf(connection.provider).map((stream) => syncDedupeKey(connection.id, stream)),
  });
}
