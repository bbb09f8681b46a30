import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../config';
import { DomainError, type DomainErrorCode } from '../errors';
import { JobStateError } from '../jobs/errors';
import { logger, type Logger } from '../observability/logger';
import { authenticate, type Caller } from './auth';
import { validate } from './body';
import { enforceRateLimit } from './rate-limit';
import { HttpError, badRequest, type ErrorCode } from './errors';

export interface RequestContext {
  requestId: string;
  logger: Logger;
}

export type RouteHandler = (request: Request, context: RequestContext) => Promise<Response>;

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Wraps an api/ handler: a request id on the response and every log line, and every failure turned
 * into the error envelope (no stack trace ever leaves).
 */
export function route(handler: RouteHandler): (request: Request) => Promise<Response> {
  return async (request) => {
    const incoming = request.headers.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    let log: Logger;
    try {
      log = logger().child({ requestId, method: request.method, path: new URL(request.url).pathname });
    } catch (error) {
      return errorResponse(requestId, toHttpError(error));
    }
    let response: Response;
    try {
      response = await handler(request, { requestId, logger: log });
    } catch (error) {
      const httpError = toHttpError(error);
      if (httpError.status >= 500) log.error({ err: error }, 'request failed');
      else log.info({ code: httpError.code, status: httpError.status }, 'request rejected');
      response = errorResponse(requestId, httpError);
    }
    response.headers.set('x-request-id', requestId);
    return response;
  };
}

const DOMAIN_STATUS: Record<DomainErrorCode, [number, ErrorCode]> = {
  invalid_signature: [401, 'unauthenticated'],
  validation_failed: [400, 'validation_failed'],
  unknown_provider: [422, 'unprocessable'],
  not_found: [404, 'not_found'],
  conflict: [409, 'conflict'],
  unprocessable: [422, 'unprocessable'],
  dependency_unavailable: [503, 'dependency_unavailable'],
};

export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof z.ZodError) {
    return badRequest(
      'the request is invalid',
      error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  if (error instanceof DomainError) {
    const [status, code] = DOMAIN_STATUS[error.code];
    return new HttpError(status, code, error.message, error.details, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : undefined);
  }
  if (error instanceof JobStateError) {
    return new HttpError(error.code === 'job_not_found' ? 404 : 409, error.code === 'job_not_found' ? 'not_found' : 'conflict', error.message);
  }
  if (error instanceof ConfigError) {
    return new HttpError(503, 'dependency_unavailable', 'the service is misconfigured; see the server logs');
  }
  return new HttpError(500, 'internal_error', 'an unexpected error occurred');
}

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

export function json(body: unknown, init?: ResponseInit): Response {
  return Response.json(body, init);
}

/** A frontend API route: the caller authenticated (Firebase ID token) before the handler runs. */
export function authedRoute(
  handler: (request: Request, context: RequestContext & { caller: Caller }) => Promise<Response>,
): (request: Request) => Promise<Response> {
  return route(async (request, context) => {
    const caller = await authenticate(request);
    await enforceRateLimit(`user:${caller.userId}`);
    return handler(request, { ...context, caller, logger: context.logger.child({ userId: caller.userId }) });
  });
}

/**
 * The query string validated with a zod object. Parameters named in `repeatable` arrive as arrays;
 * any other parameter given twice, or one the endpoint does not know, is a 400 naming it.
 */
export function queryParams<S extends z.ZodObject>(
  request: Request,
  schema: S,
  repeatable: readonly string[] = [],
): z.infer<S> {
  const params = new URL(request.url).searchParams;
  const known = new Set(Object.keys(schema.shape));
  const input: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    if (!known.has(key)) {
      throw badRequest(`the query is invalid: ${key}: not a parameter of this endpoint`, [
        { path: key, message: 'not a parameter of this endpoint' },
      ]);
    }
    const values = params.getAll(key);
    if (values.length > 1 && !repeatable.includes(key)) {
      throw badRequest(`the query is invalid: ${key}: given more than once`, [{ path: key, message: 'given more than once' }]);
    }
    input[key] = repeatable.includes(key) ? values : values[0]!;
  }
  return validate(schema, input, 'the query') as z.infer<S>;
}
