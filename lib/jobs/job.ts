import { sql } from 'drizzle-orm';
import type { JobStatus } from '../../db/schema';

export type { JobStatus };

/** A row of `jobs`, as every queue function returns it. */
export interface QueuedJob {
  id: number;
  kind: string;
  userId: string;
  payload: unknown;
  status: JobStatus;
  priority: number;
  runAt: Date;
  attempts: number;
  maxAttempts: number;
  lockedBy: string | null;
  lockedUntil: Date | null;
  lastError: string | null;
  dedupeKey: string | null;
  progress: unknown;
  result: unknown;
  cancelRequestedAt: Date | null;
  rerunRequestedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** The columns `toJob` reads, in order. */
export const JOB_COLUMN_NAMES = [
  'id', 'kind', 'user_id', 'payload', 'status', 'priority', 'run_at', 'attempts', 'max_attempts',
  'locked_by', 'locked_until', 'last_error', 'dedupe_key', 'progress', 'result', 'cancel_requested_at',
  'rerun_requested_at', 'started_at', 'finished_at', 'created_at', 'updated_at',
] as const;

/** For `SELECT ${JOB_COLUMNS}` and `RETURNING ${JOB_COLUMNS}`. */
export const JOB_COLUMNS = sql.raw(JOB_COLUMN_NAMES.join(', '));

/** A row of `SELECT ${JOB_COLUMNS}`: db/client.ts already parsed its timestamps into Dates. */
export function toJob(row: Record<string, unknown>): QueuedJob {
  return {
    id: Number(row.id),
    kind: row.kind as string,
    userId: row.user_id as string,
    payload: row.payload,
    status: row.status as JobStatus,
    priority: row.priority as number,
    runAt: row.run_at as Date,
    attempts: row.attempts as number,
    maxAttempts: row.max_attempts as number,
    lockedBy: (row.locked_by as string | null) ?? null,
    lockedUntil: (row.locked_until as Date | null) ?? null,
    lastError: (row.last_error as string | null) ?? null,
    dedupeKey: (row.dedupe_key as string | null) ?? null,
    progress: row.progress ?? null,
    result: row.result ?? null,
    cancelRequestedAt: (row.cancel_requested_at as Date | null) ?? null,
    rerunRequestedAt: (row.rerun_requested_at as Date | null) ?? null,
    startedAt: (row.started_at as Date | null) ?? null,
    finishedAt: (row.finished_at as Date | null) ?? null,
    createdAt: row.created_at as Date,
    updatedAt: row.updated_at as Date,
  };
}
