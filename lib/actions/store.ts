import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Db, DbOrTx, Tx } from '../../db/client';
import { actions, type Action, type ActionStatus } from '../../db/schema';
import { enqueue, getJobs } from '../jobs';
import type { ActionError } from './types';

/** The job kind that runs actions (lib/worker/registry.ts wires it to ./handler.ts). */
export const ACTION_JOB_KIND = 'action';
/** Ahead of syncs (priority 0): someone is waiting for an action. */
export const ACTION_JOB_PRIORITY = -10;
/** Provider errors are retried in-process first (PROVIDER_MAX_RETRIES); these are whole attempts. */
export const ACTION_MAX_ATTEMPTS = 6;

export interface NewAction {
  userId: string;
  connectionId: number;
  /** The tool's provider (connections.provider). */
  provider: string;
  tool: string;
  idempotencyKey: string;
  requestHash: string;
  input: unknown;
}

export async function findByKey(db: DbOrTx, userId: string, idempotencyKey: string): Promise<Action | null> {
  const [row] = await db
    .select()
    .from(actions)
    .where(and(eq(actions.userId, userId), eq(actions.idempotencyKey, idempotencyKey)));
  return row ?? null;
}

/** The action, scoped to its user when `userId` is given (another user's is null: a 404). */
export async function findAction(db: DbOrTx, id: number, userId?: string): Promise<Action | null> {
  const [row] = await db
    .select()
    .from(actions)
    .where(and(eq(actions.id, id), userId === undefined ? undefined : eq(actions.userId, userId)));
  return row ?? null;
}

/** An action's status alone (what a waiting request looks at), by its primary key. */
export async function actionStatus(db: DbOrTx, id: number): Promise<ActionStatus | null> {
  const [row] = await db.select({ status: actions.status }).from(actions).where(eq(actions.id, id));
  return row?.status ?? null;
}

/**
 * The action and the job that runs it, in one transaction: neither exists without the other. Null when
 * the key is already taken (a concurrent request with the same key won): read that one instead.
 */
export async function createWithJob(db: Db, input: NewAction): Promise<Action | null> {
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(actions)
      .values({ ...input, input: input.input as object })
      .onConflictDoNothing({ target: [actions.userId, actions.idempotencyKey] })
      .returning();
    if (!created) return null;
    return enqueueJob(tx, created);
  });
}

/** Enqueues the action's job and records it on the action, in the caller's transaction. */
async function enqueueJob(tx: Tx, action: Action): Promise<Action> {
  const { job } = await enqueue(tx, {
    kind: ACTION_JOB_KIND,
    userId: action.userId,
    payload: { actionId: action.id },
    priority: ACTION_JOB_PRIORITY,
    maxAttempts: ACTION_MAX_ATTEMPTS,
    dedupeKey: `action:${action.id}`,
  });
  const [withJob] = await tx.update(actions).set({ jobId: job.id }).where(eq(actions.id, action.id)).returning();
  return withJob!;
}

/**
 * Runs a failed action again, for a request with its key and body whose failure said to ask again
 * later (a quota refusal, the provider unavailable): it had no effect, so running it is not a second one.
 * The recorded provider ids stay, so the run continues where the last one stopped.
 */
export async function resubmit(db: Db, action: Action): Promise<Action | null> {
  return db.transaction(async (tx) => {
    const [reset] = await tx
      .update(actions)
      .set({ status: 'queued', error: null, result: null, finishedAt: null, updatedAt: sql`now()` })
      .where(and(eq(actions.id, action.id), eq(actions.status, 'failed'), eq(actions.attempts, action.attempts)))
      .returning();
    if (!reset) return null;
    return enqueueJob(tx, reset);
  });
}

/**
 * Starts an attempt: running, its attempt counted (the fencing token of everything the attempt records).
 * Null when the action has finished already (a job run again after its action settled).
 */
export async function startAttempt(db: DbOrTx, id: number): Promise<Action | null> {
  const [row] = await db
    .update(actions)
    .set({
      status: 'running',
      attempts: sql`${actions.attempts} + 1`,
      startedAt: sql`coalesce(${actions.startedAt}, now())`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(actions.id, id), inArray(actions.status, ['queued', 'running'])))
    .returning();
  return row ?? null;
}

const heldBy = (id: number, attempt: number) =>
  and(eq(actions.id, id), eq(actions.attempts, attempt), eq(actions.status, 'running'));

/** Merges provider ids into the action's state, while this attempt is still the action's latest. */
export async function recordState(db: DbOrTx, id: number, attempt: number, patch: object): Promise<boolean> {
  const updated = await db
    .update(actions)
    .set({ providerState: sql`${actions.providerState} || ${JSON.stringify(patch)}::jsonb`, updatedAt: sql`now()` })
    .where(heldBy(id, attempt))
    .returning({ id: actions.id });
  return updated.length > 0;
}

export async function markSucceeded(db: DbOrTx, id: number, attempt: number, result: unknown, input: unknown): Promise<boolean> {
  return settleAs(db, id, attempt, 'succeeded', { result: (result ?? null) as object, error: null, input: input as object });
}

export async function markFailed(db: DbOrTx, id: number, attempt: number, error: ActionError, input: unknown): Promise<boolean> {
  return settleAs(db, id, attempt, 'failed', { error, input: input as object });
}

/** Back in line for another attempt (a transient failure, a quota deferral): the reason is kept as its last error. */
export async function markWaiting(db: DbOrTx, id: number, attempt: number, lastError: ActionError | null): Promise<void> {
  await db
    .update(actions)
    .set({ status: 'queued', error: lastError, updatedAt: sql`now()` })
    .where(heldBy(id, attempt));
}

async function settleAs(
  db: DbOrTx,
  id: number,
  attempt: number,
  status: Extract<ActionStatus, 'succeeded' | 'failed'>,
  values: Partial<typeof actions.$inferInsert>,
): Promise<boolean> {
  const updated = await db
    .update(actions)
    .set({ ...values, status, finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(heldBy(id, attempt))
    .returning({ id: actions.id });
  return updated.length > 0;
}

/**
 * Actions whose job ended without settling them (dead after its attempts, with leases lapsing under
 * runners that kept dying; cancelled; failed outside the handler) are failed here, as 503 with the job's
 * last error: the same request may be sent again, and then continues from the provider ids recorded.
 * Returns the actions as they are now (the ones given, updated where it applied).
 */
export async function settleAbandoned(db: DbOrTx, given: Action[]): Promise<Action[]> {
  const open = given.filter((action) => (action.status === 'queued' || action.status === 'running') && action.jobId !== null);
  if (open.length === 0) return given;
  const ended = (await getJobs(db, open.map((action) => action.jobId!))).filter((job) => ['dead', 'failed', 'cancelled'].includes(job.status));
  if (ended.length === 0) return given;
  const updated = new Map<number, Action>();
  for (const job of ended) {
    const action = open.find((a) => a.jobId === job.id)!;
    const error: ActionError = {
      status: 503,
      code: 'dependency_unavailable',
      message: `the action's job ended ${job.status}${job.lastError ? `: ${job.lastError}` : ''}; send the same request again to resume it`,
    };
    const [row] = await db
      .update(actions)
      .set({ status: 'failed', error, finishedAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(actions.id, action.id), inArray(actions.status, ['queued', 'running']), eq(actions.jobId, job.id)))
      .returning();
    if (row) updated.set(row.id, row);
  }
  return given.map((action) => updated.get(action.id) ?? action);
}

/** Deletes actions older than the retention (their Idempotency-Keys go with them); one statement. */
export async function pruneActions(db: DbOrTx, retentionDays: number): Promise<number> {
  const result = await db.execute(sql`
    DELETE FROM actions
    WHERE created_at < now() - make_interval(days => ${retentionDays}) AND status IN ('succeeded', 'failed')`);
  return result.rowCount ?? 0;
}
