import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { connections, type Action, type Connection } from '../../db/schema';
import { assertProviderEnabled } from '../config';
import { DomainError } from '../errors';
import { requestHash } from './idempotency';
import { parseToolInput } from './input';
import { countSend } from './limits';
import { createWithJob, findByKey, resubmit } from './store';
import { toolNamed } from './tools';
import type { ActionError } from './types';

export interface ActionRequest {
  userId: string;
  /** email.send, calendar.create_event, crm.create, ... */
  tool: string;
  /** The tool's input, as received: validated here. */
  input: unknown;
  idempotencyKey: string;
  /** The connection to act through; by default the user's active connection of the tool's provider. */
  connectionId?: number;
}

export interface Submitted {
  action: Action;
  /** True when the key had been used before with the same request: nothing new was started. */
  replayed: boolean;
}

/** Refusals whose first answer said "later": running them again is not a second effect. */
const ASK_AGAIN = new Set([429, 503]);

/**
 * Records an action and enqueues the job that runs it, in one transaction, under the caller's
 * Idempotency-Key: the same key with the same request returns the first action (nothing started
 * again); with another request it is refused (`unprocessable`). Input problems are refused before
 * anything is recorded (`validation_failed` or `unprocessable`, naming the field); so is an email past
 * the user's send rate (SendRateExceededError).
 */
export async function submitAction(db: Db, request: ActionRequest): Promise<Submitted> {
  const tool = toolNamed(request.tool);
  assertProviderEnabled(tool.provider);
  const parsed = parseToolInput(tool.input, request.input);
  const input = tool.prepare ? tool.prepare(parsed) : parsed;
  const hash = requestHash(tool.name, input);

  const existing = await findByKey(db, request.userId, request.idempotencyKey);
  if (existing) return replay(db, existing, tool.name, hash);

  const connection = await actingConnection(db, request.userId, tool.provider, request.connectionId);
  if (tool.name === 'email.send') await countSend(request.userId);
  const created = await createWithJob(db, {
    userId: request.userId,
    connectionId: connection.id,
    provider: tool.provider,
    tool: tool.name,
    idempotencyKey: request.idempotencyKey,
    requestHash: hash,
    input,
  });
  if (created) return { action: created, replayed: false };
  // A concurrent request with the same key won the insert: answer as a replay of it.
  const winner = await findByKey(db, request.userId, request.idempotencyKey);
  if (!winner) throw new DomainError('conflict', 'the Idempotency-Key is being used by a concurrent request; retry');
  return replay(db, winner, tool.name, hash);
}

async function replay(db: Db, action: Action, tool: string, hash: string): Promise<Submitted> {
  if (action.tool !== tool || action.requestHash !== hash) {
    throw new DomainError('unprocessable', 'this Idempotency-Key was used with a different request; use a new key for a new request', [
      { path: 'Idempotency-Key', message: `already used for another ${action.tool} request (action ${action.id})` },
    ]);
  }
  const error = action.error as ActionError | null;
  if (action.status === 'failed' && error && ASK_AGAIN.has(error.status)) {
    const askAgainAt = (action.finishedAt?.getTime() ?? 0) + (error.retryAfterSeconds ?? 0) * 1000;
    if (Date.now() >= askAgainAt) {
      const again = await resubmit(db, action);
      if (again) return { action: again, replayed: false };
    }
  }
  return { action, replayed: true };
}

/** The connection an action goes through: the one named (the caller's own, active), else the newest active one. */
export async function actingConnection(db: Db, userId: string, provider: string, connectionId?: number): Promise<Connection> {
  const [connection] = await db
    .select()
    .from(connections)
    .where(
      and(
        eq(connections.userId, userId),
        eq(connections.provider, provider),
        eq(connections.status, 'active'),
        connectionId === undefined ? undefined : eq(connections.id, connectionId),
      ),
    )
    .orderBy(desc(connections.createdAt), desc(connections.id))
    .limit(1);
  if (!connection) {
    throw new DomainError('unprocessable', `you have no active ${provider} connection to act through`, [
      { path: 'connection', message: `connect ${provider} first (POST /api/connections), or resume it` },
    ]);
  }
  return connection;
}
