import type { z } from 'zod';
import { DomainError, parseInput } from '../errors';
import { payloadTooLarge, unsupportedMediaType } from './errors';
import { parseJsonInput } from './input';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** The exact bytes of the body, refusing (413) past `limitBytes` without reading the rest. */
export async function readRawBody(request: Request, limitBytes = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limitBytes) throw payloadTooLarge(limitBytes);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      await reader.cancel().catch(() => {});
      throw payloadTooLarge(limitBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** `application/json`, or a `+json` type, with any parameters (charset). */
export function isJsonContentType(header: string | null): boolean {
  if (!header) return false;
  const type = header.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * Reads, parses and validates a JSON body: 415 when it is not declared JSON, 413 past the limit,
 * 400 for text that is not JSON, nests too deep, carries text Postgres cannot store, or does not
 * match the schema (each field named).
 */
export async function jsonBody<T>(request: Request, schema: z.ZodType<T>, limitBytes = DEFAULT_BODY_LIMIT): Promise<T> {
  if (!isJsonContentType(request.headers.get('content-type'))) throw unsupportedMediaType('application/json');
  const raw = await readRawBody(request, limitBytes);
  if (raw.length === 0) throw new DomainError('bad_request', 'the request body is required (JSON)');
  return parseInput(schema, parseJsonInput(raw), 'the request body');
}
