import type { z } from 'zod';
import { parseInput } from '../errors';
import { badRequest, notFound } from './errors';
import { printable, textProblem } from './input';

/**
 * Path and query parameters. A `[id]` path segment reaches the handler as the query parameter `id`:
 * dev/server.ts appends the path's value after the client's query, as Vercel does when the client sent
 * no `id` of its own. When it did, `vercel dev` drops the path's value and passes the client's alone
 * (request.url keeps the real path). So the value taken must be the path's: there must be exactly one,
 * and it must be one of the request path's own segments; anything else is a 400, never resolved in
 * favour of the query.
 */

/** The value of the `[name]` path segment: exactly one, taken from the path, or 400. */
export function pathParam(request: Request, name: string): string {
  const url = new URL(request.url);
  const values = url.searchParams.getAll(name);
  const refused = () =>
    badRequest(`${name} is given by the path; a query parameter of the same name is not allowed`, [
      { path: name, message: 'given in the query as well as the path' },
    ]);
  if (values.length > 1) throw refused();
  const value = values[0];
  // Only a misrouted request lacks it: dev/server.ts and Vercel always pass it.
  if (value === undefined) throw notFound(`no ${name} in the path`);
  if (!pathSegments(url).includes(value)) throw refused();
  return value;
}

/** The request path's segments, decoded (a segment that is not valid percent-encoding is a 400). */
function pathSegments(url: URL): string[] {
  return url.pathname.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw badRequest('the path is not valid percent-encoding');
    }
  });
}

/** A positive integer id from the `[id]` path segment. */
export function idParam(request: Request, name = 'id'): number {
  const raw = pathParam(request, name);
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) {
    throw badRequest(`${name} must be a positive integer`, [{ path: name, message: 'expected a positive integer' }]);
  }
  return Number(raw);
}

/**
 * The path segment as one of `allowed` (anything else is an unknown resource: 404). A lookup in a
 * list, never an object's properties, so `constructor` or `__proto__` name nothing.
 */
export function pathChoice<T extends string>(request: Request, name: string, allowed: readonly T[]): T {
  const value = pathParam(request, name);
  if (!(allowed as readonly string[]).includes(value)) {
    const choices = allowed.length > 1 ? `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}` : allowed.join('');
    throw notFound(`no ${name} "${printable(value)}"; expected ${choices}`);
  }
  return value as T;
}

export interface QueryOptions {
  /** Parameters that may be given more than once; they arrive as arrays. */
  repeatable?: readonly string[];
  /** Path segments (`[id]`), appended to the query by the platform: validated by pathParam, skipped here. */
  path?: readonly string[];
}

/**
 * The query string validated with a zod object. A parameter the endpoint does not know, one given
 * twice (unless repeatable), or a value Postgres cannot store (a NUL) is a 400 naming it.
 */
export function queryParams<S extends z.ZodObject>(request: Request, schema: S, options: QueryOptions = {}): z.infer<S> {
  const { repeatable = [], path = [] } = options;
  const params = new URL(request.url).searchParams;
  const known = new Set(Object.keys(schema.shape));
  const input: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    if (path.includes(key)) {
      const value = pathParam(request, key);
      if (known.has(key)) input[key] = value;
      continue;
    }
    if (!known.has(key)) {
      throw badRequest(`the query is invalid: ${printable(key)}: not a parameter of this endpoint`, [
        { path: printable(key), message: 'not a parameter of this endpoint' },
      ]);
    }
    const values = params.getAll(key);
    if (values.length > 1 && !repeatable.includes(key)) {
      throw badRequest(`the query is invalid: ${key}: given more than once`, [{ path: key, message: 'given more than once' }]);
    }
    for (const value of values) {
      const problem = textProblem(value);
      if (problem) throw badRequest(`the query is invalid: ${key}: ${problem}`, [{ path: key, message: problem }]);
    }
    input[key] = repeatable.includes(key) ? values : values[0]!;
  }
  return parseInput(schema, input, 'the query') as z.infer<S>;
}

/** An endpoint that takes no query parameters (beyond its path segments): any other is a 400. */
export function noQuery(request: Request, path: readonly string[] = []): void {
  const params = new URL(request.url).searchParams;
  for (const key of new Set(params.keys())) {
    if (path.includes(key)) pathParam(request, key);
    else {
      throw badRequest(`the query is invalid: ${printable(key)}: not a parameter of this endpoint`, [
        { path: printable(key), message: 'not a parameter of this endpoint' },
      ]);
    }
  }
}
