import { config } from '../config';

/**
 * CORS for the frontend API: a browser app on another origin may call it when its origin is in
 * CORS_ORIGINS (exact `scheme://host[:port]` matches, or `*` for any). Credentials are off (the API
 * takes bearer tokens, never cookies), so no origin is ever trusted with the caller's cookies.
 * Webhooks, crons and admin endpoints answer no CORS at all: browsers keep them same-origin.
 */

/** What a browser may send beyond the CORS-safelisted headers. */
const ALLOWED_HEADERS = 'authorization, content-type, x-request-id, idempotency-key';
/** What a browser's script may read beyond the safelisted response headers. */
const EXPOSED_HEADERS = 'x-request-id, retry-after, ratelimit, ratelimit-policy, location';
const PREFLIGHT_MAX_AGE_S = 600;

/** The origin, when it is one CORS_ORIGINS allows. */
export function allowedOrigin(request: Request): string | null {
  const origin = request.headers.get('origin');
  if (!origin) return null;
  const allowed = config().CORS_ORIGINS;
  return allowed.includes('*') || allowed.includes(origin) ? origin : null;
}

/** Adds the CORS headers of an actual (non-preflight) response. */
export function applyCors(request: Request, headers: Headers): void {
  // The answer depends on Origin whatever it is: caches must key on it.
  headers.append('Vary', 'Origin');
  const origin = allowedOrigin(request);
  if (!origin) return;
  headers.set('Access-Control-Allow-Origin', origin);
  headers.set('Access-Control-Expose-Headers', EXPOSED_HEADERS);
}

/** The headers of a preflight answer for an allowed origin. */
export function preflightHeaders(origin: string, methods: readonly string[]): Record<string, string> {
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Allow-Methods': methods.join(', '),
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_S),
    Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
  };
}
