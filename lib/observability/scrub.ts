import { createHash } from 'node:crypto';

/**
 * One scrubber for everything that leaves the process for someone else to read: Sentry events and
 * error logs. Keys that name a secret or a message's contents are dropped whatever their value;
 * strings are searched for what should never be stored elsewhere (bearer tokens, JWTs, API keys,
 * email addresses, the parameters Drizzle puts in a failed query's message).
 */

export const REDACTED = '[redacted]';

/** Keys whose value is dropped: credentials, message contents, addresses, SQL parameters. */
const SENSITIVE_KEY =
  /^(authorization|cookie|set-cookie|proxy-authorization|x-nango-hmac-sha256|x-nango-signature|password|passwd|secret|secretkey|secret_key|token|access_?token|refresh_?token|id_?token|api_?key|apikey|private_?key|client_?secret|signature|dsn|body|bodytext|body_text|cleanbody|clean_body|raw|html|text|snippet|quotedtext|quoted_text|signing_?key|params|parameters|email|emails|from_?address|to|cc|bcc|senders|participants|attendees|organizer|ip|ip_address|x-forwarded-for|x-real-ip|cookies|query_string)$/i;

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
const BEARER = /\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{6,}/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;
/** Key shapes: switchyard's own API keys (sk_ + 43 characters), Slack, Stripe-like, GitHub, AWS, Google. */
const KEY_SHAPES =
  /\b(sk_[A-Za-z0-9_-]{32,}|xox[abposr]-[A-Za-z0-9-]{8,}|(sk|pk|rk)_(live|test)_[A-Za-z0-9]{8,}|gh[pousr]_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|ya29\.[A-Za-z0-9._-]{10,})\b/g;
/** key=value / key: value pairs in free text whose key names a secret. */
const SECRET_ASSIGNMENT =
  /\b(access_token|refresh_token|id_token|token|api_key|apikey|secret|password|client_secret|code|signature)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi;
/** Drizzle's DrizzleQueryError: "Failed query: <sql>\nparams: a,b,c"; pg's "Key (col)=(value)". */
const SQL_PARAMS = /(\bparams:)[^\n]*/gi;
const KEY_DETAIL = /(\bKey \([^)]*\)=\()[^)]*(\))/g;
/** URLs with credentials in them: postgres://user:password@host. */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/:@]+:[^\s/@]+@/gi;

export function scrubText(text: string): string {
  return text
    .replace(URL_CREDENTIALS, `$1${REDACTED}@`)
    .replace(SQL_PARAMS, `$1 ${REDACTED}`)
    .replace(KEY_DETAIL, `$1${REDACTED}$2`)
    .replace(JWT, REDACTED)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(KEY_SHAPES, REDACTED)
    .replace(SECRET_ASSIGNMENT, `$1$2${REDACTED}`)
    .replace(EMAIL, '[email]');
}

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

/**
 * A deep copy with sensitive keys dropped and every string scrubbed. Cycles and depth are bounded;
 * Errors keep their name, message (scrubbed) and stack.
 */
export function scrubValue(value: unknown, depth = 8, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value;
  if (seen.has(value)) return '[circular]';
  if (depth <= 0) return '[truncated]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth - 1, seen));
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return REDACTED;
  const out: Record<string, unknown> = {};
  const source = value instanceof Error ? errorFields(value) : (value as Record<string, unknown>);
  for (const [key, inner] of Object.entries(source)) {
    out[key] = isSensitiveKey(key) ? REDACTED : scrubValue(inner, depth - 1, seen);
  }
  return out;
}

function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: error.name, message: error.message, stack: error.stack };
  for (const [key, value] of Object.entries(error)) {
    // HTTP clients (gaxios, axios) hang the whole request and response on their errors: headers,
    // bodies, tokens. The status is all a reader needs.
    if (key === 'config' || key === 'request' || key === 'response') {
      const status = (value as { status?: unknown } | null)?.status;
      if (key === 'response' && typeof status === 'number') fields.responseStatus = status;
      continue;
    }
    fields[key] = value;
  }
  if (error.cause !== undefined) fields.cause = error.cause;
  return fields;
}

/** A stable pseudonym for a user id: events can be grouped by user without naming one. */
export function hashUserId(userId: string): string {
  return createHash('sha256').update(`switchyard-user:${userId}`).digest('hex').slice(0, 16);
}
