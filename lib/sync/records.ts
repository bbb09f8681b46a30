import { sql } from 'drizzle-orm';
import { events, interactions, syncStates } from '../../db/schema';
import type { Db } from '../../db/client';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface EventInput {
  userId: string;
  connectionId: number;
  /** email.received, calendar.event.created|updated|cancelled, crm.lead.created|updated|deleted, ... */
  type: string;
  providerId: string;
  /** What makes this change distinct (a message id, an `updated` timestamp, a SystemModstamp). */
  version: string;
  payload: Record<string, unknown>;
}

/** Emits events once: a replayed page (after a crash or a retry) inserts nothing new. */
export async function emitEvents(tx: Tx, inputs: EventInput[]): Promise<number> {
  if (inputs.length === 0) return 0;
  const inserted = await tx
    .insert(events)
    .values(
      inputs.map((e) => ({
        userId: e.userId,
        connectionId: e.connectionId,
        type: e.type,
        providerId: e.providerId,
        dedupeKey: `${e.connectionId}:${e.type}:${e.providerId}:${e.version}`,
        payload: e.payload,
      })),
    )
    .onConflictDoNothing({ target: events.dedupeKey })
    .returning({ id: events.id });
  return inserted.length;
}

export interface InteractionInput {
  userId: string;
  connectionId: number;
  source: 'email' | 'calendar' | 'crm';
  sourceId: string;
  kind: string;
  occurredAt: Date;
  title: string;
  summary?: string | null;
  participants?: unknown[];
  deleted?: boolean;
}

/** Upserts rows of the unified timeline (unique on user, source, source id). */
export async function upsertInteractions(tx: Tx, inputs: InteractionInput[]): Promise<void> {
  if (inputs.length === 0) return;
  // One row per key in a statement: ON CONFLICT cannot touch a row twice.
  const unique = [...new Map(inputs.map((i) => [`${i.userId}\u0000${i.source}\u0000${i.sourceId}`, i])).values()];
  await tx
    .insert(interactions)
    .values(
      unique.map((i) => ({
        userId: i.userId,
        connectionId: i.connectionId,
        source: i.source,
        sourceId: i.sourceId,
        kind: i.kind,
        occurredAt: i.occurredAt,
        title: i.title,
        summary: i.summary ?? null,
        participants: i.participants ?? [],
        deletedAt: i.deleted ? new Date() : null,
      })),
    )
    .onConflictDoUpdate({
      target: [interactions.userId, interactions.source, interactions.sourceId],
      set: {
        kind: sql`excluded.kind`,
        occurredAt: sql`excluded.occurred_at`,
        title: sql`excluded.title`,
        summary: sql`excluded.summary`,
        participants: sql`excluded.participants`,
        deletedAt: sql`excluded.deleted_at`,
        updatedAt: sql`now()`,
      },
    });
}

/** Reads a stream's cursor (null before its first sync). */
export async function readCursor<T>(db: Db | Tx, connectionId: number, stream: string): Promise<T | null> {
  const result = await db.execute(sql`
    SELECT cursor FROM sync_states WHERE connection_id = ${connectionId} AND stream = ${stream}
  `);
  const row = (result.rows as { cursor: T | null }[])[0];
  return row?.cursor ?? null;
}

/** Saves a stream's cursor: call it in the same transaction as the records it covers. */
export async function saveCursor(tx: Db | Tx, connectionId: number, stream: string, cursor: unknown): Promise<void> {
  await tx
    .insert(syncStates)
    .values({ connectionId, stream, cursor })
    .onConflictDoUpdate({
      target: [syncStates.connectionId, syncStates.stream],
      set: { cursor: sql`excluded.cursor`, updatedAt: sql`now()` },
    });
}
