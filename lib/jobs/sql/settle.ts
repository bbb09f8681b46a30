import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { executePrepared } from '../../../db/prepared';
import { storableJson, storableText } from '../../../db/text';
import type { JobStatus } from '../job';
import { JOB_COLUMNS, JOB_COLUMN_NAMES, toJob, type QueuedJob } from '../job';
import { claimedUpdate } from './claim';
import { ASYNC_COMMIT } from './async-commit';
import { rows } from './result';

export type Settlement =
  | { id: number; attempt: number; outcome: 'succeeded'; result?: unknown }
  /** Retry after `retryAt`, or `dead` when attempts are used up. */
  | { id: number; attempt: number; outcome: 'retry'; error: string; retryAt: Date }
  /** Runs again at `until` without spending the attempt. */
  | { id: number; attempt: number; outcome: 'deferred'; until: Date; reason: string }
  /** Ends the job: `failed` (retrying can't help) or `dead` (needs an operator). */
  | { id: number; attempt: number; outcome: 'failed' | 'dead'; error: string };

export interface SettledJob {
  id: number;
  userId: string;
  status: JobStatus;
}

/**
 * A rerun asked for after the job's cancellation (a resume after a pause, a re-connect after a delete)
 * wins over it: the job is queued again from its start, with fresh attempts.
 */
export const RERUN_AFTER_CANCEL = `(j.cancel_requested_at IS NOT NULL AND j.rerun_requested_at > j.cancel_requested_at)`;

/** Where a settled job goes, from its outcome (`i`) and its row as it is now (`j`). */
const NEXT_STATUS = sql.raw(`(CASE
  WHEN ${RERUN_AFTER_CANCEL} THEN 'queued'
  WHEN j.cancel_requested_at IS NOT NULL THEN 'cancelled'
  WHEN i.outcome = 'succeeded' AND j.rerun_requested_at IS NOT NULL THEN 'queued'
  WHEN i.outcome = 'succeeded' THEN 'succeeded'
  WHEN i.outcome = 'deferred' THEN 'queued'
  WHEN i.outcome = 'retry' AND j.attempts >= j.max_attempts THEN 'dead'
  WHEN i.outcome = 'retry' THEN 'queued'
  ELSE i.outcome
END)`);

const RERUN = sql.raw(RERUN_AFTER_CANCEL);

/**
 * Settles a batch of jobs this runner holds, in one statement. Rows whose lease this runner no
 * longer holds (lapsed and reclaimed, or cancelled and swept) are left alone and not returned.
 * Prepared (`db/prepared.ts`); commits without waiting for the WAL flush (`async-commit.ts`).
 */
export async function settle(db: DbOrTx, runnerId: string, settlements: Settlement[]): Promise<SettledJob[]> {
  if (settlements.length === 0) return [];
  const result = await executePrepared(db, 'settle', sql`
    WITH ${settledSql(runnerId, settlements)},
    ${releaseSlots(sql`settled`)}
    SELECT id, user_id, status FROM settled, ${ASYNC_COMMIT}
  `);
  return rows(result).map(toSettledJob);
}

export interface HandOff {
  /** Most jobs to take in all. */
  limit: number;
  leaseSeconds: number;
  /** Running jobs allowed per user unless job_users.running_cap says otherwise. */
  perUserCap: number;
}

/**
 * Settles a batch like `settle`, and in the same statement hands each slot it frees to the same
 * user's next runnable job, claimed for this runner (up to `limit` in all, never over the user's
 * cap): a user with a backlog keeps its slots without a round trip through job_users and a claim.
 * Only what no successor took is released. For a runner with room to spare (its handlers are quick
 * and it claims ahead anyway): the fair claim still serves every other user in the same pass, and a
 * runner whose handlers are the bottleneck should leave the choice of the next user to `claim`.
 */
export async function settleAndHandOff(
  db: DbOrTx,
  runnerId: string,
  settlements: Settlement[],
  handOff: HandOff,
): Promise<{ settled: SettledJob[]; handedOff: QueuedJob[] }> {
  if (settlements.length === 0) return { settled: [], handedOff: [] };
  if (handOff.limit <= 0) return { settled: await settle(db, runnerId, settlements), handedOff: [] };
  const result = await executePrepared(db, 'settle_hand_off', sql`
    WITH ${settledSql(runnerId, settlements)},
    released AS (
      SELECT user_id, count(*)::int AS n FROM settled GROUP BY user_id
    ),
    -- Each released slot may pass to the user's next runnable job: the user's running count stays
    -- as it was (a successor only replaces a job of this batch), so job_users is neither read
    -- locked nor written for it, and the cap holds by construction; a cap lowered since (running
    -- above it) is honoured by passing on fewer.
    successor_candidates AS (
      SELECT c.id FROM released r
      -- By key, one user at a time (as in the claim: the planner cannot know how few users there are).
      CROSS JOIN LATERAL (SELECT * FROM job_users u WHERE u.user_id = r.user_id LIMIT 1) u
      CROSS JOIN LATERAL (
        SELECT j.id, j.priority, j.run_at FROM jobs j
        WHERE j.user_id = r.user_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT greatest(0, least(r.n, coalesce(u.running_cap, ${handOff.perUserCap}) - u.running + r.n))
      ) c
      ORDER BY c.priority, c.run_at, c.id
      LIMIT ${Math.floor(handOff.limit)}
    ),
    successors AS (
      SELECT j.id FROM jobs j
      WHERE j.id = ANY (ARRAY(SELECT id FROM successor_candidates)) AND j.status = 'queued' AND j.run_at <= now()
      FOR UPDATE OF j SKIP LOCKED
    ),
    handed AS (
      ${claimedUpdate(runnerId, handOff.leaseSeconds, sql`successors`)}
    ),
    -- What no successor took is released, the user rows locked in user_id order as every release
    -- locks them (after the job rows above: a statement that waits for a user row holds no user row
    -- taken out of that order, so releases never deadlock).
    unfilled AS (
      SELECT r.user_id, r.n - coalesce(h.n, 0) AS n
      FROM released r
      LEFT JOIN (SELECT user_id, count(*)::int AS n FROM handed GROUP BY user_id) h ON h.user_id = r.user_id
      WHERE r.n > coalesce(h.n, 0)
    ),
    ${releaseSlots(sql`unfilled`, { counted: true })}
    SELECT true AS handed_off, ${JOB_COLUMNS} FROM handed, ${ASYNC_COMMIT}
    UNION ALL
    SELECT false, ${SETTLED_AS_JOB_COLUMNS} FROM settled, ${ASYNC_COMMIT}
  `);
  const settled: SettledJob[] = [];
  const handedOff: QueuedJob[] = [];
  for (const row of rows(result)) {
    if (row.handed_off) handedOff.push(toJob(row));
    else settled.push(toSettledJob(row));
  }
  handedOff.sort((a, b) => a.priority - b.priority || a.runAt.getTime() - b.runAt.getTime() || a.id - b.id);
  return { settled, handedOff };
}

/** `settled`'s rows in the shape of JOB_COLUMNS (id, user_id and status; the rest null), for a UNION with jobs. */
const SETTLED_AS_JOB_COLUMNS = sql.raw(
  JOB_COLUMN_NAMES.map((column) => (['id', 'user_id', 'status'].includes(column) ? column : 'NULL')).join(', '),
);

/** The `input` and `settled` CTEs: the batch, and the UPDATE that settles it (`RETURNING id, user_id, status`). */
function settledSql(runnerId: string, settlements: Settlement[]): SQL {
  const batch = settlements.map((s) => ({
    id: s.id,
    attempt: s.attempt,
    outcome: s.outcome,
    run_at: runAtOf(s),
    // Whatever an error message or a result holds is stored: a NUL or a surrogate pair cut in half
    // must not fail the batch's settlement.
    message: storableOrNull(messageOf(s)),
    // As text, so that a handler's `null` result is stored as JSON null rather than read as SQL NULL.
    result: s.outcome === 'succeeded' && s.result !== undefined ? storableJson(s.result) : null,
  }));
  // The batch as one jsonb document: the statement is prepared, and jsonb_to_recordset's fixed
  // estimate (100 rows) keeps its generic plan from looping over the batch once per job, which an
  // unnest of array parameters (estimated at 10) did.
  return sql`input AS (
      SELECT i.id, i.attempt, i.outcome, i.run_at, i.message, i.result::jsonb AS result
      FROM jsonb_to_recordset(${JSON.stringify(batch)}::jsonb)
        AS i(id bigint, attempt int, outcome text, run_at timestamptz, message text, result text)
    ),
    -- One UPDATE, no separate locking read: its SET is computed on the row's latest version (a
    -- cancellation or rerun request that committed meanwhile is seen), and its WHERE is re-checked
    -- there too, so a lease that lapsed and was taken over is left alone (fencing).
    settled AS (
      UPDATE jobs j SET
        status = ${NEXT_STATUS},
        run_at = CASE
          WHEN ${RERUN} THEN now()
          WHEN ${NEXT_STATUS} = 'queued' THEN coalesce(i.run_at, now())
          ELSE j.run_at END,
        attempts = CASE
          WHEN ${RERUN} THEN 0
          WHEN i.outcome = 'deferred' THEN j.attempts - 1
          WHEN i.outcome = 'succeeded' AND ${NEXT_STATUS} = 'queued' THEN 0
          ELSE j.attempts END,
        rerun_requested_at = CASE WHEN i.outcome = 'succeeded' OR ${RERUN} THEN NULL ELSE j.rerun_requested_at END,
        cancel_requested_at = CASE WHEN ${RERUN} THEN NULL ELSE j.cancel_requested_at END,
        -- A success leaves no error behind: an earlier attempt's is history, not the job's state.
        last_error = CASE
          WHEN i.outcome = 'succeeded' THEN NULL
          WHEN i.outcome = 'deferred' THEN 'deferred: ' || i.message
          WHEN ${NEXT_STATUS} = 'dead' AND i.outcome = 'retry' THEN i.message || ' (gave up after ' || j.attempts || ' attempts)'
          ELSE i.message END,
        result = coalesce(i.result, j.result),
        locked_by = NULL,
        locked_until = NULL,
        finished_at = CASE WHEN ${NEXT_STATUS} = 'queued' THEN NULL ELSE now() END,
        updated_at = now()
      FROM input i
      WHERE j.id = i.id AND j.status = 'running' AND j.locked_by = ${runnerId} AND j.attempts = i.attempt
      RETURNING j.id, j.user_id, j.status
    )`;
}

/** A row of `RETURNING id, user_id, status`. */
export function toSettledJob(row: Record<string, unknown>): SettledJob {
  return { id: Number(row.id), userId: row.user_id as string, status: row.status as JobStatus };
}

/**
 * CTEs that decrement job_users.running for the rows of `left` (jobs that just left `running`).
 * The user rows are locked in user_id order so two batches never deadlock on them.
 */
export function releaseSlots(left: SQL, { counted = false } = {}): SQL {
  return sql`
    released_slots AS (
      ${counted ? sql`SELECT user_id, n FROM ${left}` : sql`SELECT user_id, count(*)::int AS n FROM ${left} GROUP BY user_id`}
    ),
    slot_locks AS (
      SELECT u.user_id FROM job_users u
      WHERE u.user_id IN (SELECT user_id FROM released_slots)
      ORDER BY u.user_id
      FOR UPDATE
    ),
    slots_released AS (
      UPDATE job_users u SET running = u.running - r.n, updated_at = now()
      FROM released_slots r, slot_locks l
      WHERE u.user_id = r.user_id AND l.user_id = r.user_id
    )`;
}

function runAtOf(settlement: Settlement): string | null {
  if (settlement.outcome === 'retry') return settlement.retryAt.toISOString();
  if (settlement.outcome === 'deferred') return settlement.until.toISOString();
  return null;
}

function storableOrNull(text: string | null): string | null {
  return text === null ? null : storableText(text);
}

function messageOf(settlement: Settlement): string | null {
  if (settlement.outcome === 'succeeded') return null;
  if (settlement.outcome === 'deferred') return settlement.reason;
  return settlement.error;
}

