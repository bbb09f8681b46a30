import { z } from 'zod';
import {
  actionStatuses,
  connectionStatuses,
  jobStatuses,
  runStatuses,
  runStepStatuses,
  unitStatuses,
  webhookStatuses,
} from '../../../db/schema';
import { ERROR_CODES } from '../../errors';

/**
 * What the API answers, as zod schemas the OpenAPI document is generated from (the requests' schemas
 * are the ones the routes validate with, imported from their modules). Objects are loose: a field
 * added to a view does not break a client, and the contract test (tests/openapi.test.ts) still checks
 * every documented field of real answers.
 */

/** Timestamps are ISO 8601 in UTC (a Date's JSON). */
const timestamp = z.iso.datetime();
const maybeTime = timestamp.nullable();
const id = z.number().int().positive();
const anyJson = z.unknown();

export const errorEnvelope = z
  .looseObject({
    error: z.looseObject({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      details: z.array(z.looseObject({ path: z.string(), message: z.string() })).optional(),
      requestId: z.string(),
    }),
  })
  .meta({ description: 'Every error: the code (its HTTP status in lib/http/errors.ts), a message, the fields at fault, the request id.' });

export const page = <T extends z.ZodType>(item: T) =>
  z.looseObject({ data: z.array(item), nextCursor: z.string().nullable().meta({ description: 'Pass as ?cursor= for the next page; null at the end.' }) });

export const job = z.looseObject({
  id,
  kind: z.string(),
  userId: z.string(),
  payload: anyJson,
  status: z.enum(jobStatuses),
  priority: z.number().int(),
  runAt: timestamp,
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  lockedBy: z.string().nullable(),
  lockedUntil: maybeTime,
  lastError: z.string().nullable(),
  dedupeKey: z.string().nullable(),
  progress: anyJson,
  result: anyJson,
  cancelRequestedAt: maybeTime,
  rerunRequestedAt: maybeTime,
  startedAt: maybeTime,
  finishedAt: maybeTime,
  createdAt: timestamp,
  updatedAt: timestamp,
});

const streamOutcome = {
  stream: z.string(),
  lastSuccessAt: maybeTime,
  lastError: z.string().nullable(),
  lastErrorAt: maybeTime,
};

const connectionFields = {
  id,
  provider: z.string(),
  connectionId: z.string(),
  providerConfigKey: z.string(),
  status: z.enum(connectionStatuses),
  lastError: z.string().nullable(),
  lastSyncedAt: maybeTime,
  createdAt: timestamp,
};

export const connection = z.looseObject({ ...connectionFields, streams: z.array(z.looseObject(streamOutcome)) });
export const connectionSummary = z.looseObject({ ...connectionFields, updatedAt: timestamp });

export const adminConnection = z.looseObject({
  ...connectionFields,
  userId: z.string(),
  updatedAt: timestamp,
  streams: z.array(
    z.looseObject({
      ...streamOutcome,
      cursorSavedAt: maybeTime,
      cursorAgeSeconds: z.number().nullable(),
      job: z
        .looseObject({
          id,
          status: z.enum(jobStatuses),
          mode: anyJson,
          attempts: z.number().int(),
          progress: anyJson,
          startedAt: maybeTime,
          lastError: z.string().nullable(),
        })
        .nullable()
        .meta({ description: "The stream's sync queued or running now, with its progress." }),
    }),
  ),
});

export const unit = z.looseObject({
  id,
  name: z.string(),
  prompt: z.string(),
  status: z.enum(unitStatuses),
  statusReason: z.string().nullable(),
  compiled: anyJson,
  activatedAt: maybeTime,
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const run = z.looseObject({
  id,
  unitId: id,
  eventId: z.number().int().nullable(),
  eventType: z.string(),
  status: z.enum(runStatuses),
  error: z.string().nullable(),
  facts: anyJson,
  startedAt: maybeTime,
  finishedAt: maybeTime,
  createdAt: timestamp,
  updatedAt: timestamp,
});

export const step = z.looseObject({
  index: z.number().int(),
  tool: z.string(),
  input: anyJson,
  output: anyJson,
  status: z.enum(runStepStatuses),
  actionId: z.number().int().nullable(),
  error: anyJson,
  startedAt: maybeTime,
  finishedAt: maybeTime,
  durationMs: z.number().nullable(),
});

const actionError = z.looseObject({ status: z.number().int(), code: z.string(), message: z.string() }).nullable();

export const action = z.looseObject({
  id,
  tool: z.string(),
  provider: z.string(),
  connectionId: id,
  status: z.enum(actionStatuses),
  idempotencyKey: z.string(),
  input: anyJson,
  result: anyJson,
  error: actionError,
  lastError: actionError,
  attempts: z.number().int(),
  createdAt: timestamp,
  startedAt: maybeTime,
  finishedAt: maybeTime,
  updatedAt: timestamp,
});

/** An action's answer: 200 done, 202 still running (Location: /api/actions/{id}); a failure is the envelope plus `action`. */
export const actionAnswer = z.looseObject({ action });

export const apiKey = z.looseObject({
  id,
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.enum(['read', 'write'])),
  createdAt: timestamp,
  lastUsedAt: maybeTime,
  expiresAt: maybeTime,
});

export const auditEntry = z.looseObject({
  id,
  occurredAt: timestamp,
  userId: z.string().nullable(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  requestId: z.string().nullable(),
  ip: z.string().nullable(),
  details: anyJson,
});

/** Synced records: their own columns (lib/read), each with its row id. */
export const thread = z.looseObject({ id, subject: z.string(), snippet: z.string(), category: z.string(), lastMessageAt: timestamp });
export const threadWithMessages = thread.extend({ messages: z.array(z.looseObject({ id, subject: z.string(), internalDate: timestamp })) });
export const calendarEvent = z.looseObject({ id, providerEventId: z.string(), summary: z.string(), status: z.string() });
export const crmRecord = z.looseObject({ id, object: z.string(), providerId: z.string() });
export const interaction = z.looseObject({ id, source: z.enum(['email', 'calendar', 'crm']), kind: z.string(), occurredAt: timestamp, title: z.string() });

export const healthCheck = z.looseObject({ name: z.string(), ok: z.boolean(), detail: z.string() });
export const health = z.looseObject({
  status: z.enum(['ok', 'failing']),
  checks: z.array(healthCheck),
  queue: z
    .looseObject({ queued: z.number(), runnable: z.number(), running: z.number(), dead: z.number(), oldestRunnableAgeSeconds: z.number().nullable() })
    .nullable(),
  failing: z.array(z.string()).optional(),
});

export const preview = z.looseObject({
  prompt: z.string(),
  compiled: anyJson,
  items: z.array(z.looseObject({ eventId: id, type: z.string(), at: timestamp, title: z.string(), matches: z.boolean(), reason: z.string().optional() })),
  matched: z.number().int(),
});

export const requestedSync = z.looseObject({
  id,
  connectionId: id,
  provider: z.string(),
  stream: z.string(),
  mode: z.string(),
  status: z.enum(jobStatuses),
});

export const runSummary = z.looseObject({
  claimed: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int(),
  deferred: z.number().int(),
  dead: z.number().int(),
  durationMs: z.number(),
});

export const adminSummary = z.looseObject({
  health: z.looseObject({ status: z.enum(['ok', 'failing']), checks: z.array(healthCheck) }),
  queue: z.looseObject({
    depth: z.array(z.looseObject({ kind: z.string(), status: z.enum(['queued', 'running']), jobs: z.number().int() })),
    queued: z.number().int(),
    runnable: z.number().int(),
    running: z.number().int(),
    dead: z.number().int(),
    oldestRunnableAgeSeconds: z.number().nullable(),
    runningByUser: z.array(z.looseObject({ userId: z.string(), running: z.number().int() })),
    lastHour: z.looseObject({ succeeded: z.number().int(), failed: z.number().int(), dead: z.number().int(), cancelled: z.number().int() }),
  }),
  syncs: z.looseObject({
    failing: z.number().int(),
    failingStreams: z.array(
      z.looseObject({
        connectionId: id,
        userId: z.string().nullable(),
        provider: z.string().nullable(),
        stream: z.string(),
        lastError: z.string().nullable(),
        lastErrorAt: maybeTime,
        lastSuccessAt: maybeTime,
      }),
    ),
  }),
  connections: z.looseObject({ active: z.number().int(), paused: z.number().int(), error: z.number().int() }),
});

export const delivery = z.looseObject({
  id,
  type: z.string(),
  status: z.enum(webhookStatuses),
  error: z.string().nullable().meta({ description: 'Why it was rejected or ignored.' }),
  nangoConnectionId: z.string().nullable(),
  providerConfigKey: z.string().nullable(),
  receivedAt: timestamp,
  summary: z.looseObject({
    operation: z.string().optional(),
    success: z.boolean().optional(),
    syncName: z.string().optional(),
    model: z.string().optional(),
    errorType: z.string().optional(),
  }),
});

export const bulkResult = z.looseObject({ jobIds: z.array(id), count: z.number().int() });
export const adminUnit = unit.extend({ userId: z.string() });
export const adminRun = run.extend({ userId: z.string() });
export const looseObject = z.looseObject({});
