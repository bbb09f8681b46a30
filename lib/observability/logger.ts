import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { config, type Config } from '../config';
import { scrubText, scrubValue } from './scrub';

/** Paths never written to logs: credentials, message contents, addresses. */
const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-nango-hmac-sha256"]',
  'headers["x-nango-signature"]',
  '*.authorization',
  '*.access_token',
  '*.refresh_token',
  '*.accessToken',
  '*.refreshToken',
  '*.secretKey',
  '*.password',
  '*.token',
  '*.body',
  '*.bodyText',
  '*.cleanBody',
  '*.raw',
  '*.email',
  '*.params',
  // The same keys at the top level of a log call.
  'body',
  'bodyText',
  'cleanBody',
  'raw',
  'email',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'params',
  'ip',
];

type Level = NonNullable<Config['LOG_LEVEL']>;

/** Production says what happened; development also how; tests only what went wrong. */
const LEVEL_BY_ENVIRONMENT: Record<Config['NODE_ENV'], Level> = {
  production: 'info',
  development: 'debug',
  test: 'warn',
};

export function logLevel(settings: Config = config()): Level {
  return settings.LOG_LEVEL ?? LEVEL_BY_ENVIRONMENT[settings.NODE_ENV];
}

export function logFormat(settings: Config = config()): 'json' | 'pretty' {
  return settings.LOG_FORMAT ?? (settings.NODE_ENV === 'development' ? 'pretty' : 'json');
}

/**
 * Errors are serialized through the scrubber: an HTTP client's error carries its request (headers,
 * tokens), a failed query its parameters, a provider's message an address. None of it is written.
 */
function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return scrubValue(error);
  return { type: error.name, ...(scrubValue(error) as Record<string, unknown>) };
}

export function loggerOptions(settings: Config = config()): LoggerOptions {
  return {
    level: logLevel(settings),
    base: { service: 'switchyard' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError, error: serializeError },
    hooks: {
      // Messages are free text: an error's description can carry an address or a token.
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) {
          if (typeof args[i] === 'string') args[i] = scrubText(args[i] as string);
        }
        return method.apply(this, args as Parameters<typeof method>);
      },
    },
  };
}

/**
 * pino-pretty, loaded only when asked for (a development dependency: functions log JSON). Synchronous
 * in this thread, so a line is on the terminal before the next one and nothing is lost on exit.
 */
function prettyStream(): DestinationStream | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (options: object) => DestinationStream;
    return pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', sync: true });
  } catch {
    return undefined;
  }
}

let root: Logger | undefined;

export function logger(): Logger {
  if (!root) {
    const settings = config();
    const stream = logFormat(settings) === 'pretty' ? prettyStream() : undefined;
    root = stream ? pino(loggerOptions(settings), stream) : pino(loggerOptions(settings));
  }
  return root;
}

/** For tests that change LOG_LEVEL or LOG_FORMAT. */
export function resetLoggerForTests(): void {
  root = undefined;
}

export type { Logger };
