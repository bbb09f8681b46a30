import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import { RetryableJobError } from '../jobs/errors';
import { events, interactions } from '../../db/schema';
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

/** Another run moved the stream's cursor since this run read it: this run's page is rolled back. */
export class CursorConflictError extends RetryableJobError {
  constructor(connectionId: number, stream: string) {
    super(`the cursor of connection ${connectionId} stream ${stream} was moved by another run`);
    this.name = 'CursorConflictError';
  }
}

export interface StoredCursor<C> {
  /** Exactly what is stored, for the compare-and-set (null before the first save). */
  raw: unknown;
  /** The document; null before the first sync or when the stored one is unreadable. */
  cursor: C | null;
  unreadable: boolean;
}

/** Reads a stream's cursor document and validates it with the provider's schema. */
export async function loadCursor<C>(db: Db | Tx, connectionId: number, stream: string, schema: z.ZodType<C>): Promise<StoredCursor<C>> {
  const result = await db.execute(sql`SELECT cursor FROM sync_states WHERE connection_id = ${connectionId} AND stream = ${stream}`);
  const raw = (result.rows as { cursor: unknown }[])[0]?.cursor ?? null;
  if (raw === null) return { raw, cursor: null, unreadable: false };
  const parsed = schema.safeParse(raw);
  return { raw, cursor: parsed.success ? parsed.data : null, unreadable: !parsed.success };
}

/**
 * Saves the cursor only if the stored one is still `expected` (what this run last read or wrote), in
 * the transaction of the records it covers: a runner whose lease lapsed while another took over cannot
 * move the cursor back or sideways. One statement; a conflict throws, rolling the records back with it.
 */
export async function saveCursorIfUnchanged(
  tx: Db | Tx,
  connectionId: number,
  stream: string,
  expected: unknown,
  next: unknown,
): Promise<void> {
  const result = await tx.execute(sql`
    INSERT INTO sync_states (connection_id, stream, cursor)
    VALUES (${connectionId}, ${stream}, ${JSON.stringify(next)}::jsonb)
    ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = excluded.cursor, updated_at = now()
      WHERE sync_states.cursor IS NOT DISTINCT FROM ${expected === null ? null : JSON.stringify(expected)}::jsonb
    RETURNING 1 AS saved
  `);
  if (result.rows.length === 0) throw new CursorConflictError(connectionId, stream);
}
