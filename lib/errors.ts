import type { z } from 'zod';

/**
 * The one error vocabulary. Every error a client can see has one of these codes; lib/http/errors.ts
 * holds the one map from code to HTTP status, so domain modules name what went wrong and never
 * speak HTTP.
 */
export const ERROR_CODES = [
  'bad_request',
  'validation_failed',
  'unauthenticated',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  'payload_too_large',
  'unsupported_media_type',
  'unprocessable',
  'provider_disabled',
  'rate_limited',
  'dependency_unavailable',
  'internal_error',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * What domain modules throw: a code of the vocabulary, or a more precise reason that the HTTP layer
 * answers as one (`invalid_signature` as unauthenticated, `unknown_provider` as unprocessable).
 */
export type DomainErrorCode = ErrorCode | 'invalid_signature' | 'unknown_provider';

/** One entry of an error's `details`: the input's field (dotted path, empty for the whole) and why. */
export interface ErrorDetail {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

type Issue = Pick<z.core.$ZodIssue, 'path' | 'message'>;

/** zod issues as error details: the one place they are translated. */
export function issueDetails(issues: readonly Issue[]): ErrorDetail[] {
  return issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/**
 * `validation_failed` for input that did not match its schema: the message names each field
 * (`what is invalid: a.b: reason; c: reason`), the details list them.
 */
export function invalidInput(what: string, issues: readonly Issue[]): DomainError {
  const details = issueDetails(issues);
  const summary = details.map((detail) => `${detail.path || '(root)'}: ${detail.message}`).join('; ');
  return new DomainError('validation_failed', `${what} is invalid: ${summary}`, details);
}

/** Validates with zod, throwing `validation_failed` with each failing field named. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidInput(what, result.error.issues);
}
