import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  DelegateBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from 'cockatiel';
import { config } from '../config';
import { observeProviderAttempt } from '../observability/metrics';
import { CircuitOpenError, ProviderError } from './errors';

/**
 * One resilience pipeline per provider and process (cockatiel): a timeout on every request, retries
 * with exponential backoff where the provider's Retry-After wins, and a circuit breaker shared by all
 * calls to that provider. The clients' own retries are off (googleapis `retry: false`), so a request
 * is never retried by two layers.
 */
const policies = new Map<string, { retries: IPolicy; perAttempt: IPolicy }>();

const MAX_RETRY_WAIT_MS = 30_000;

function policyFor(provider: string): { retries: IPolicy; perAttempt: IPolicy } {
  let policy = policies.get(provider);
  if (!policy) {
    const settings = config();
    // A Retry-After longer than we would wait in-process is the job's to honour (it is deferred).
    const transient = handleWhen(
      (error) => error instanceof ProviderError && error.isTransient && !((error.retryAfterMs ?? 0) > MAX_RETRY_WAIT_MS),
    );
    const backoff = new DelegateBackoff<{ attempt: number; result: { error: Error } | { value: unknown } }>((context) => {
      const error = 'error' in context.result ? context.result.error : undefined;
      const hinted = error instanceof ProviderError ? error.retryAfterMs : undefined;
      if (hinted !== undefined) return hinted;
      // Exponential with equal jitter: 250 ms, 500 ms, 1 s ... capped at 8 s.
      const exponential = Math.min(8_000, 250 * 2 ** Math.max(0, context.attempt - 1));
      return exponential / 2 + Math.random() * (exponential / 2);
    });
    const retries = retry(transient, { maxAttempts: settings.PROVIDER_MAX_RETRIES, backoff });
    const breaker = circuitBreaker(
      handleWhen((error) => error instanceof ProviderError && (error.status === 0 || error.status >= 500)),
      { halfOpenAfter: 15_000, breaker: new ConsecutiveBreaker(5) },
    );
    const perRequest = timeout(settings.PROVIDER_TIMEOUT_MS, TimeoutStrategy.Aggressive);
    policy = { retries, perAttempt: wrap(breaker, perRequest) };
    policies.set(provider, policy);
  }
  return policy;
}

/** For tests that change the configuration or need a closed breaker. */
export function resetProviderPoliciesForTests(): void {
  policies.clear();
}

/**
 * Runs one provider request under the provider's policy. `beforeAttempt` runs before every attempt,
 * retries included, outside the request timeout (the quota pacer waits there, so a retried request is
 * paid for like any other). `call` gets an abort signal that fires on the request timeout or the job's
 * own signal. Errors leave as ProviderError (after retries; CircuitOpenError when the circuit is open)
 * or as QuotaExhaustedError from `beforeAttempt`.
 */
export async function callProvider<T>(
  provider: string,
  call: (signal: AbortSignal) => Promise<T>,
  jobSignal?: AbortSignal,
  beforeAttempt?: () => Promise<void>,
): Promise<T> {
  const { retries, perAttempt } = policyFor(provider);
  try {
    return await retries.execute(async ({ signal }) => {
      await beforeAttempt?.();
      return observeProviderAttempt(provider, () => perAttempt.execute(({ signal: attemptSignal }) => call(attemptSignal), signal));
    }, jobSignal);
  } catch (error) {
    if (error instanceof BrokenCircuitError) {
      throw new CircuitOpenError(provider, 15_000, error);
    }
    if (error instanceof TaskCancelledError) {
      if (jobSignal?.aborted) throw error;
      throw new ProviderError(provider, 0, `${provider} request timed out`, { cause: error });
    }
    throw error;
  }
}
