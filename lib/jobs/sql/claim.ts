import { sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client';
import { JOB_COLUMNS, toJob, type QueuedJob } from '../job';
import { executePrepared } from '../../../db/prepared';
import { ASYNC_COMMIT } from './async-commit';
import { rows } from './result';

export interface ClaimOptions {
  runnerId: string;
  limit: number;
  leaseSeconds: number;
  /** Running jobs allowed per user unless job_users.running_cap says otherwise. */
  perUserCap: number;
  /**
   * How many of its jobs a user counts for when the claim decides how many users it needs to fill
   * `limit` (a fair-queueing quantum). Default: ceil(limit / 10), so 1 (pure round-robin) for
   * batches of up to 10. See `claim`.
   */
  quantum?: number;
}

/** Default quantum: pure round-robin for small batches; at most ~10 users per claim for big ones. */
export function defaultQuantum(limit: number): number {
  return Math.max(1, Math.ceil(limit / 10));
}

/**
 * The users with queued jobs, found by skipping through jobs_claim_idx one user at a time (its order,
 * so that no other index is walked): a claim never visits the users without work, however many
 * job_users holds. A recursive CTE: `WITH RECURSIVE ${WAITING}`.
 */
const WAITING = sql.raw(`waiting(user_id) AS (
      (SELECT j.user_id FROM jobs j WHERE j.status = 'queued'
       ORDER BY j.user_id, j.priority, j.run_at, j.id LIMIT 1)
      UNION ALL
      SELECT (SELECT j.user_id FROM jobs j WHERE j.status = 'queued' AND j.user_id > w.user_id
              ORDER BY j.user_id, j.priority, j.run_at, j.id LIMIT 1)
      FROM waiting w WHERE w.user_id IS NOT NULL
    )`);

/**
 * Whether some user has a runnable job and a free slot: what a claim that came back empty asks
 * before the runner calls the queue empty. Claims that raced (another runner's claim or settlement
 * held the user rows, or committed just before) come back empty while work is left; the queue is
 * empty for this runner only when nothing is claimable. Reads the latest committed state, idle users
 * cost nothing (as in `claim`), and it stops at the first such user.
 */
export async function claimable(db: DbOrTx, perUserCap: number): Promise<boolean> {
  const result = await db.execute(sql`
    WITH RECURSIVE ${WAITING}
    SELECT EXISTS (
      SELECT 1 FROM waiting w
      JOIN job_users u ON u.user_id = w.user_id
      WHERE u.running < coalesce(u.running_cap, ${perUserCap})
        AND EXISTS (SELECT 1 FROM jobs j WHERE j.user_id = w.user_id AND j.status = 'queued' AND j.run_at <= now())
    ) AS claimable
  `);
  return Boolean(rows(result)[0]?.claimable);
}

/**
 * Claims up to `limit` runnable jobs in one statement.
 *
 * Fairness: users are taken in the order of their most urgent runnable job, and the batch is spread
 * round-robin across the users taken (every taken user's first job before anyone's second). A claim
 * takes only as many users as it needs: in that order, each user counting for up to `quantum` of its
 * runnable jobs (and no more than its free slots), until `limit` is reached. A claimer therefore locks
 * a few users, not every user with work, and concurrent runners claim (and settle) disjoint users
 * instead of skipping each other's; a user that got its quantum goes back in line behind the users
 * whose most urgent job is older.
 * Cap: the user rows are locked FOR UPDATE SKIP LOCKED (in that order, skipping rows another
 * claimer or a settlement holds); a locked row is re-read at its latest version, so `running` is
 * exact even when many runners claim at once.
 * Cost: only the chosen job rows are locked (FOR UPDATE SKIP LOCKED, re-checked at their latest
 * version), not every candidate of every user; only users with queued jobs are looked at (idle
 * users in job_users cost nothing); the statement is prepared once per connection and commits
 * without waiting for the WAL flush (`db/prepared.ts`, `async-commit.ts`).
 */
export async function claim(db: DbOrTx, options: ClaimOptions): Promise<QueuedJob[]> {
  if (options.limit <= 0) return [];
  const limit = Math.floor(options.limit);
  const quantum = Math.max(1, Math.floor(options.quantum ?? defaultQuantum(limit)));
  const cap = options.perUserCap;
  const result = await executePrepared(db, 'claim', sql`
    WITH RECURSIVE ${WAITING},
    heads AS (
      SELECT u.user_id, head.priority, head.run_at, head.id, u.running AS seen_running,
             coalesce(u.running_cap, ${cap}) - u.running AS free
      FROM waiting w
      -- By key, one user at a time (the LIMIT keeps the planner from hashing all of job_users: it
      -- cannot know how few users the recursion finds).
      CROSS JOIN LATERAL (SELECT * FROM job_users u WHERE u.user_id = w.user_id LIMIT 1) u
      CROSS JOIN LATERAL (
        SELECT j.priority, j.run_at, j.id FROM jobs j
        WHERE j.user_id = u.user_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT 1
      ) head
      WHERE u.running < coalesce(u.running_cap, ${cap})
      ORDER BY head.priority, head.run_at, head.id
      LIMIT ${limit}
    ),
    -- In line, each user counts for its runnable jobs up to the quantum (and its free slots): the
    -- claim takes the users it needs to reach the limit (the stream stops there), and when they have
    -- enough, the quantum of each suffices (the round-robin would not reach a deeper turn).
    stream AS (
      SELECT h.user_id
      FROM heads h
      CROSS JOIN LATERAL (
        SELECT 1 FROM jobs j
        WHERE j.user_id = h.user_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT least(h.free, ${quantum})
      ) q
      ORDER BY h.priority, h.run_at, h.id
      LIMIT ${limit}
    ),
    need AS (
      SELECT count(DISTINCT user_id) AS users, count(*) >= ${limit} AS enough FROM stream
    ),
    -- A user whose row another claim changed since this statement's snapshot (running went up) is
    -- skipped: the jobs this claim would take for it are the ones that claim just took (this
    -- snapshot still shows them queued; the lock below would find them running and drop them, and
    -- the claim would come back with nothing). The row is re-read at its latest version when locked,
    -- so the comparison is with what that claim committed; the claim moves on to the next user.
    -- A settlement (running went down) does not stale the candidates and does not skip the user.
    slots AS (
      SELECT u.user_id, coalesce(u.running_cap, ${cap}) - u.running AS free
      FROM job_users u JOIN heads h ON h.user_id = u.user_id
      WHERE u.running < coalesce(u.running_cap, ${cap}) AND u.running <= h.seen_running
      ORDER BY h.priority, h.run_at, h.id
      LIMIT (SELECT users FROM need)
      FOR UPDATE OF u SKIP LOCKED
    ),
    candidates AS (
      SELECT c.id, c.priority, c.run_at,
             row_number() OVER (PARTITION BY s.user_id ORDER BY c.priority, c.run_at, c.id) AS turn
      FROM slots s
      CROSS JOIN LATERAL (
        SELECT j.id, j.priority, j.run_at FROM jobs j
        WHERE j.user_id = s.user_id AND j.status = 'queued' AND j.run_at <= now()
        ORDER BY j.priority, j.run_at, j.id
        LIMIT least(s.free, CASE WHEN (SELECT enough FROM need) THEN ${quantum}::int ELSE ${limit}::int END)
      ) c
    ),
    chosen AS (
      SELECT id FROM candidates ORDER BY turn, priority, run_at, id LIMIT ${limit}
    ),
    locked AS (
      SELECT j.id FROM jobs j
      WHERE j.id = ANY (ARRAY(SELECT id FROM chosen)) AND j.status = 'queued' AND j.run_at <= now()
      FOR UPDATE OF j SKIP LOCKED
    ),
    claimed AS (
      ${claimedUpdate(options.runnerId, options.leaseSeconds, sql`locked`)}
    ),
    counted AS (
      UPDATE job_users u SET running = u.running + c.n, updated_at = now()
      FROM (SELECT user_id, count(*)::int AS n FROM claimed GROUP BY user_id) c
      WHERE u.user_id = c.user_id
    )
    SELECT ${JOB_COLUMNS} FROM claimed, ${ASYNC_COMMIT} ORDER BY priority, run_at, id
  `);
  return rows(result).map(toJob);
}

/** The UPDATE that gives this runner the (locked, queued) jobs whose ids `locked` lists, `RETURNING j.*`. */
export function claimedUpdate(runnerId: string, leaseSeconds: number, locked: SQL): SQL {
  return sql`UPDATE jobs j SET
        status = 'running',
        attempts = j.attempts + 1,
        locked_by = ${runnerId},
        locked_until = now() + make_interval(secs => ${leaseSeconds}),
        started_at = now(),
        updated_at = now()
      FROM ${locked} l WHERE j.id = l.id
      RETURNING j.*`;
}
