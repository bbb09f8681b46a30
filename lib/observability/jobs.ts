import { observeJob, type JobOutcome } from './metrics';
import { captureError } from './sentry';

/**
 * What the runner reports of each job it ran (lib/worker/runner.ts hands this to the Runner's
 * `onJobSettled`): its duration and outcome as metrics, and a job that failed for good (failed, dead,
 * or a retry that was its last attempt) to Sentry with its kind, attempt and hashed user id.
 */
export interface JobReport {
  job: { id: number; kind: string; userId: string; attempts: number; maxAttempts: number };
  outcome: JobOutcome;
  durationMs: number;
  /** What the handler threw, when it threw. */
  error?: unknown;
  /** The settlement's message (the reason a job is dead without a throw: an unknown kind, a bad payload). */
  message?: string;
  result?: unknown;
}

export function jobSettled(report: JobReport): void {
  const { job, outcome } = report;
  observeJob(job.kind, outcome, report.durationMs, report.result);
  const exhausted = outcome === 'retry' && job.attempts >= job.maxAttempts;
  if (outcome !== 'failed' && outcome !== 'dead' && !exhausted) return;
  const error = report.error ?? new JobFailure(report.message ?? `job ${job.kind} ended ${outcome}`);
  captureError(error, {
    userId: job.userId,
    tags: { job_kind: job.kind, job_attempt: job.attempts, job_outcome: exhausted ? 'dead' : outcome },
    extra: { jobId: job.id, maxAttempts: job.maxAttempts },
  });
}

class JobFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobFailure';
  }
}
