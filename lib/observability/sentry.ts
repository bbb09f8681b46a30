import { createRequire } from 'node:module';
import * as Sentry from '@sentry/node';
import { config, type Config } from '../config';
import { hashUserId, REDACTED, scrubText, scrubValue } from './scrub';

/**
 * Errors to Sentry (@sentry/node) while SENTRY_DSN is set: a function's unhandled error (the route
 * wrapper answers it 500) and a job that failed for good. Only errors: no tracing, no OpenTelemetry,
 * no loader hooks, no request bodies. Every event passes `scrubEvent` before it leaves, and the
 * function flushes before it returns, since a frozen serverless instance sends nothing.
 */

let state: { dsn: string } | null | undefined;

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function sentryRelease(settings: Config = config()): string {
  return settings.SENTRY_RELEASE ?? settings.VERCEL_GIT_COMMIT_SHA ?? `switchyard@${packageVersion()}`;
}

export function sentryEnvironment(settings: Config = config()): string {
  return settings.SENTRY_ENVIRONMENT ?? settings.VERCEL_ENV ?? settings.NODE_ENV;
}

/** Initialises the client on first use when SENTRY_DSN is set; false while it is not. */
export function sentryEnabled(): boolean {
  if (state === undefined) {
    const settings = config();
    if (!settings.SENTRY_DSN) {
      state = null;
    } else {
      Sentry.init({
        dsn: settings.SENTRY_DSN,
        release: sentryRelease(settings),
        environment: sentryEnvironment(settings),
        sendDefaultPii: false,
        skipOpenTelemetrySetup: true,
        registerEsmLoaderHooks: false,
        defaultIntegrations: false,
        integrations: [
          Sentry.inboundFiltersIntegration(),
          Sentry.functionToStringIntegration(),
          Sentry.linkedErrorsIntegration(),
          Sentry.dedupeIntegration(),
          Sentry.nodeContextIntegration(),
          Sentry.onUncaughtExceptionIntegration(),
          Sentry.onUnhandledRejectionIntegration({ mode: 'warn' }),
        ],
        maxBreadcrumbs: 20,
        beforeSend: (event) => scrubEvent(event),
        beforeBreadcrumb: (breadcrumb) => scrubValue(breadcrumb) as Sentry.Breadcrumb,
      });
      state = { dsn: settings.SENTRY_DSN };
    }
  }
  return state !== null;
}

export interface ErrorContext {
  /** Hashed before it is sent. */
  userId?: string;
  requestId?: string;
  tags?: Record<string, string | number | boolean>;
  extra?: Record<string, unknown>;
}

/** Sends the error to Sentry (scrubbed) when it is configured; never throws. */
export function captureError(error: unknown, context: ErrorContext = {}): void {
  try {
    if (!sentryEnabled()) return;
    Sentry.withScope((scope) => {
      if (context.userId) scope.setUser({ id: hashUserId(context.userId) });
      if (context.requestId) scope.setTag('request_id', context.requestId);
      for (const [key, value] of Object.entries(context.tags ?? {})) scope.setTag(key, value);
      if (context.extra) scope.setExtras(context.extra);
      Sentry.captureException(error);
    });
  } catch {
    // Reporting an error must never become one.
  }
}

/** Waits (at most SENTRY_FLUSH_TIMEOUT_MS) for captured events to be sent. */
export async function flushErrors(): Promise<void> {
  if (!state) return;
  try {
    await Sentry.flush(config().SENTRY_FLUSH_TIMEOUT_MS);
  } catch {
    // A Sentry outage must not fail the function.
  }
}

/** For tests that point SENTRY_DSN at a local stand-in. */
export async function resetSentryForTests(): Promise<void> {
  if (state) await Sentry.close(1_000).catch(() => undefined);
  state = undefined;
}

/** Headers worth keeping on an event: none of them identifies or authenticates anyone. */
const SAFE_HEADERS = new Set(['content-type', 'content-length', 'user-agent', 'x-request-id', 'accept', 'x-vercel-id']);

/**
 * What leaves for Sentry: messages and exception values scrubbed; the user reduced to a hashed id;
 * no request body, cookies, query string or identifying header; no local variables; extras,
 * contexts, tags and breadcrumbs through the scrubber.
 */
export function scrubEvent<E extends Sentry.Event>(event: E): E {
  if (event.message) event.message = scrubText(event.message);
  if (event.logentry) {
    event.logentry = {
      ...event.logentry,
      message: event.logentry.message ? scrubText(event.logentry.message) : event.logentry.message,
      params: undefined,
    };
  }
  for (const exception of event.exception?.values ?? []) {
    if (exception.value) exception.value = scrubText(exception.value);
    for (const frame of exception.stacktrace?.frames ?? []) {
      delete frame.vars;
    }
  }
  if (event.user) {
    const id = event.user.id === undefined ? undefined : String(event.user.id);
    // An id already hashed by captureError is 16 hex characters; anything else is hashed here.
    event.user = id ? { id: /^[0-9a-f]{16}$/.test(id) ? id : hashUserId(id) } : {};
  }
  if (event.request) {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(event.request.headers ?? {})) {
      if (SAFE_HEADERS.has(name.toLowerCase())) headers[name] = scrubText(String(value));
    }
    event.request = {
      method: event.request.method,
      url: event.request.url ? scrubText(event.request.url.split('?')[0]!) : undefined,
      headers,
    };
  }
  if (event.extra) event.extra = scrubValue(event.extra) as Record<string, unknown>;
  if (event.contexts) event.contexts = scrubValue(event.contexts) as typeof event.contexts;
  if (event.tags) event.tags = scrubValue(event.tags) as typeof event.tags;
  if (event.breadcrumbs) event.breadcrumbs = event.breadcrumbs.map((crumb) => scrubValue(crumb) as Sentry.Breadcrumb);
  delete event.server_name;
  if (event.fingerprint) event.fingerprint = event.fingerprint.map((part) => scrubText(part));
  return event;
}

export { REDACTED };
