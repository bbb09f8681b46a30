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

/** The columns `toJob` reads, for `SELECT ${JOB_COLUMNS}` and `RETURNING ${JOB_COLUMNS}`. */
export const JOB_COLUMNS = sql.raw(`id, kind, user_id, payload, status, priority, run_at, attempts, max_attempts,
  locked_by, locked_until, last_error, dedupe_key, progress, result, cancel_requested_at, rerun_requested_at,
  started_at, finished_at, created_at, updated_at`);

/**
 * Drizzle's node-postgres driver hands timestamptz to raw queries as text, e.g.
 * `2026-11-24 08:16:01.123456+00`. Parsed by hand on the common shape (a claim reads thousands of
 * them a second; `new Date(string)` was a hot spot), falling back to `Date` for anything else.
 */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return parseIsoTimestamp(text) ?? new Date(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
}

function parseIsoTimestamp(text: string): Date | null {
  const length = text.length;
  if (
    length < 22 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 32 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return null;
  }
  let i = 19;
  let ms = 0;
  if (text.charCodeAt(i) === 46) {
    let places = 0;
    for (i = 20; i < length; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (places < 3) {
        ms = ms * 10 + d;
        places += 1;
      }
    }
    if (places === 0) return null;
    if (places === 1) ms *= 100;
    else if (places === 2) ms *= 10;
  }
  const sign = text.charCodeAt(i);
  const rest = length - i - 1;
  if ((sign !== 43 && sign !== 45) || (rest !== 2 && !(rest === 5 && text.charCodeAt(i + 3) === 58))) return null;
  const year = two(text, 0) * 100 + two(text, 2);
  if (!(year >= 100)) return null; // Date.UTC reads years 0-99 as 1900-1999
  const offsetMinutes = two(text, i + 1) * 60 + (rest === 5 ? two(text, i + 4) : 0);
  const time =
    Date.UTC(
      year,
      two(text, 5) - 1,
      two(text, 8),
      two(text, 11),
      two(text, 14),
      two(text, 17),
      ms,
    ) - (sign === 43 ? offsetMinutes : -offsetMinutes) * 60_000;
  return time === time ? new Date(time) : null; // NaN when a digit was not one
}

/** The two-digit number at `at`, NaN if either is not a digit. */
function two(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 48;
  const units = text.charCodeAt(at + 1) - 48;
  return tens >= 0 && tens <= 9 && units >= 0 && units <= 9 ? tens * 10 + units : NaN;
}

export function toJob(row: Record<string, unknown>): QueuedJob {
  return {
    id: Number(row.id),
    kind: row.kind as string,
    userId: row.user_id as string,
    payload: row.payload,
    status: row.status as JobStatus,
    priority: row.priority as number,
    runAt: toDate(row.run_at)!,
    attempts: row.attempts as number,
    maxAttempts: row.max_attempts as number,
    lockedBy: (row.locked_by as string | null) ?? null,
    lockedUntil: toDate(row.locked_until),
    lastError: (row.last_error as string | null) ?? null,
    dedupeKey: (row.dedupe_key as string | null) ?? null,
    progress: row.progress ?? null,
    result: row.result ?? null,
    cancelRequestedAt: toDate(row.cancel_requested_at),
    rerunRequestedAt: toDate(row.rerun_requested_at),
    startedAt: toDate(row.started_at),
    finishedAt: toDate(row.finished_at),
    createdAt: toDate(row.created_at)!,
    updatedAt: toDate(row.updated_at)!,
  };
}
