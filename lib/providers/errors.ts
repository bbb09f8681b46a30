
/**
 * A provider's answer, normalised from googleapis' GaxiosError or jsforce's errors, so that retry,
 * quota and re-authentication decisions are made in one place.
 */
export class ProviderError extends Error {
  constructor(
    readonly provider: string,
    /** HTTP status; 0 when no answer came (network error, timeout). */
    readonly status: number,
    message: string,
    readonly options: { retryAfterMs?: number; quota?: boolean; reason?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ProviderError';
  }

  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }

  /** The provider refused for quota or rate: wait, don't fail. */
  get isQuota(): boolean {
    return this.options.quota === true || this.status === 429;
  }

  get isUnauthorized(): boolean {
    return this.status === 401;
  }

  /** Worth trying again: no answer, 408, 429, 5xx, or a quota refusal. */
  get isTransient(): boolean {
    return this.status === 0 || this.status === 408 || this.status >= 500 || this.isQuota;
  }
}

/**
 * The provider's circuit is open after repeated failures: no request was sent. Transient, worth trying
 * again once the breaker half-opens (`retryAfterMs`).
 */
export class CircuitOpenError extends ProviderError {
  constructor(provider: string, retryAfterMs: number, cause?: unknown) {
    super(provider, 503, `${provider} circuit open after repeated failures`, { retryAfterMs, reason: 'circuit_open', cause });
    this.name = 'CircuitOpenError';
  }
}

/**
 * The user's budget for this provider (lib/providers/quota.ts) is spent until `until`: no request was
 * sent, and none failed. Not a failure: whoever runs the work waits until then (a job is deferred
 * without spending an attempt).
 */
export class QuotaExhaustedError extends Error {
  readonly code = 'provider_quota_exhausted';
  constructor(
    readonly provider: string,
    readonly until: Date,
  ) {
    super(`${provider} quota for this user is spent until then`);
    this.name = 'QuotaExhaustedError';
  }
}

/** Seconds or an HTTP date, as Retry-After allows; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
