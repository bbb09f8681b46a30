import type { z } from 'zod';
import { HttpError, badRequest, payloadTooLarge } from './errors';

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

export function parseJson(raw: Buffer | string): unknown {
  try {
    return JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_request', 'the body is not valid JSON');
  }
}

/** Validates with zod, answering 400 with each failing field named. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what = 'the request body'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(
    `${what} is invalid: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
  );
}

/** Reads, parses and validates a JSON body. */
export async function jsonBody<T>(request: Request, schema: z.ZodType<T>, limitBytes = DEFAULT_BODY_LIMIT): Promise<T> {
  return validate(schema, parseJson(await readRawBody(request, limitBytes)));
}
