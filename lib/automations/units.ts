import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx } from '../../db/client';
import { unitStatuses, units, type Unit, type UnitStatus } from '../../db/schema';
import { activeConnections } from '../connections';
import { config } from '../config';
import { DomainError } from '../errors';
import { safeText } from '../http/input';
import { pageQuerySchema, selectNewestFirst, toPage } from '../pagination';
import { CompileError, compilePrompt, type CompiledUnit } from './language/compile';
import { proposePrompt } from './llm';

/** What a frontend sends to create a unit, or to change one (PATCH: either field). */
export const unitInputSchema = z.object({
  name: safeText().trim().min(1).max(200),
  prompt: safeText().trim().min(1).max(20_000),
});
export const unitPatchSchema = unitInputSchema.partial().refine((v) => v.name !== undefined || v.prompt !== undefined, {
  message: 'give a name or a prompt to change',
});
export const unitStatusSchema = z.object({ status: z.enum(unitStatuses) });
export type UnitInput = z.infer<typeof unitInputSchema>;
export type UnitPatch = z.infer<typeof unitPatchSchema>;

export const unitListQuery = pageQuerySchema.extend({ status: z.enum(unitStatuses).optional() });
export type UnitListQuery = z.infer<typeof unitListQuery>;

export interface UnitView {
  id: number;
  name: string;
  prompt: string;
  status: UnitStatus;
  statusReason: string | null;
  /** What the prompt compiled to: the trigger, conditions and steps matching and runs use. */
  compiled: CompiledUnit;
  /** Since when the unit sees events (null while it was never active). */
  activatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export function unitView(unit: Unit): UnitView {
  return {
    id: unit.id,
    name: unit.name,
    prompt: unit.prompt,
    status: unit.status,
    statusReason: unit.statusReason,
    compiled: unit.compiled as CompiledUnit,
    activatedAt: unit.activatedAt,
    createdAt: unit.createdAt,
    updatedAt: unit.updatedAt,
  };
}

function compileOptions() {
  const settings = config();
  return { maxPromptLength: settings.AUTOMATIONS_MAX_PROMPT_LENGTH, maxSteps: settings.AUTOMATIONS_MAX_STEPS };
}

/** A prompt written in the language (`when: ... then: ...`), as opposed to prose for the LLM. */
const looksLikeLanguage = (prompt: string) => /^\s*when\s*:/i.test(prompt) || /\bthen\s*:/i.test(prompt);

const unprocessablePrompt = (message: string) => new DomainError('unprocessable', message, [{ path: 'prompt', message }]);

/**
 * Compiles a prompt, `unprocessable` with "Invalid compilation: <what> at <line:column>" when it does
 * not. Prose that does not compile goes to the configured LLM (if any), whose proposal must pass the
 * same compiler; a prompt written in the language is never rewritten by a model.
 */
export async function compileUnitPrompt(prompt: string): Promise<{ prompt: string; compiled: CompiledUnit }> {
  const options = compileOptions();
  try {
    return { prompt, compiled: compilePrompt(prompt, options) };
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    if (looksLikeLanguage(prompt) || prompt.length > options.maxPromptLength) throw unprocessablePrompt(error.message);
    const proposal = await proposePrompt(prompt);
    if (proposal === null) throw unprocessablePrompt(error.message);
    try {
      return { prompt: proposal, compiled: compilePrompt(proposal, options) };
    } catch (proposalError) {
      if (!(proposalError instanceof CompileError)) throw proposalError;
      throw unprocessablePrompt(`${proposalError.message} (in the LLM's proposal ${JSON.stringify(proposal)})`);
    }
  }
}

/** 422 "No connection found for provider <p>" for the first provider the unit needs and the user lacks. */
async function requireConnections(db: DbOrTx, userId: string, compiled: CompiledUnit): Promise<void> {
  const connected = new Set((await activeConnections(db, userId, compiled.providers)).map((connection) => connection.provider));
  const missing = compiled.providers.find((provider) => !connected.has(provider));
  if (missing) {
    throw new DomainError('unprocessable', `No connection found for provider ${missing}`, [
      { path: 'prompt', message: `connect ${missing} first (POST /api/connections)` },
    ]);
  }
}

export async function createUnit(db: Db, userId: string, input: UnitInput): Promise<UnitView> {
  const { prompt, compiled } = await compileUnitPrompt(input.prompt);
  await requireConnections(db, userId, compiled);
  const limit = config().AUTOMATIONS_MAX_UNITS_PER_USER;
  // The count and the insert in one statement; concurrent creates may pass the bound by a few at most,
  // so the transaction-level advisory lock on the user makes it exact.
  const created = await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`units:${userId}`}, 0))`);
    const [{ count }] = (await tx.execute<{ count: number }>(sql`SELECT count(*)::int AS count FROM units WHERE user_id = ${userId}`)).rows as [
      { count: number },
    ];
    if (count >= limit) {
      throw new DomainError('unprocessable', `you have ${count} units; at most ${limit} are allowed (AUTOMATIONS_MAX_UNITS_PER_USER)`, [
        { path: '', message: 'delete a unit first' },
      ]);
    }
    const [row] = await tx
      .insert(units)
      .values({ userId, name: input.name, prompt, compiled, status: 'active', activatedAt: sql`now()` })
      .returning();
    return row!;
  });
  return unitView(created);
}

export async function getUnit(db: DbOrTx, userId: string, id: number): Promise<Unit> {
  const [unit] = await db.select().from(units).where(and(eq(units.id, id), eq(units.userId, userId)));
  if (!unit) throw new DomainError('not_found', `unit ${id} not found`);
  return unit;
}

export async function listUnits(db: Db, userId: string, query: UnitListQuery) {
  const filters = [eq(units.userId, userId), query.status ? eq(units.status, query.status) : undefined];
  const rows = await selectNewestFirst(db, units, units.createdAt, units.id, filters, query);
  return toPage(rows, query.limit, ({ row }) => unitView(row));
}

/** Renames a unit or gives it a new prompt (compiled and checked as on create). */
export async function updateUnit(db: Db, userId: string, id: number, input: UnitPatch): Promise<UnitView> {
  await getUnit(db, userId, id);
  const changes: Partial<typeof units.$inferInsert> = {};
  if (input.name !== undefined) changes.name = input.name;
  if (input.prompt !== undefined) {
    const { prompt, compiled } = await compileUnitPrompt(input.prompt);
    await requireConnections(db, userId, compiled);
    changes.prompt = prompt;
    changes.compiled = compiled;
  }
  const [row] = await db
    .update(units)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(and(eq(units.id, id), eq(units.userId, userId)))
    .returning();
  if (!row) throw new DomainError('not_found', `unit ${id} not found`);
  return unitView(row);
}

/**
 * Pauses, resumes or disables a unit. (Re)activating starts its window: it sees events that arrive from
 * now on, not those that came while it was paused.
 */
export async function setUnitStatus(db: Db, userId: string, id: number, status: UnitStatus): Promise<UnitView> {
  const [row] = await db
    .update(units)
    .set({
      status,
      statusReason: null,
      activatedAt: status === 'active' ? sql`CASE WHEN ${units.status} = 'active' THEN ${units.activatedAt} ELSE now() END` : sql`${units.activatedAt}`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(units.id, id), eq(units.userId, userId)))
    .returning();
  if (!row) throw new DomainError('not_found', `unit ${id} not found`);
  return unitView(row);
}

/** Deletes a unit with its runs and steps (cascade). Repeating it is 404. */
export async function deleteUnit(db: Db, userId: string, id: number): Promise<void> {
  const deleted = await db.delete(units).where(and(eq(units.id, id), eq(units.userId, userId))).returning({ id: units.id });
  if (deleted.length === 0) throw new DomainError('not_found', `unit ${id} not found`);
}
