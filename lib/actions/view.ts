import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { actionStatuses, actions, type Action } from '../../db/schema';
import { pageQuerySchema, selectNewestFirst, toPage } from '../pagination';
import { settleAbandoned } from './store';
import type { ActionError } from './types';

/** An action as the API shows it. */
export interface ActionView {
  id: number;
  tool: string;
  provider: string;
  connectionId: number;
  status: Action['status'];
  idempotencyKey: string;
  /** What was asked (attachment contents are dropped once the action has finished). */
  input: unknown;
  result: unknown;
  /** Why it failed (`failed` only). */
  error: ActionError | null;
  /** Why the last attempt did not finish, while the action waits for its next one. */
  lastError: ActionError | null;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  updatedAt: Date;
}

export function actionView(action: Action): ActionView {
  const error = (action.error as ActionError | null) ?? null;
  return {
    id: action.id,
    tool: action.tool,
    provider: action.provider,
    connectionId: action.connectionId,
    status: action.status,
    idempotencyKey: action.idempotencyKey,
    input: action.input,
    result: action.result ?? null,
    error: action.status === 'failed' ? error : null,
    lastError: action.status === 'failed' ? null : error,
    attempts: action.attempts,
    createdAt: action.createdAt,
    startedAt: action.startedAt,
    finishedAt: action.finishedAt,
    updatedAt: action.updatedAt,
  };
}

/** GET /api/actions: newest first; `status` and `tool` filter. */
export const actionListQuery = pageQuerySchema.extend({
  status: z.enum(actionStatuses).optional(),
  tool: z
    .string()
    .regex(/^[a-z]+\.[a-z_]+$/, 'expected a tool name such as email.send')
    .max(64)
    .optional(),
});
export type ActionListQuery = z.infer<typeof actionListQuery>;

/** The caller's actions, newest first, served by actions_user_recent_idx. */
export async function listActions(db: Db, userId: string, query: ActionListQuery) {
  const filters = [
    eq(actions.userId, userId),
    query.status ? eq(actions.status, query.status) : undefined,
    query.tool ? eq(actions.tool, query.tool) : undefined,
  ];
  const rows = await selectNewestFirst(db, actions, actions.createdAt, actions.id, filters, query);
  const settled = await settleAbandoned(db, rows.map(({ row }) => row));
  return toPage(
    rows.map((row, i) => ({ ...row, row: settled[i]! })),
    query.limit,
    ({ row }) => actionView(row),
  );
}
