/**
 * A sync that retrying cannot fix: its input (a date range), its stored cursor, or the provider's answer
 * lacks what it needs. Provider code throws it (or a provider error); the engine's job handler
 * (./handler.ts) alone turns either into the job's outcome, here a failed job.
 */
export class SyncError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SyncError';
  }
}
