import { createHash } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, DbOrTx } from '../../db/client';
import { runStatuses, runSteps, runs, type Action, type Run, type RunStep } from '../../db/schema';
import { submitAction } from '../actions/submit';
import { findAction } from '../actions/store';
import { isSettled, waitForAction } from '../actions/wait';
import { DomainError } from '../errors';
import { pageQuerySchema, selectNewestFirst, toPage } from '../pagination';

/**
 * A run's life: queued → running → completed | failed (skipped runs are made skipped by the matcher).
 * Steps run in order, each exactly once: a step that calls a tool submits an action with the key
 * `run:<run>:<index>`, so a run job retried after a crash finds the same action instead of acting twice.
 * A failed step fails the run with its error; the steps after it are skipped.
 */

export const stepActionKey = (runId: number, index: number) => `run:${runId}:${index}`;

export type RunAdvance = { status: 'finished'; runStatus: string } | { status: 'waiting'; actionId: number };

interface StepError {
  code: string;
  message: string;
  details?: unknown[];
}

/** How long a run job waits in place for its step's action before it gives the slot back. */
const STEP_WAIT_MS = 2_000;

export async function advanceRun(db: Db, runId: number, signal?: AbortSignal): Promise<RunAdvance> {
  const [run] = await db
    .update(runs)
    .set({ status: sql`CASE WHEN ${runs.status} = 'queued' THEN 'running' ELSE ${runs.status} END`, startedAt: sql`coalesce(${runs.startedAt}, now())`, updatedAt: sql`now()` })
    .where(eq(runs.id, runId))
    .returning();
  if (!run) return { status: 'finished', runStatus: 'gone' };
  if (run.status !== 'running') return { status: 'finished', runStatus: run.status };

  const steps = await db.select().from(runSteps).where(eq(runSteps.runId, runId)).orderBy(asc(runSteps.index));
  for (const step of steps) {
    if (step.status === 'succeeded' || step.status === 'skipped') continue;
    if (step.status === 'failed') return failRun(db, run, step, (step.error as StepError | null)?.message ?? 'a step failed');
    if (step.tool === 'noop') {
      await settleStep(db, step, 'succeeded', null, null);
      continue;
    }
    let action: Action | null = step.actionId ? await findAction(db, step.actionId) : null;
    if (!action) {
      try {
        const submitted = await submitAction(db, {
          userId: run.userId,
          tool: step.tool,
          input: step.input,
          idempotencyKey: stepActionKey(run.id, step.index),
        });
        action = submitted.action;
      } catch (error) {
        if (error instanceof DomainError) {
          const failure: StepError = { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
          await settleStep(db, step, 'failed', null, failure);
          return failRun(db, run, step, error.message);
        }
        throw error;
      }
      await db
        .update(runSteps)
        .set({ status: 'running', actionId: action.id, startedAt: sql`coalesce(${runSteps.startedAt}, now())` })
        .where(and(eq(runSteps.runId, step.runId), eq(runSteps.index, step.index)));
    }
    if (!isSettled(action)) action = await waitForAction(db, action, STEP_WAIT_MS, signal);
    if (!isSettled(action)) return { status: 'waiting', actionId: action.id };
    if (action.status === 'failed') {
      const answer = (action.error ?? { code: 'internal_error', message: 'the action failed' }) as StepError;
      await settleStep(db, step, 'failed', null, answer);
      return failRun(db, run, step, answer.message);
    }
    await settleStep(db, step, 'succeeded', action.result, null);
  }
  await db
    .update(runs)
    .set({ status: 'completed', finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(runs.id, run.id), eq(runs.status, 'running')));
  return { status: 'finished', runStatus: 'completed' };
}

async function settleStep(db: DbOrTx, step: RunStep, status: 'succeeded' | 'failed', output: unknown, error: StepError | null): Promise<void> {
  await db
    .update(runSteps)
    .set({
      status,
      output: output === undefined ? null : (output as object | null),
      error,
      startedAt: sql`coalesce(${runSteps.startedAt}, now())`,
      finishedAt: sql`now()`,
    })
    .where(and(eq(runSteps.runId, step.runId), eq(runSteps.index, step.index)));
  // A step's change is a change of its run, for the runs list's ETag.
  await db.update(runs).set({ updatedAt: sql`now()` }).where(eq(runs.id, step.runId));
}

async function failRun(db: Db, run: Run, step: RunStep, message: string): Promise<RunAdvance> {
  await db.transaction(async (tx) => {
    await tx
      .update(runSteps)
      .set({ status: 'skipped' })
      .where(and(eq(runSteps.runId, run.id), sql`${runSteps.index} > ${step.index}`, eq(runSteps.status, 'pending')));
    await tx
      .update(runs)
      .set({ status: 'failed', error: `step ${step.index} (${step.tool}) failed: ${message}`, finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(runs.id, run.id), eq(runs.status, 'running')));
  });
  return { status: 'finished', runStatus: 'failed' };
}

// ---- the frontend's reads ---------------------------------------------------------------------------

export const runListQuery = pageQuerySchema.extend({
  unitId: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  status: z.enum(runStatuses).optional(),
});
export type RunListQuery = z.infer<typeof runListQuery>;

export interface RunView {
  id: number;
  unitId: number;
  eventId: number | null;
  eventType: string;
  status: Run['status'];
  error: string | null;
  facts: unknown;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export function runView(run: Run): RunView {
  return {
    id: run.id,
    unitId: run.unitId,
    eventId: run.eventId,
    eventType: run.eventType,
    status: run.status,
    error: run.error,
    facts: run.facts,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
  };
}

export interface StepView {
  index: number;
  tool: string;
  input: unknown;
  output: unknown;
  status: RunStep['status'];
  actionId: number | null;
  error: unknown;
  startedAt: Date | null;
  finishedAt: Date | null;
  durationMs: number | null;
}

export function stepView(step: RunStep): StepView {
  return {
    index: step.index,
    tool: step.tool,
    input: step.input,
    output: step.output,
    status: step.status,
    actionId: step.actionId,
    error: step.error,
    startedAt: step.startedAt,
    finishedAt: step.finishedAt,
    durationMs: step.startedAt && step.finishedAt ? step.finishedAt.getTime() - step.startedAt.getTime() : null,
  };
}

/** The caller's runs, newest first; `unitId` and `status` filter. */
export async function listRuns(db: Db, userId: string, query: RunListQuery) {
  const rows = await selectNewestFirst(
    db,
    runs,
    runs.createdAt,
    runs.id,
    [eq(runs.userId, userId), query.unitId !== undefined ? eq(runs.unitId, query.unitId) : undefined, query.status ? eq(runs.status, query.status) : undefined],
    query,
  );
  return toPage(rows, query.limit, ({ row }) => runView(row));
}

/**
 * A validator for the caller's runs as they are now: the newest change to any of them (an index-only
 * read), so a frontend polling every few seconds gets 304 without the list being read.
 */
export async function runsVersion(db: DbOrTx, userId: string, scope: string): Promise<string> {
  const result = await db.execute<{ version: string | null }>(
    sql`SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') AS version FROM runs WHERE user_id = ${userId}`,
  );
  const version = (result.rows[0] as { version: string | null } | undefined)?.version ?? 'none';
  return `W/"${createHash('sha256').update(`${userId}\u0000${version}\u0000${scope}`).digest('base64url').slice(0, 27)}"`;
}

export async function getRun(db: DbOrTx, userId: string, id: number): Promise<Run> {
  const [run] = await db.select().from(runs).where(and(eq(runs.id, id), eq(runs.userId, userId)));
  if (!run) throw new DomainError('not_found', `run ${id} not found`);
  return run;
}

export async function listSteps(db: DbOrTx, userId: string, runId: number): Promise<StepView[]> {
  await getRun(db, userId, runId);
  const steps = await db.select().from(runSteps).where(eq(runSteps.runId, runId)).orderBy(asc(runSteps.index));
  return steps.map(stepView);
}
