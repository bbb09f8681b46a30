import { config } from '../config';
import { rateLimiter, type LimitPolicy } from '../http/rate-limit';
import { logger } from '../observability/logger';

/** Refused for the per-user send rate: ask again after `retryAfterSeconds`. */
export class SendRateExceededError extends Error {
  readonly code = 'rate_limited';
  constructor(
    readonly retryAfterSeconds: number,
    readonly perMinute: number,
  ) {
    super(`at most ${perMinute} emails a minute may be sent; try again in ${retryAfterSeconds} s`);
    this.name = 'SendRateExceededError';
  }
}

/** GMAIL_SENDS_PER_MINUTE, as a policy of the API's own limiter (Upstash when configured, Postgres otherwise). */
export function sendPolicy(): LimitPolicy {
  return { name: 'email.send', limit: config().GMAIL_SENDS_PER_MINUTE, windowSeconds: 60 };
}

/**
 * Counts one new email against the user's send rate; past it, SendRateExceededError. A replay (the
 * same Idempotency-Key) is not a new email and is not counted. A limiter that fails lets the email
 * through: Gmail's own limits still stand behind it.
 */
export async function countSend(userId: string): Promise<void> {
  const policy = sendPolicy();
  let outcome;
  try {
    outcome = await rateLimiter().limit(policy, userId);
  } catch (error) {
    logger().warn({ err: error }, 'send-rate limiter unavailable; email allowed');
    return;
  }
  if (!outcome.success) throw new SendRateExceededError(outcome.resetSeconds, policy.limit);
}
