import { createHash } from 'node:crypto';
import { DomainError } from '../errors';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** Visible ASCII, 1..255 characters: a UUID, a ULID, "run-42-step-3". */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's Idempotency-Key; every write needs one (400 without, naming the header). */
export function idempotencyKeyOf(request: Request): string {
  const values = request.headers.get(IDEMPOTENCY_HEADER);
  if (values === null || values === '') {
    throw new DomainError('validation_failed', `the ${IDEMPOTENCY_HEADER} header is required on every write`, [
      { path: IDEMPOTENCY_HEADER, message: 'required: a unique key per request, e.g. a UUID' },
    ]);
  }
  if (!KEY.test(values)) {
    throw new DomainError('validation_failed', `the ${IDEMPOTENCY_HEADER} header is invalid`, [
      { path: IDEMPOTENCY_HEADER, message: 'expected 1 to 255 visible ASCII characters' },
    ]);
  }
  return values;
}

/** JSON with object keys sorted: the same request hashes the same however its keys were ordered. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** What a key is compared on: the tool and its input, as validated. */
export function requestHash(tool: string, input: unknown): string {
  return createHash('sha256').update(tool).update('\n').update(canonicalJson(input)).digest('hex');
}

/** A stable, provider-safe token derived from the user and the key (Calendar ids, Salesforce external ids). */
export function keyDigest(userId: string, idempotencyKey: string): Buffer {
  return createHash('sha256').update(userId).update('\u0000').update(idempotencyKey).digest();
}
