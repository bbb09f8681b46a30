import { EventEmitter } from 'node:events';
import type { DbOrTx } from '../../db/client';
import type { Action } from '../../db/schema';
import { actionStatus, findAction, settleAbandoned } from './store';

/**
 * Actions that finished in this process, announced the moment their outcome commits: a request waiting
 * here for an action run by this instance's runner (the kicked pass) answers without a polling delay.
 * Actions that finish elsewhere are seen by polling the row.
 */
const finished = new EventEmitter();
finished.setMaxListeners(0);

export function announceFinished(actionId: number): void {
  finished.emit(String(actionId));
}

const FIRST_POLL_MS = 25;
/** Past this, the in-process announcement is what answers quickly; polls only catch other instances. */
const MAX_POLL_MS = 500;

export const isSettled = (action: Pick<Action, 'status'>) => action.status === 'succeeded' || action.status === 'failed';

/**
 * The action once it has finished, or as it is when `waitMs` has passed (or the client went away).
 * Polls the row, 25 ms first and backing off to 250 ms; an announcement from this process wakes it at once.
 */
export async function waitForAction(
  db: DbOrTx,
  action: Action,
  waitMs: number,
  signal?: AbortSignal,
  /** Called at each look while the action waits in the queue (to start a runner pass for its retry). */
  whileQueued?: () => void,
): Promise<Action> {
  const deadline = Date.now() + waitMs;
  let status = action.status;
  let interval = FIRST_POLL_MS;
  // Each look reads the status alone (the row may hold megabytes of attachments); the whole row once at the end.
  while (!isSettled({ status }) && Date.now() < deadline && !signal?.aborted) {
    await nap(action.id, Math.min(interval, deadline - Date.now()), signal);
    interval = Math.min(MAX_POLL_MS, interval * 2);
    status = (await actionStatus(db, action.id)) ?? status;
    if (status === 'queued') whileQueued?.();
  }
  const current = status === action.status ? action : ((await findAction(db, action.id)) ?? action);
  // Still open at the end of the wait: its job may have ended without it (dead after its attempts).
  if (!isSettled(current)) return (await settleAbandoned(db, [current]))[0]!;
  return current;
}

function nap(actionId: number, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const key = String(actionId);
    const done = () => {
      clearTimeout(timer);
      finished.off(key, done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    finished.once(key, done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
