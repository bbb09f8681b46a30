import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { config } from '../config';
import { safeText } from '../http/input';
import { factsOf } from './facts';
import type { CompiledUnit } from './language/compile';
import { explainMatch } from './language/evaluate';
import { compileUnitPrompt, getUnit } from './units';

/**
 * A unit tried on the user's latest synced items without acting: for each, whether it would run and,
 * when not, the first condition that failed. How a user trusts a unit before turning it on.
 */

export const previewInputSchema = z.object({
  prompt: safeText().trim().min(1).max(20_000),
  limit: z.number().int().min(1).max(100).optional(),
});
export const testInputSchema = z.object({ limit: z.number().int().min(1).max(100).optional() });

export interface PreviewItem {
  eventId: number;
  type: string;
  at: Date;
  /** What the item is, in a few words (a subject, an event's title, a record's name). */
  title: string;
  matches: boolean;
  reason?: string;
}

export interface Preview {
  prompt: string;
  compiled: CompiledUnit;
  items: PreviewItem[];
  matched: number;
}

async function evaluateLatest(db: Db, userId: string, prompt: string, compiled: CompiledUnit, limit: number): Promise<Preview> {
  const rows = (
    await db.execute<{ id: number; type: string; payload: unknown; created_at: Date }>(sql`
      SELECT id, type, payload, created_at FROM events
      WHERE user_id = ${userId} AND type = ANY(${sql.param(compiled.trigger.eventTypes)}::text[])
      ORDER BY id DESC
      LIMIT ${limit}
    `)
  ).rows as { id: number; type: string; payload: unknown; created_at: Date }[];
  const items = rows.map((row) => {
    const facts = factsOf(row.type, row.payload);
    const verdict = explainMatch(compiled, row.type, facts);
    return {
      eventId: Number(row.id),
      type: row.type,
      at: row.created_at,
      title: String(facts.subject ?? facts.summary ?? facts.name ?? ''),
      matches: verdict.matches,
      ...(verdict.matches ? {} : { reason: verdict.reason }),
    };
  });
  return { prompt, compiled, items, matched: items.filter((item) => item.matches).length };
}

/** POST /api/units/preview: a prompt that need not be saved. */
export async function previewPrompt(db: Db, userId: string, input: z.infer<typeof previewInputSchema>): Promise<Preview> {
  const { prompt, compiled } = await compileUnitPrompt(input.prompt);
  return evaluateLatest(db, userId, prompt, compiled, input.limit ?? config().AUTOMATIONS_PREVIEW_ITEMS);
}

/** POST /api/units/[id]/test: a saved unit, whatever its status. */
export async function testUnit(db: Db, userId: string, id: number, input: z.infer<typeof testInputSchema>): Promise<Preview> {
  const unit = await getUnit(db, userId, id);
  return evaluateLatest(db, userId, unit.prompt, unit.compiled as CompiledUnit, input.limit ?? config().AUTOMATIONS_PREVIEW_ITEMS);
}
