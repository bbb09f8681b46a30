import { z } from 'zod';
import { LONE_SURROGATE, LONE_SURROGATES, NUL } from '../../db/text';
import { DomainError, type ErrorDetail } from '../errors';

/**
 * What any text from outside must be before it goes near Postgres or a URL: no NUL (Postgres text and
 * jsonb refuse it), no lone UTF-16 surrogate (jsonb refuses its escape, UTF-8 cannot carry it). Checked
 * once where input enters (JSON bodies, webhook payloads, query strings), so a schema that forgets a
 * refinement cannot let one through, and offered as zod schemas for fields that want it spelled out.
 */

/** Why a string cannot be stored, or null when it can. */
export function textProblem(value: string): string | null {
  if (value.includes(NUL)) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'contains a lone UTF-16 surrogate';
  return null;
}

/** A string schema that refuses NUL and lone surrogates. */
export function safeText(): z.ZodString {
  return z.string().refine((value) => textProblem(value) === null, {
    message: 'must not contain NUL characters or lone UTF-16 surrogates',
    abort: true,
  });
}

/** How deep a JSON body may nest: far more than any request of this API needs. */
export const MAX_JSON_DEPTH = 32;

/**
 * Parses JSON text and checks every key and string in it (iteratively: a body nested thousands deep is
 * refused, not a stack overflow). Throws `bad_request` for text that is not JSON and `validation_failed`
 * naming the path of the first bad value.
 */
export function parseJsonInput(raw: Buffer | string, what = 'the request body'): unknown {
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw new DomainError('bad_request', `${what} is not valid JSON`);
  }
  const problem = jsonProblem(value);
  if (problem) throw new DomainError('validation_failed', `${what} is invalid: ${problem.path || '(root)'}: ${problem.message}`, [problem]);
  return value;
}

/** The first key or string of a parsed JSON value that cannot be stored, or a nesting too deep. */
export function jsonProblem(root: unknown, maxDepth = MAX_JSON_DEPTH): ErrorDetail | null {
  const stack: { value: unknown; path: string[]; depth: number }[] = [{ value: root, path: [], depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem) return { path: path.join('.'), message: problem };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= maxDepth) return { path: path.join('.'), message: `nested deeper than ${maxDepth} levels` };
    if (Array.isArray(value)) {
      value.forEach((item, index) => stack.push({ value: item, path: [...path, String(index)], depth: depth + 1 }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = key === '__proto__' ? 'is a reserved name' : textProblem(key);
      if (keyProblem) return { path: [...path, printable(key)].join('.'), message: `key ${keyProblem}` };
      stack.push({ value: item, path: [...path, key], depth: depth + 1 });
    }
  }
  return null;
}

/** Text safe to echo in an error message: bounded, with NUL and lone surrogates made visible. */
export function printable(value: string, max = 100): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return shown.replaceAll(NUL, '\\0').replace(LONE_SURROGATES, '\uFFFD');
}
