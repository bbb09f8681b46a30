import { randomUUID } from 'node:crypto';
import { config } from '../config';
import { logger, type Logger } from '../observability/logger';
import { performance, requestFinished } from '../observability/request';
import { authenticate, type Caller } from './auth';
import { allowedOrigin, applyCors, preflightHeaders } from './cors';
import { HttpError, forbidden, methodNotAllowed, toHttpError } from './errors';
import { RateLimitStatus, enforceRateLimit, policy } from './rate-limit';

export interface RequestContext {
  requestId: string;
  logger: Logger;
  /** Headers every response of this request carries, success or error (rate-limit status, …). */
  responseHeaders: Headers;
}

export type RouteHandler = (request: Request, context: RequestContext) => Promise<Response>;

export interface RouteOptions {
  /** Browsers on the origins of CORS_ORIGINS may call it (the frontend API); off for webhooks, crons, admin. */
  cors?: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/** The caller's request id when it is well-formed, a fresh one otherwise. */
export function requestIdOf(request: Request): string {
  const incoming = request.headers.get('x-request-id');
  return incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Wraps an api/ handler: a request id on the response and every log line, and every failure turned
 * into the error envelope (no stack trace ever leaves).
 */
export function route(handler: RouteHandler, options: RouteOptions = {}): (request: Request) => Promise<Response> {
  return async (request) => {
    const startedAt = performance.now();
    const requestId = requestIdOf(request);
    const responseHeaders = new Headers();
    let response: Response;
    let log: Logger | undefined;
    let unhandled: unknown;
    try {
      log = logger().child({ requestId, method: request.method, path: new URL(request.url).pathname });
      response = await handler(request, { requestId, logger: log, responseHeaders });
    } catch (error) {
      let httpError = toHttpError(error);
      if (httpError.status === 401) httpError = await chargeUnauthenticated(request, httpError, responseHeaders);
      if (httpError.status >= 500) log?.error({ err: error }, 'request failed');
      if (httpError.status === 500) unhandled = error;
      else log?.info({ code: httpError.code, status: httpError.status }, 'request rejected');
      response = errorResponse(requestId, httpError);
    }
    responseHeaders.set('x-request-id', requestId);
    response = withHeaders(response, responseHeaders);
    if (options.cors) applyCors(request, response.headers);
    // One log line, the metrics, and an unhandled error's Sentry event flushed before returning.
    if (log) await requestFinished({ request, requestId, logger: log, status: response.status, startedAt, error: unhandled });
    return response;
  };
}

/** The error envelope: `{ error: { code, message, details?, requestId } }` with the code's status. */
export function errorResponse(requestId: string, error: HttpError): Response {
  const body = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      requestId,
    },
  };
  return Response.json(body, { status: error.status, headers: { ...error.headers, 'x-request-id': requestId } });
}

/** The response with `headers` added (a response whose headers are immutable, e.g. a fetch()'s, is copied). */
function withHeaders(response: Response, headers: Headers): Response {
  try {
    headers.forEach((value, name) => response.headers.set(name, value));
    return response;
  } catch {
    const copy = new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
    headers.forEach((value, name) => copy.headers.set(name, value));
    return copy;
  }
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthedOptions {
  /** Only a Firebase ID token is accepted (API keys cannot manage API keys). */
  firebaseOnly?: boolean;
}

/**
 * A frontend API route: CORS for the allowed origins; the caller authenticated (a Firebase ID token or
 * an API key, the `write` scope needed for anything but reads) and rate-limited (per user, and per
 * organisation when the token names one) before the handler runs.
 */
export function authedRoute(
  handler: (request: Request, context: RequestContext & { caller: Caller }) => Promise<Response>,
  options: AuthedOptions = {},
): (request: Request) => Promise<Response> {
  return route(
    async (request, context) => {
      const caller = await authenticate(request);
      if (options.firebaseOnly && caller.via !== 'firebase') {
        throw forbidden('API keys cannot manage API keys: use a Firebase ID token');
      }
      if (!READ_METHODS.has(request.method) && !caller.scopes.includes('write')) {
        throw forbidden('this API key has no write scope', {
          'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="write"',
        });
      }
      const status = new RateLimitStatus();
      try {
        await enforceRateLimit(status, policy('user'), `user:${caller.userId}`);
        if (caller.orgId && config().RATE_LIMIT_ORG_CLAIM) await enforceRateLimit(status, policy('org'), `org:${caller.orgId}`);
      } finally {
        setAll(context.responseHeaders, status.headers());
      }
      return handler(request, { ...context, caller, logger: context.logger.child({ userId: caller.userId, via: caller.via }) });
    },
    { cors: true },
  );
}

/**
 * A request without valid credentials (any route's 401) is charged to its client IP: past the budget
 * it is answered 429 instead, so guessing tokens, keys or secrets is slow. Either way it carries the
 * IP policy's RateLimit headers.
 */
async function chargeUnauthenticated(request: Request, refusal: HttpError, responseHeaders: Headers): Promise<HttpError> {
  const status = new RateLimitStatus();
  try {
    await enforceRateLimit(status, policy('ip'), `ip:${clientIp(request)}`);
    return refusal;
  } catch (error) {
    return toHttpError(error);
  } finally {
    setAll(responseHeaders, status.headers());
  }
}

function setAll(target: Headers, headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) target.set(name, value);
}

/**
 * The client's address as the platform reports it: Vercel sets x-real-ip and x-forwarded-for itself
 * (a client's own values are overwritten), and so does dev/server.ts.
 */
export function clientIp(request: Request): string {
  const candidate = request.headers.get('x-real-ip') ?? request.headers.get('x-forwarded-for')?.split(',')[0];
  const ip = candidate?.trim() ?? '';
  return /^[0-9A-Fa-f:.]{2,64}$/.test(ip) ? ip : 'unknown';
}

/**
 * The OPTIONS export of a frontend route: answers a CORS preflight from an allowed origin (204 with
 * the methods and headers it may use), refuses one from any other origin (403), and answers a plain
 * OPTIONS with Allow.
 */
export function preflight(...methods: string[]): (request: Request) => Promise<Response> {
  const allowed = [...methods, 'OPTIONS'];
  return route(
    async (request) => {
      const isPreflight = request.headers.has('origin') && request.headers.has('access-control-request-method');
      if (!isPreflight) return new Response(null, { status: 204, headers: { Allow: allowed.join(', ') } });
      const origin = allowedOrigin(request);
      if (!origin) throw forbidden(`origin ${request.headers.get('origin')} is not allowed (CORS_ORIGINS)`);
      const method = request.headers.get('access-control-request-method')!.toUpperCase();
      if (!allowed.includes(method)) throw methodNotAllowed(allowed);
      return new Response(null, { status: 204, headers: preflightHeaders(origin, allowed) });
    },
    { cors: false },
  );
}
