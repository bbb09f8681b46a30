// Error bodies in each provider's own wire format.

export type Provider = 'nango' | 'gmail' | 'calendar' | 'salesforce';
export const PROVIDERS: readonly Provider[] = ['nango', 'gmail', 'calendar', 'salesforce'];

const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** Google APIs' JSON error envelope. */
export function googleError(
  code: number,
  message: string,
  reason: string,
  domain = 'global',
  extra: Record<string, unknown> = {},
  itemMessage: string = message,
): { error: Record<string, unknown> } {
  const status = GOOGLE_STATUS[code];
  return {
    error: {
      code,
      message,
      errors: [{ message: itemMessage, domain, reason, ...extra }],
      ...(status ? { status } : {}),
    },
  };
}

export function googleUnauthenticatedBody() {
  return googleError(
    401,
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    'authError',
    'global',
    { location: 'Authorization', locationType: 'header' },
    'Invalid Credentials',
  );
}

export const googleNotFound = () => googleError(404, 'Requested entity was not found.', 'notFound');
export const googleBadRequest = (message: string) => googleError(400, message, 'invalidArgument');
export const googleBackendError = (code: 500 | 503) =>
  code === 503
    ? googleError(503, 'The service is currently unavailable.', 'backendError')
    : googleError(500, 'Internal error encountered.', 'backendError');

export function gmailQuotaExceeded() {
  const message =
    "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'gmail.googleapis.com' for consumer 'project_number:000000000000'.";
  return googleError(429, message, 'rateLimitExceeded', 'usageLimits');
}
export function googleRateLimited(code: 403 | 429 = 429) {
  return googleError(code, 'Rate Limit Exceeded', 'rateLimitExceeded', 'usageLimits');
}

/** Salesforce REST errors are a JSON array. */
export const salesforceError = (errorCode: string, message: string) => [{ message, errorCode }];
export const salesforceInvalidSession = () => salesforceError('INVALID_SESSION_ID', 'Session expired or invalid');

/** Nango's API error envelope. */
export const nangoError = (code: string, message?: string, extra: Record<string, unknown> = {}) => ({
  error: { code, ...(message !== undefined ? { message } : {}), ...extra },
});

/** The body a provider answers with for an injected 500/503. */
export function backendErrorBody(provider: Provider, status: 500 | 503): unknown {
  switch (provider) {
    case 'gmail':
    case 'calendar':
      return googleBackendError(status);
    case 'salesforce':
      return status === 503
        ? salesforceError('SERVER_UNAVAILABLE', 'Server temporarily unavailable. Please try again later.')
        : salesforceError('UNKNOWN_EXCEPTION', 'An unexpected error occurred. Please include this ErrorId if you contact support: 000000000-00000 (000000000)');
    case 'nango':
      return nangoError('server_error', status === 503 ? 'Service unavailable' : 'An unhandled error has occurred');
  }
}

/** The body a provider answers with for an injected 429. */
export function rateLimitedBody(provider: Provider): unknown {
  switch (provider) {
    case 'gmail':
    case 'calendar':
      return googleRateLimited(429);
    case 'salesforce':
      return salesforceError('REQUEST_LIMIT_EXCEEDED', 'ConcurrentPerOrgLongTxn Limit exceeded.');
    case 'nango':
      return nangoError('too_many_request', 'Too many requests');
  }
}

export function unauthenticatedBody(provider: Provider): unknown {
  switch (provider) {
    case 'gmail':
    case 'calendar':
      return googleUnauthenticatedBody();
    case 'salesforce':
      return salesforceInvalidSession();
    case 'nango':
      return nangoError('unknown_account', 'The secret key is invalid');
  }
}
