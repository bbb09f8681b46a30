import { createHash, timingSafeEqual } from 'node:crypto';
import { config } from '../config';
import { bearerCredential } from './auth';
import { unauthenticated } from './errors';

/** Compares a bearer token with a secret in constant time (over digests, so length does not leak). */
export function bearerMatches(request: Request, secret: string | undefined): boolean {
  const credential = bearerCredential(request);
  if (!secret || credential === null) return false;
  const given = createHash('sha256').update(credential).digest();
  const expected = createHash('sha256').update(secret).digest();
  return timingSafeEqual(given, expected);
}

/** Vercel Cron calls with `Authorization: Bearer $CRON_SECRET`; anything else is 401. */
export function assertCronRequest(request: Request): void {
  if (!bearerMatches(request, config().CRON_SECRET)) throw unauthenticated('cron secret required');
}

/** Operator endpoints: `Authorization: Bearer $ADMIN_API_KEY`; 401 while the key is unset. */
export function assertAdminRequest(request: Request): void {
  if (!bearerMatches(request, config().ADMIN_API_KEY)) throw unauthenticated('admin API key required');
}
