/**
 * Errors with an HTTP meaning. Domain code throws them (or its own typed errors, mapped in
 * toHttpError); the route wrapper turns them into the error envelope. Nothing else reaches a client.
 */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unprocessable'
  | 'rate_limited'
  | 'dependency_unavailable'
  | 'internal_error';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, details?: unknown[]) =>
  new HttpError(400, 'validation_failed', message, details);
export const unauthenticated = (message = 'a valid bearer token is required') =>
  new HttpError(401, 'unauthenticated', message, undefined, { 'WWW-Authenticate': 'Bearer' });
export const notFound = (message = 'not found') => new HttpError(404, 'not_found', message);
export const conflict = (message: string) => new HttpError(409, 'conflict', message);
// The unread rest of the body makes the connection unusable for another request: close it.
export const payloadTooLarge = (limitBytes: number) =>
  new HttpError(413, 'payload_too_large', `the request body exceeds ${limitBytes} bytes`, undefined, {
    Connection: 'close',
  });
export const unprocessable = (message: string, details?: unknown[]) =>
  new HttpError(422, 'unprocessable', message, details);
export const rateLimited = (retryAfterSeconds: number) =>
  new HttpError(429, 'rate_limited', 'too many requests', undefined, { 'Retry-After': String(retryAfterSeconds) });
export const dependencyUnavailable = (message: string) => new HttpError(503, 'dependency_unavailable', message);
