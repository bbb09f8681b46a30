import { sql } from 'drizzle-orm';
import type { Tx } from '../../db/client';
import { fromExcluded } from '../../db/upsert';
import { enqueueMatching } from '../automations/matcher';

export type { Tx };

/** A `\u` escape JSON.stringify writes for half a surrogate pair or NUL, after an even run of backslashes. */
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(d[89a-f][0-9a-f]{2}|0000)/gi;

/**
 * JSON text for a jsonb parameter. Postgres refuses the escapes JSON.stringify writes for a lone UTF-16
 * surrogate (half an emoji, cut by a careless truncation upstream) and for NUL: the first becomes
 * U+FFFD, as the driver writes it in a text parameter, and NUL is dropped, as text columns drop it here.
 * One such character in a provider's data must not stop a sync for good.
 */
export function jsonbText(value: unknown): string {
  return JSON.stringify(value).replace(UNSTORABLE_ESCAPE, (_match, backslashes: string, code: string) =>
    code === '0000' ? backslashes : `${backslashes}\\ufffd`,
  );
}

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
 * plan than to run). An event of a user with an active automation unit is left unmatched and the
 * user's matcher job is enqueued in the same transaction (so a committed event is always matched);
 * anyone else's is born matched, and costs automations nothing.
 */
export async function emitEvents(tx: Tx, inputs: EventInput[]): Promise<number> {
  if (inputs.length === 0) return 0;
  const result = await tx.execute<{ user_id: string; unmatched: boolean }>(sql`
    WITH input AS (
      SELECT * FROM unnest(
        ${sql.param(inputs.map((e) => e.userId))}::text[],
        ${sql.param(inputs.map((e) => e.connectionId))}::bigint[],
        ${sql.param(inputs.map((e) => e.type))}::text[],
        ${sql.param(inputs.map((e) => e.providerId))}::text[],
        ${sql.param(inputs.map((e) => `${e.connectionId}:${e.type}:${e.providerId}:${e.version}`))}::text[],
        ${sql.param(inputs.map((e) => jsonbText(e.payload)))}::jsonb[]
      ) AS i(user_id, connection_id, type, provider_id, dedupe_key, payload)
    ),
    automated AS (
      SELECT DISTINCT user_id FROM units WHERE status = 'active' AND user_id IN (SELECT user_id FROM input)
    )
    INSERT INTO events (user_id, connection_id, type, provider_id, dedupe_key, payload, matched_at)
    SELECT i.user_id, i.connection_id, i.type, i.provider_id, i.dedupe_key, i.payload,
           CASE WHEN i.user_id IN (SELECT user_id FROM automated) THEN NULL ELSE now() END
    FROM input i
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING user_id, matched_at IS NULL AS unmatched
  `);
  const rows = result.rows as { user_id: string; unmatched: boolean }[];
  const toMatch = new Set(rows.filter((row) => row.unmatched).map((row) => row.user_id));
  if (toMatch.size > 0) await enqueueMatching(tx, toMatch);
  return rows.length;
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
      ${sql.param(unique.map((i) => jsonbText(i.participants ?? [])))}::jsonb[],
      ${sql.param(unique.map((i) => i.deleted === true))}::boolean[]
    ) AS i(user_id, connection_id, source, source_id, kind, occurred_at, title, summary, participants, deleted)
    ON CONFLICT (user_id, source, source_id) DO UPDATE SET
      ${fromExcluded(['kind', 'occurred_at', 'title', 'summary', 'participants'])},
      -- a row already marked deleted keeps the time it was deleted
      deleted_at = CASE WHEN excluded.deleted_at IS NULL THEN NULL ELSE coalesce(interactions.deleted_at, excluded.deleted_at) END,
      updated_at = now()
  `);
}
