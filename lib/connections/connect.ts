import { z } from 'zod';
import type { Db } from '../../db/client';
import type { Connection } from '../../db/schema';
import { DomainError } from '../errors';
import { getNangoConnection, nangoConnectionId } from '../providers/nango';
import { providerConfigKeys, providerNames, type Provider } from '../sync/providers';
import { recordConnection } from './connections';
import { enqueueSyncs } from './sync-jobs';

/** POST /api/connections: the provider and the Nango connection id the Connect flow returned. */
export const connectSchema = z.strictObject({
  provider: z.enum(providerNames),
  connectionId: nangoConnectionId,
});

/** DELETE /api/connections/{id}: `?purge=true` deletes the synced data too. */
export const connectionDeleteQuery = z.object({ purge: z.enum(['true', 'false']).default('false') });

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

