import { sql } from 'drizzle-orm';

/**
 * A FROM item that turns off the wait for the WAL flush at this statement's commit. For the runner's
 * own bookkeeping only (claims, settlements, lease renewals and reclaims), never for an enqueue:
 * a database crash can lose the last few hundred milliseconds of them, which the queue already
 * tolerates (a lost claim lets the job be claimed again; a lost settlement leaves the job running
 * until its lease lapses, then it runs again: at least once, as after a runner crash). Waiting for
 * the flush (IO:WalSync) was what serialised small claims across runners.
 */
export const ASYNC_COMMIT = sql.raw(`(SELECT set_config('synchronous_commit', 'off', true)) AS async_commit`);
