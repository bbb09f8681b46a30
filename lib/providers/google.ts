import { calendar, type calendar_v3 } from '@googleapis/calendar';
import { gmail, type gmail_v1 } from '@googleapis/gmail';
import { config } from '../config';
import { ProviderError, parseRetryAfter } from './errors';

/**
 * Google's clients, with their own retries off (lib/providers/resilience.ts retries) and the API root
 * from GOOGLE_API_ROOT_URL when set. The access token is passed per request (`headers`), so one client
 * serves every connection.
 */
let gmailClient: gmail_v1.Gmail | undefined;
let calendarClient: calendar_v3.Calendar | undefined;

function rootUrl(): string | undefined {
  const root = config().GOOGLE_API_ROOT_URL;
  return root ? (root.endsWith('/') ? root : `${root}/`) : undefined;
}

export function gmailApi(): gmail_v1.Gmail {
  const root = rootUrl();
  gmailClient ??= gmail({ version: 'v1', retry: false, ...(root ? { rootUrl: root } : {}) });
  return gmailClient;
}

export function calendarApi(): calendar_v3.Calendar {
  const root = rootUrl();
  calendarClient ??= calendar({ version: 'v3', retry: false, ...(root ? { rootUrl: root } : {}) });
  return calendarClient;
}

/** Per-request options: the bearer token, the abort signal, no client-side retry. */
export function googleRequestOptions(accessToken: string, signal: AbortSignal) {
  return { headers: { Authorization: `Bearer ${accessToken}` }, signal, retry: false } as const;
}

const QUOTA_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'dailyLimitExceeded']);

/** A GaxiosError (or a network failure) as a ProviderError. */
export function googleError(provider: string, error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = error as {
    status?: number;
    code?: string | number;
    message?: string;
    response?: { status?: number; headers?: Record<string, string> | Headers; data?: unknown };
  };
  const status = e.response?.status ?? (typeof e.status === 'number' ? e.status : 0);
  const headers = e.response?.headers;
  const retryAfter =
    headers && typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get('retry-after')
      : (headers as Record<string, string> | undefined)?.['retry-after'];
  const data = e.response?.data as { error?: { errors?: { reason?: string }[]; message?: string } } | undefined;
  const reason = data?.error?.errors?.[0]?.reason;
  const quota = (status === 403 || status === 429) && reason !== undefined && QUOTA_REASONS.has(reason);
  return new ProviderError(provider, status, `${provider} ${status || 'network'}: ${data?.error?.message ?? e.message ?? 'request failed'}`, {
    retryAfterMs: parseRetryAfter(retryAfter ?? null),
    quota,
    reason,
    cause: error,
  });
}
