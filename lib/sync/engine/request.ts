import type { ConnectionCredentials } from '../../providers/credentials';
import { ProviderError } from '../../providers/errors';
import type { QuotaPacer } from '../../providers/quota';
import { callProvider } from '../../providers/resilience';
import type { SyncContext } from './types';

/**
 * `SyncContext.request` for one run: every attempt (retries included) paced under the user's budget
 * until the run's deadline, the call under the provider's timeout/retry/breaker policy, and one
 * re-authentication with a fresh token from Nango when the provider answers 401.
 */
export function providerRequest(
  provider: string,
  credentials: ConnectionCredentials,
  pacer: QuotaPacer,
  deadline: () => number,
  signal: AbortSignal,
): SyncContext['request'] {
  return async <T>(units: number, call: (accessToken: string, signal: AbortSignal) => Promise<T>): Promise<T> => {
    let refreshed = false;
    while (true) {
      const { accessToken } = await credentials.get();
      try {
        return await callProvider(
          provider,
          (requestSignal) => call(accessToken, requestSignal),
          signal,
          () => pacer.take(units, deadline(), signal),
        );
      } catch (error) {
        if (error instanceof ProviderError && error.isUnauthorized && !refreshed) {
          refreshed = true;
          await credentials.refresh(accessToken);
          continue;
        }
        throw error;
      }
    }
  };
}
