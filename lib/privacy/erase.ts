import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { recordAudit, type ActorType, type AuditOrigin } from '../audit';
import { DomainError } from '../errors';
import { cancelMatching, forgetUserJobs } from '../jobs';
import { deletionOrder, userTables } from './tables';

/**
 * DELETE /api/me: erases everything switchyard holds for a user, and is safe to repeat.
 *
 * 1. One transaction stops the user's work: live jobs cancelled (running ones at their next
 *    heartbeat), connections marked deleted, so no webhook or cron starts a sync meanwhile.
 * 2. Each connection is deleted at Nango (its tokens); one Nango no longer has counts as deleted.
 *    If Nango fails, the erasure stops here with 503 and nothing else is lost: repeating it resumes.
 * 3. One transaction deletes the user's rows from every table that holds them (found in the catalog,
 *    children before parents), the webhook deliveries of the user's connections, the user's finished
 *    jobs, and the user's earlier audit entries, then records the erasure: actor, request id, IP, time
 *    and the counts, and nothing of what was erased.
 */
export interface ErasureResult {
  connections: number;
  nangoConnectionsDeleted: number;
  cancelledJobs: number;
  deleted: Record<string, number>;
}

export interface RemoteConnection {
  providerConfigKey: string;
  nangoConnectionId: string;
}

export interface EraseOptions {
  /** Deletes the connection where its tokens live (Nango); resolves false when it was already gone. */
  deleteRemoteConnection: (connection: RemoteConnection) => Promise<boolean>;
  actor: { type: ActorType; id: string | null };
  origin: AuditOrigin;
}

export async function eraseUser(db: Db, userId: string, options: EraseOptions): Promise<ErasureResult> {
  const { remote, cancelledJobs } = await db.transaction(async (tx) => {
    const cancelled = await cancelMatching(tx, userId, {});
    const result = await tx.execute(sql`
      UPDATE connections SET status = 'deleted', deleted_at = coalesce(deleted_at, now()), updated_at = now()
      WHERE user_id = ${userId}
      RETURNING provider_config_key, nango_connection_id
    `);
    const connections = (result.rows as { provider_config_key: string; nango_connection_id: string }[]).map((row) => ({
      providerConfigKey: row.provider_config_key,
      nangoConnectionId: row.nango_connection_id,
    }));
    return { remote: connections, cancelledJobs: cancelled };
  });

  let nangoConnectionsDeleted = 0;
  for (const connection of remote) {
    try {
      if (await options.deleteRemoteConnection(connection)) nangoConnectionsDeleted += 1;
    } catch {
      throw new DomainError(
        'dependency_unavailable',
        'Nango could not delete a connection; nothing else was erased yet, and repeating the request resumes the erasure',
      );
    }
  }

  const deleted = await db.transaction(async (tx) => {
    const counts: Record<string, number> = {};
    const count = (result: { rowCount?: number | null }) => result.rowCount ?? 0;
    // The deliveries are matched by the connections' Nango ids, so they go before the connections.
    counts.webhook_events = count(
      await tx.execute(sql`
        DELETE FROM webhook_events w USING connections c
        WHERE c.user_id = ${userId} AND w.provider_config_key = c.provider_config_key
          AND w.nango_connection_id = c.nango_connection_id
      `),
    );
    for (const table of await deletionOrder(tx, await userTables(tx))) {
      const name = sql.identifier(table.name);
      counts[table.name] = count(
        table.via === 'user_id'
          ? await tx.execute(sql`DELETE FROM ${name} WHERE user_id = ${userId}`)
          : await tx.execute(sql`DELETE FROM ${name} WHERE connection_id IN (SELECT id FROM connections WHERE user_id = ${userId})`),
      );
    }
    counts.jobs = await forgetUserJobs(tx, userId);
    counts.audit_log = count(
      await tx.execute(sql`DELETE FROM audit_log WHERE user_id = ${userId} AND action <> 'user.erased'`),
    );
    const summary = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
    // Identifiers and counts only: the record that the erasure happened, not of what was erased.
    await recordAudit(tx, {
      action: 'user.erased',
      userId,
      actor: options.actor,
      requestId: options.origin.requestId,
      ip: options.origin.ip,
      details: { connections: remote.length, nangoConnectionsDeleted, cancelledJobs, deleted: summary },
    });
    return summary;
  });
  return { connections: remote.length, nangoConnectionsDeleted, cancelledJobs, deleted };
}
