import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Db, Tx } from '../../db/client';
import type { Connection } from '../../db/schema';

/**
 * How a failed action is answered, kept on the action so that a replay (the same Idempotency-Key and
 * request) answers exactly as the first time: the HTTP status, a code of the error vocabulary, and the
 * fields at fault.
 */
/** A field at fault (dotted path, empty for the whole input) and why; more keys where useful. */
export interface ActionErrorDetail {
  path: string;
  message: string;
  [key: string]: unknown;
}

export interface ActionError {
  status: number;
  code: string;
  message: string;
  details?: ActionErrorDetail[];
  /** For a 429: when asking again makes sense. */
  retryAfterSeconds?: number;
}

/**
 * A definitive outcome: the action ends `failed` with this answer and its job is not retried (the
 * provider refused the request itself: an unknown event, a duplicate record, a missing field).
 */
export class ActionFailure extends Error {
  readonly code = 'action_failed';
  constructor(readonly answer: ActionError) {
    super(answer.message);
    this.name = 'ActionFailure';
  }
}

export const failure = {
  unprocessable: (message: string, details?: ActionError['details']) =>
    new ActionFailure({ status: 422, code: 'unprocessable', message, ...(details ? { details } : {}) }),
  notFound: (message: string, details?: ActionError['details']) =>
    new ActionFailure({ status: 404, code: 'not_found', message, ...(details ? { details } : {}) }),
  conflict: (message: string, details?: ActionError['details']) =>
    new ActionFailure({ status: 409, code: 'conflict', message, ...(details ? { details } : {}) }),
  rateLimited: (message: string, retryAfterSeconds: number) =>
    new ActionFailure({ status: 429, code: 'rate_limited', message, retryAfterSeconds }),
  unavailable: (message: string) => new ActionFailure({ status: 503, code: 'dependency_unavailable', message }),
};

/** What an action's run may do; built by the action job's handler (./handler.ts). */
export interface ActionContext<Input, State extends object> {
  db: Db;
  action: { id: number; userId: string; idempotencyKey: string; tool: string; createdAt: Date };
  input: Input;
  connection: Connection;
  /** The provider ids recorded so far (by earlier attempts too): what makes a retry safe. */
  state: Readonly<Partial<State>>;
  /**
   * Records provider ids on the action at once, committed, before anything else can fail: a retry
   * after a crash finds them. Fenced: an attempt that a newer one superseded records nothing and stops.
   */
  record(patch: Partial<State>): Promise<void>;
  /**
   * One provider request: paced (`units` of the user's quota), under the provider's timeout, retry
   * and circuit breaker, re-authenticated once on a 401.
   */
  request<T>(units: number, call: (accessToken: string, signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Salesforce's instance URL (from the Nango connection). */
  instanceUrl(): Promise<string>;
  signal: AbortSignal;
  logger: Logger;
}

export interface ActionOutcome {
  /** What the caller gets (and a replay returns). */
  result: unknown;
  /** Writes the synced rows of what changed (read your writes), in the transaction that records the success. */
  store?(tx: Tx): Promise<void>;
}

/**
 * An action a provider offers, as the API and automations call it (its name is the tool's name).
 * `prepare` checks the input before anything is recorded: malformed input is `validation_failed`
 * (400), input that is well-formed but invalid (an address that is not one, an end before the start)
 * `unprocessable` (422), each naming the field.
 */
export interface ActionTool<Input = any, State extends object = any> {
  name: string;
  /** The declaring provider's name (a string here: the declarations' types are derived from the tools). */
  provider: string;
  input: z.ZodType<Input>;
  prepare?(input: Input): Input;
  /** What of the input is kept once the action has finished (default: all of it). */
  retained?(input: Input): unknown;
  run(context: ActionContext<Input, State>): Promise<ActionOutcome>;
}

export function defineTool<Input, State extends object>(tool: ActionTool<Input, State>): ActionTool<Input, State> {
  return tool;
}
