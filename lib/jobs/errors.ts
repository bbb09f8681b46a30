/** Errors a job handler throws to tell the runner what to do with the job. */

/** Try again later; `retryAfterMs` (e.g. a provider's Retry-After) wins over the computed backoff. */
export class RetryableJobError extends Error {
  readonly code = 'job_retryable';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetryableJobError';
  }
}

/** Retrying cannot help (the input is wrong, the connection is gone): the job ends as `failed`. */
export class PermanentJobError extends Error {
  readonly code = 'job_permanent';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** Not a failure: run again at `until` without spending an attempt (an exhausted quota, a checkpoint). */
export class DeferJobError extends Error {
  readonly code = 'job_deferred';
  constructor(
    readonly until: Date,
    readonly reason: string,
  ) {
    super(`deferred until ${until.toISOString()}: ${reason}`);
    this.name = 'DeferJobError';
  }
}

/** Queue operations that conflict with the job's current state. */
export class JobStateError extends Error {
  constructor(
    readonly code: 'job_not_found' | 'job_conflict',
    message: string,
  ) {
    super(message);
    this.name = 'JobStateError';
  }
}
