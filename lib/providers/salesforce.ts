import jsforce, { type Connection, type HttpRequest, type HttpRequestOptions, type HttpResponse } from 'jsforce';
import { Transport } from 'jsforce/lib/transport';
import { config } from '../config';
import { ProviderError, parseRetryAfter } from './errors';

/**
 * jsforce's own HTTP layer retries GET requests on 420/429/5xx and on network errors (up to 5 times,
 * with its own backoff). lib/providers/resilience.ts already retries, paces and breaks the circuit, and a
 * second layer would multiply attempts and hide them from the quota pacer, so every request jsforce
 * sends here goes out with its retries off (`methods: []` also covers 420, which jsforce retries twice
 * whatever `maxRetries` says). The request timeout is set too, so that a request our policy has given
 * up on also releases its socket instead of waiting for jsforce's 30-minute default.
 */
class PolicyTransport extends Transport {
  /** The last response's status and headers: jsforce's errors carry the error code, not the status. */
  lastResponse: { status: number; headers: Record<string, string> } | undefined;

  constructor(private readonly timeoutMs: number) {
    super();
  }

  override httpRequest(request: HttpRequest, options: HttpRequestOptions = {}) {
    this.lastResponse = undefined;
    const sent = super.httpRequest(request, { ...options, timeout: this.timeoutMs, retry: { maxRetries: 0, methods: [] } });
    // An observer only: `sent` itself (a StreamPromise) is what jsforce awaits and streams from.
    sent.then(
      (response: HttpResponse) => {
        this.lastResponse = { status: response.statusCode, headers: response.headers };
      },
      () => undefined,
    );
    return sent;
  }
}

const transports = new WeakMap<Connection, PolicyTransport>();

export interface SalesforceSession {
  /** The org's instance, from the Nango connection (`connection_config.instance_url`). */
  instanceUrl: string;
  accessToken: string;
}

/**
 * A jsforce Connection for one org and access token, on the configured REST API version. Cheap to
 * build: build one per request (inside `context.request`), so the token is always the one the
 * resilience layer just handed out (it changes after a refresh on 401) and `salesforceError` can read
 * that request's status. No refresh function: re-authentication is Nango's (see lib/sync/engine/request.ts).
 */
export function salesforceConnection(session: SalesforceSession): Connection {
  const connection = new jsforce.Connection({
    instanceUrl: session.instanceUrl.replace(/\/+$/, ''),
    accessToken: session.accessToken,
    version: config().SALESFORCE_API_VERSION,
  });
  const transport = new PolicyTransport(config().PROVIDER_TIMEOUT_MS);
  connection._transport = transport;
  transports.set(connection, transport);
  return connection;
}

/** The HTTP status an error code comes with, for when the response's own status is not at hand. */
const STATUS_BY_CODE: Record<string, number> = {
  INVALID_SESSION_ID: 401,
  SERVER_UNAVAILABLE: 503,
  UNKNOWN_EXCEPTION: 500,
  // A query that ran too long (Salesforce answers 400): a retry usually finds the index warm.
  QUERY_TIMEOUT: 408,
  NOT_FOUND: 404,
};

/**
 * A jsforce error (HttpApiError: `errorCode` from Salesforce's `[{message, errorCode}]` body, or
 * ERROR_HTTP_<status> for bodies that are not JSON), or a network failure, as a ProviderError:
 * - INVALID_SESSION_ID -> 401 (the context refreshes the token once and tries again);
 * - REQUEST_LIMIT_EXCEEDED -> a quota refusal, 403 (the org's daily API limit) or 429 (concurrency or
 *   rate limit), with the Retry-After Salesforce sent;
 * - 5xx, SERVER_UNAVAILABLE, UNKNOWN_EXCEPTION, QUERY_TIMEOUT, timeouts and network errors -> transient;
 * - anything else by its HTTP status (400 when unknown): the job fails with Salesforce's message.
 * Pass the connection the request went through, so the status and headers of its response are used.
 */
export function salesforceError(error: unknown, connection?: Connection): ProviderError {
  if (error instanceof ProviderError) return error;
  const e = (error ?? {}) as { name?: string; errorCode?: string; code?: string; message?: string };
  const response = connection ? transports.get(connection)?.lastResponse : undefined;
  const errorCode = typeof e.errorCode === 'string' ? e.errorCode : undefined;

  if (!errorCode) {
    // No Salesforce answer: node-fetch's FetchError (ECONNRESET, ECONNREFUSED...), jsforce's timeout
    // (an AbortError), or a body jsforce could not read.
    return new ProviderError('salesforce', 0, `salesforce network: ${e.message ?? String(error)}`, { cause: error, reason: e.code ?? e.name });
  }
  const fromCode = /^ERROR_HTTP_(\d{3})$/.exec(errorCode);
  const status =
    response && response.status >= 400
      ? response.status
      : fromCode
        ? Number(fromCode[1])
        : (STATUS_BY_CODE[errorCode] ?? (errorCode === 'REQUEST_LIMIT_EXCEEDED' ? 403 : 400));
  const quota = errorCode === 'REQUEST_LIMIT_EXCEEDED';
  return new ProviderError('salesforce', status, `salesforce ${status}: ${errorCode}: ${e.message ?? 'request failed'}`, {
    retryAfterMs: parseRetryAfter(response?.headers['retry-after'] ?? null),
    quota,
    reason: errorCode,
    cause: error,
  });
}
