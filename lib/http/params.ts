import { badRequest } from './errors';

/** A positive integer id from the query (Vercel passes `[id]` as `?id=`). */
export function idParam(request: Request, name = 'id'): number {
  const raw = new URL(request.url).searchParams.get(name);
  if (!raw || !/^\d{1,15}$/.test(raw) || Number(raw) < 1) {
    throw badRequest(`${name} must be a positive integer`, [{ path: name, message: 'expected a positive integer' }]);
  }
  return Number(raw);
}
