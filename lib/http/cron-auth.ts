import { timingSafeEqual, createHash } from 'node:crypto';
import { config } from '../config';
import { unauthenticated } from './errors';

/**
 * Vercel Cron calls with `Authorization: Bearer $CRON_SECRET`. Compared in constant time over
 * fixed-length digests so neither content nor length leaks. Throws 401 otherwise.
 */
export function assertCronRequest(request: Request): void {
  const secret = config().CRON_SECRET;
  const header = request.headers.get('authorization') ?? '';
  if (!secret || !header.startsWith('Bearer ')) throw unauthenticated('cron secret required');
  const given = createHash('sha256').update(header.slice('Bearer '.length)).digest();
  const expected = createHash('sha256').update(secret).digest();
  if (!timingSafeEqual(given, expected)) throw unauthenticated('cron secret required');
}
