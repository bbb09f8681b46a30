/**
 * The Postgres job queue, a closed library: it owns the tables `jobs` and `job_users`, knows no job
 * kind, and imports nothing of the app. Every operation is one SQL statement (under ./sql, one file
 * per concern); functions take the database (or a transaction) as their first argument so callers
 * can enqueue inside their own transaction.
 *
 * Invariants:
 * - a job is `running` only while some runner holds its lease (`locked_by`, `locked_until`);
 * - `attempts` is incremented by each claim and is the fencing token: settle, heartbeat and
 *   progress change a row only if `locked_by` and `attempts` still match the caller's claim;
 * - `job_users.running` equals the number of the user's `running` jobs, because every statement
 *   that moves jobs into or out of `running` adjusts it in the same statement (a settlement that hands
 *   a slot to the user's next job moves one out and one in: the count stays as it is).
 */
export type { JobStatus, QueuedJob } from './job';
export { enqueue, enqueueMany, enqueueSteps, type EnqueueInput, type EnqueueResult } from './sql/enqueue';
export { claim, defaultQuantum, type ClaimOptions } from './sql/claim';
export { listenForJobs, JOBS_CHANNEL, type JobListener, type JobListenerOptions } from './listen';
export { settle, settleAndHandOff, type HandOff, type Settlement, type SettledJob } from './sql/settle';
export { heartbeat, reclaimExpired, setProgress, type LeaseState } from './sql/lease';
export { cancel, cancelMatching, type JobMatch } from './sql/cancel';
export { getJob, getJobs, retryJob } from './sql/admin';
export {
  cancelJob,
  cancelJobs,
  listJobs,
  liveJobsByDedupeKey,
  queueActivity,
  retryJobs,
  type JobFilter,
  type JobSelection,
  type QueueActivity,
} from './sql/operator';
export { queueStats, type QueueStats } from './sql/stats';
export { deadJobsSince, queueMetrics, usersOverQueueDepth, type QueueDepth, type QueueMetrics } from './sql/metrics';
export { forgetUserJobs, userJobsForExport } from './sql/privacy';
export { pruneFinishedJobs } from './sql/prune';
export { DeferJobError, JobStateError, PermanentJobError, RetryableJobError } from './errors';
export {
  Runner,
  defineHandler,
  describeError,
  type AbortReason,
  type HandlerRegistry,
  type HandlerResult,
  type JobContext,
  type JobHandler,
  type PassOptions,
  type RunnerOptions,
  type RunSummary,
  type JobSettledReport,
} from './runner';
