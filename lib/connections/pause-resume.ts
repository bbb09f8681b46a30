import { and, eq, ne, sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { connections, type Connection } from '../../db/schema';
import { DomainError } from '../errors';
import { connectionSummary, type ConnectionView } from './connections';
import { cancelSyncs, enqueueSyncs } from './sync-jobs';

/** What pause and resume answer: the connection, without its streams. */
export type ConnectionSummary = Omit<ConnectionView, 'streams'> & { updatedAt: Date };

function summary(row: Connection): ConnectionSummary {
  return { ...connectionSummary(row), updatedAt: row.updatedAt };
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
    const cancelledJobs = await cancelSyncs(tx, row);
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
