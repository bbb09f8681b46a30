import { waitUntil } from '@vercel/functions';
import { z } from 'zod';
import type { Action } from '../../db/schema';
import { config } from '../config';
import { db } from '../database';
import { jsonBody } from '../http/body';
import { rateLimited } from '../http/errors';
import type { Caller } from '../http/auth';
import type { RequestContext } from '../http/route';
import { idempotencyKeyOf } from './idempotency';
import { SendRateExceededError } from './limits';
import { submitAction } from './submit';
import type { ActionError } from './types';
import { actionView } from './view';
import { isSettled, waitForAction } from './wait';

/**
 * The HTTP side of the write endpoints (POST /api/emails/send, /api/calendar/events, /api/crm/...),
 * shared so that every one answers alike:
 * - the Idempotency-Key header is required; the same key with the same request answers the first
 *   outcome again (`Idempotent-Replayed: true`), with another request 422;
 * - the action runs as a job, started at once in this instance (`waitUntil`), and the request waits
 *   for it up to ACTIONS_WAIT_MS: 200 `{action}` with its result, the failure's own status with the
 *   error envelope and `{action}`, or 202 `{action}` (Location: /api/actions/{id}) while it runs.
 */

/** The JSON body, as received (the tool validates it), up to `limitBytes` (413 past it). */
export function actionBody(request: Request, limitBytes?: number): Promise<unknown> {
  return jsonBody(request, z.unknown(), limitBytes);
}

export interface Perform {
  tool: string;
  input: unknown;
  connectionId?: number;
}

export async function performAction(
  request: Request,
  context: RequestContext & { caller: Caller },
  perform: Perform,
  startRunner: () => Promise<unknown>,
): Promise<Response> {
  const idempotencyKey = idempotencyKeyOf(request);
  const database = db();
  let submitted;
  try {
    submitted = await submitAction(database, { userId: context.caller.userId, idempotencyKey, ...perform });
  } catch (error) {
    if (error instanceof SendRateExceededError) {
      const refusal = rateLimited(error.retryAfterSeconds);
      throw Object.assign(refusal, { message: error.message });
    }
    throw error;
  }
  let action = submitted.action;
  const kick = config().ACTIONS_KICK_RUNNER ? () => waitUntil(startRunner()) : undefined;
  if (!isSettled(action)) {
    kick?.();
    // A retry after a transient failure is due within the wait: the pass that ran the first attempt may
    // have ended, so each look at a queued action starts one (or nudges the one under way).
    action = await waitForAction(database, action, config().ACTIONS_WAIT_MS, request.signal, kick);
  }
  context.logger.info({ actionId: action.id, tool: action.tool, status: action.status, replayed: submitted.replayed }, 'action');
  return actionResponse(action, context.requestId, submitted.replayed);
}

/** An action as its request is answered: 200, its failure's status, or 202 while it runs. */
export function actionResponse(action: Action, requestId: string, replayed = false): Response {
  const headers: Record<string, string> = replayed ? { 'Idempotent-Replayed': 'true' } : {};
  const view = actionView(action);
  if (action.status === 'succeeded') return Response.json({ action: view }, { status: 200, headers });
  if (action.status === 'failed') {
    const error = (action.error as ActionError | null) ?? { status: 500, code: 'internal_error', message: 'the action failed' };
    if (error.retryAfterSeconds !== undefined) headers['Retry-After'] = String(error.retryAfterSeconds);
    return Response.json(
      { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}), requestId }, action: view },
      { status: error.status, headers },
    );
  }
  return Response.json({ action: view }, { status: 202, headers: { ...headers, Location: `/api/actions/${action.id}`, 'Retry-After': '1' } });
}
