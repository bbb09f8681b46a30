import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import { RetryableJobError } from '../jobs/errors';
import type { Db, Tx } from '../../db/client';

export type { Tx };

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

/**
 * Emits events once: a replayed page (after a crash or a retry) inserts nothing new. One statement with
 * array parameters, whatever the page size (a VALUES list of thousands of rows costs more to build and
 * plan than to run).
 */
export async function emitEvents(tx: Tx, inputs: EventInput[]): Promise<number> {
  if (inputs.length === 0) return 0;
  const result = await tx.execute(sql`
    INSERT INTO events (user_id, connection_id, type, provider_id, dedupe_key, payload)
    SELECT * FROM unnest(
      ${sql.param(inputs.map((e) => e.userId))}::text[],
      ${sql.param(inputs.map((e) => e.connectionId))}::bigint[],
      ${sql.param(inputs.map((e) => e.type))}::text[],
      ${sql.param(inputs.map((e) => e.providerId))}::text[],
      ${sql.param(inputs.map((e) => `${e.connectionId}:${e.type}:${e.providerId}:${e.version}`))}::text[],
      ${sql.param(inputs.map((e) => JSON.stringify(e.payload)))}::jsonb[]
    )
    ON CONFLICT (dedupe_key) DO NOTHING
  `);
  return result.rowCount ?? 0;
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

/** Upserts rows of the unified timeline (unique on user, source, source id), in one statement. */
export async function upsertInteractions(tx: Tx, inputs: InteractionInput[]): Promise<void> {
  if (inputs.length === 0) return;
  // One row per key in a statement: ON CONFLICT cannot touch a row twice.
  const unique = [...new Map(inputs.map((i) => [`${i.userId}\u0000${i.source}\u0000${i.sourceId}`, i])).values()];
  await tx.execute(sql`
    INSERT INTO interactions (user_id, connection_id, source, source_id, kind, occurred_at, title, summary, participants, deleted_at)
    SELECT user_id, connection_id, source, source_id, kind, occurred_at, title, summary, participants,
           CASE WHEN deleted THEN now() END
    FROM unnest(
      ${sql.param(unique.map((i) => i.userId))}::text[],
      ${sql.param(unique.map((i) => i.connectionId))}::bigint[],
      ${sql.param(unique.map((i) => i.source))}::text[],
      ${sql.param(unique.map((i) => i.sourceId))}::text[],
      ${sql.param(unique.map((i) => i.kind))}::text[],
      ${sql.param(unique.map((i) => i.occurredAt.toISOString()))}::timestamptz[],
      ${sql.param(unique.map((i) => i.title))}::text[],
      ${sql.param(unique.map((i) => i.summary ?? null))}::text[],
      ${sql.param(unique.map((i) => JSON.stringify(i.participants ?? [])))}::jsonb[],
      ${sql.param(unique.map((i) => i.deleted === true))}::boolean[]
    ) AS i(user_id, connection_id, source, source_id, kind, occurred_at, title, summary, participants, deleted)
    ON CONFLICT (user_id, source, source_id) DO UPDATE SET
      kind = excluded.kind,
      occurred_at = excluded.occurred_at,
      title = excluded.title,
      summary = excluded.summary,
      participants = excluded.participants,
      -- a row already marked deleted keeps the time it was deleted
      deleted_at = CASE WHEN excluded.deleted_at IS NULL THEN NULL ELSE coalesce(interactions.deleted_at, excluded.deleted_at) END,
      updated_at = now()
  `);
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
