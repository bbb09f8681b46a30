import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../config';
import { JobStateError } from '../jobs/errors';
import { logger, type Logger } from '../observability/logger';
import { HttpError, badRequest } from './errors';

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

export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof z.ZodError) {
    return badRequest(
      'the request is invalid',
      error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
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
