/**
 * Typed domain errors. lib/ throws these with a code; the HTTP layer (lib/http/route.ts) maps each
 * code to a status, so domain modules never speak HTTP.
 */
export type DomainErrorCode =
  | 'invalid_signature'
  | 'validation_failed'
  | 'unknown_provider'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'dependency_unavailable';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: unknown[],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
