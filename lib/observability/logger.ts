import pino, { type Logger } from 'pino';
import { config } from '../config';

/** Paths never written to logs: credentials, message contents, addresses. */
const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'headers["x-nango-hmac-sha256"]',
  'headers["x-nango-signature"]',
  '*.access_token',
  '*.refresh_token',
  '*.accessToken',
  '*.secretKey',
  '*.password',
  '*.body',
  '*.bodyText',
  '*.raw',
  '*.email',
];

let root: Logger | undefined;

export function logger(): Logger {
  root ??= pino({
    level: config().LOG_LEVEL,
    base: { service: 'switchyard' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  return root;
}

export type { Logger };
