import { z } from 'zod';
import { ConfigError } from '../config';
import { DomainError, invalidInput, type DomainErrorCode, type ErrorCode, type ErrorDetail } from '../errors';
import { JobStateError } from '../jobs/errors';

/** The one map from error code to HTTP status. */
export const STATUS_OF: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  provider_disabled: 422,
  rate_limited: 429,
  internal_error: 500,
  dependency_unavailable: 503,
};

/** Domain reasons answered as a code of the vocabulary. */
const ANSWERED_AS: Record<Exclude<DomainErrorCode, ErrorCode>, ErrorCode> = {
  invalid_signature: 'unauthenticated',
  unknown_provider: 'unprocessable',
};

/**
 * An error with an HTTP meaning: the route wrapper answers it as the error envelope. Anything else
 * thrown is mapped by toHttpError; nothing else reaches a client.
 */
export class HttpError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = STATUS_OF[code];
  }
}

const BEARER_CHALLENGE = { 'WWW-Authenticate': 'Bearer' };

export const badRequest = (message: string, details?: ErrorDetail[]) => new HttpError('validation_failed', message, details);
export const unauthenticated = (message = 'a valid bearer token is required') =>
  new HttpError('unauthenticated', message, undefined, BEARER_CHALLENGE);
export const forbidden = (message: string, headers?: Record<string, string>) =>
  new HttpError('forbidden', message, undefined, headers);
export const notFound = (message = 'not found') => new HttpError('not_found', message);
export const methodNotAllowed = (allowed: readonly string[]) =>
  new HttpError('method_not_allowed', `allowed methods: ${allowed.join(', ') || 'none'}`, undefined, { Allow: allowed.join(', ') });
export const conflict = (message: string) => new HttpError('conflict', message);
// The unread rest of the body makes the connection unusable for another request: close it.
export const payloadTooLarge = (limitBytes: number) =>
  new HttpError('payload_too_large', `the request body exceeds ${limitBytes} bytes`, undefined, { Connection: 'close' });
export const unsupportedMediaType = (expected: string) =>
  new HttpError('unsupported_media_type', `the request body must be ${expected}`, undefined, { 'Accept-Post': expected });
export const unprocessable = (message: string, details?: ErrorDetail[]) => new HttpError('unprocessable', message, details);
export const rateLimited = (retryAfterSeconds: number, headers: Record<string, string> = {}) =>
  new HttpError('rate_limited', 'too many requests', undefined, { ...headers, 'Retry-After': String(retryAfterSeconds) });
export const dependencyUnavailable = (message: string, details?: ErrorDetail[]) =>
  new HttpError('dependency_unavailable', message, details);

/** Whatever was thrown, as the error a client may see. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof DomainError) {
    const code = (ANSWERED_AS as Record<string, ErrorCode>)[error.code] ?? (error.code as ErrorCode);
    return new HttpError(code, error.message, error.details, code === 'unauthenticated' ? BEARER_CHALLENGE : undefined);
  }
  if (error instanceof z.ZodError) return toHttpError(invalidInput('the request', error.issues));
  if (error instanceof JobStateError) {
    return new HttpError(error.code === 'job_not_found' ? 'not_found' : 'conflict', error.message);
  }
  if (error instanceof ConfigError) {
    // The problems name variables and what they expect, never a value: safe to show, and what an
    // operator needs (e.g. "DATABASE_URL: not set").
    return dependencyUnavailable(
      'the service is misconfigured',
      error.problems.map((problem) => ({ path: problem.split(':')[0] ?? '', message: problem })),
    );
  }
  return new HttpError('internal_error', 'an unexpected error occurred');
}
