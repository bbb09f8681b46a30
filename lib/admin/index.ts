import { waitUntil } from '@vercel/functions';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { connectionStatuses, jobStatuses, runStatuses, unitStatuses, webhookStatuses } from '../../db/schema';
import { auditOrigin, recordAudit, type AuditAction } from '../audit';
import { config } from '../config';
import { connectionOwners, countConnectionsByStatus } from '../connections/operator';
import { db as database } from '../database';
import { checkHealth } from '../health';
import { jsonBody } from '../http/body';
import { safeText } from '../http/input';
import { idParam, noQuery } from '../http/params';
import { route, type RequestContext } from '../http/route';
import { assertAdminRequest } from '../http/secrets';
import { listJobs, queueActivity, queueMetrics, type JobFilter, type JobSelection, type QueuedJob } from '../jobs';
import { decodeKeyset, encodeKeyset, pageQuerySchema } from '../pagination';
import { providerNames } from '../sync/providers';
import { failingStreams } from '../sync/state';
import { kick } from '../worker/runner';

/**
 * The operators' API (api/admin/*): every route behind `Bearer ADMIN_API_KEY`, the query and body
 * schemas they validate with (the OpenAPI document is generated from the same ones), and the glue
 * that reads across owners (the summary). The statements live in each table's owner module.
 */

/** An operator route: the admin key checked before anything else (401 without it, charged to the IP). */
export function adminRoute(handler: (request: Request, context: RequestContext) => Promise<Response>) {
  return route(async (request, context) => {
    assertAdminRequest(request);
    return handler(request, context);
  });
}

/** Every operator action is audited: the admin as actor, whose data it touched, the request's origin. */
export async function auditAdmin(
  db: Db,
  request: Request,
  context: RequestContext,
  entry: { action: AuditAction; userId: string | null; target?: { type: string; id: string | number }; details?: Record<string, unknown> },
): Promise<void> {
  await recordAudit(db, { ...entry, actor: { type: 'admin', id: null }, ...auditOrigin(request, context.requestId) });
}

/**
 * The POST of an operator's action on one connection (api/admin/connections/[id]/*): performs it, audits
 * it with what it returned besides the connection, and starts a runner pass when it queued syncs.
 */
export function connectionAction<R extends { connection: { id: number; userId: string }; jobIds?: number[] }>(
  action: AuditAction,
  perform: (db: Db, id: number) => Promise<R>,
  status = 200,
) {
  return adminRoute(async (request, context) => {
    noQuery(request, ['id']);
    const result = await perform(database(), idParam(request));
    const { connection, ...details } = result;
    await auditAdmin(database(), request, context, { action, userId: connection.userId, target: { type: 'connection', id: connection.id }, details });
    if ((result.jobIds?.length ?? 0) > 0 && config().WEBHOOK_KICK_RUNNER) waitUntil(kick());
    return Response.json(result, { status });
  });
}

/** The POST of an operator's action on one job (api/admin/jobs/[id]/retry, cancel): 202 with the job, audited. */
export function jobAction(action: AuditAction, perform: (db: Db, id: number) => Promise<QueuedJob>) {
  return adminRoute(async (request, context) => {
    noQuery(request, ['id']);
    const job = await perform(database(), idParam(request));
    await auditAdmin(database(), request, context, { action, userId: job.userId, target: { type: 'job', id: job.id }, details: { kind: job.kind, status: job.status } });
    return Response.json({ job }, { status: 202 });
  });
}

/** The POST of a bulk action on jobs (api/admin/jobs/retry, cancel): `{ids}` or `{filter, limit}`, audited. */
export function bulkJobsAction(
  action: AuditAction,
  schema: z.ZodType<z.infer<typeof bulkRetrySchema> | z.infer<typeof bulkCancelSchema>>,
  perform: (db: Db, selection: JobSelection) => Promise<number[]>,
) {
  return adminRoute(async (request, context) => {
    noQuery(request);
    const body = await jsonBody(request, schema, 16 * 1024);
    const jobIds = await perform(database(), jobSelection(body));
    await auditAdmin(database(), request, context, {
      action,
      userId: body.filter?.userId ?? null,
      details: { count: jobIds.length, jobIds: jobIds.slice(0, 100), ...(body.filter ? { filter: body.filter } : {}) },
    });
    return Response.json({ jobIds, count: jobIds.length }, { status: 202 });
  });
}

const userId = safeText().min(1).max(128);
const kind = safeText().min(1).max(100);

export const adminJobListQuery = pageQuerySchema.extend({
  status: z.enum(jobStatuses).optional(),
  kind: kind.optional(),
  userId: userId.optional(),
});

/** A page of jobs, newest first; the cursor is the last job's id. */
export async function listJobsPage(db: Db, query: z.infer<typeof adminJobListQuery>): Promise<{ data: QueuedJob[]; nextCursor: string | null }> {
  const filter: JobFilter = { status: query.status, kind: query.kind, userId: query.userId };
  const beforeId = query.cursor ? decodeKeyset(query.cursor).i : undefined;
  const rows = await listJobs(db, filter, { limit: query.limit + 1, beforeId });
  const data = rows.slice(0, query.limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > query.limit && last ? encodeKeyset({ t: null, i: last.id }) : null };
}

const BULK_MAX_IDS = 100;
const BULK_MAX_FILTERED = 1000;

/** A bulk action's body: `ids`, or a `filter` with a `limit` (at most 1000, newest first). */
function bulkSchema<S extends readonly [string, ...string[]]>(statuses: S) {
  return z
    .strictObject({
      ids: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).min(1).max(BULK_MAX_IDS).optional(),
      filter: z
        .strictObject({ status: z.enum(statuses).optional(), kind: kind.optional(), userId: userId.optional() })
        .optional(),
      limit: z.number().int().min(1).max(BULK_MAX_FILTERED).optional(),
    })
    .superRefine((body, ctx) => {
      if ((body.ids === undefined) === (body.filter === undefined)) {
        ctx.addIssue({ code: 'custom', path: [], message: 'give either ids or filter' });
      }
      if (body.ids !== undefined && body.limit !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['limit'], message: 'only with filter' });
      }
    });
}

export const bulkRetrySchema = bulkSchema(['dead', 'failed'] as const);
export const bulkCancelSchema = bulkSchema(['queued', 'running'] as const);

export function jobSelection(body: z.infer<typeof bulkRetrySchema> | z.infer<typeof bulkCancelSchema>): JobSelection {
  if (body.ids) return { ids: [...new Set(body.ids)] };
  return { filter: body.filter as JobFilter, limit: body.limit ?? 100 };
}

export const adminConnectionListQuery = pageQuerySchema.extend({
  provider: z.enum(providerNames).optional(),
  status: z.enum(connectionStatuses).optional(),
  userId: userId.optional(),
});

export const adminWebhookListQuery = pageQuerySchema.extend({
  status: z.enum(webhookStatuses).optional(),
  type: safeText().min(1).max(100).optional(),
});

export const adminUnitListQuery = pageQuerySchema.extend({
  status: z.enum(unitStatuses).optional(),
  userId: userId.optional(),
});

export const adminRunListQuery = pageQuerySchema.extend({
  status: z.enum(runStatuses).optional(),
  unitId: z
    .string()
    .regex(/^[0-9]{1,15}$/, 'expected a positive integer')
    .transform(Number)
    .pipe(z.number().int().positive())
    .optional(),
  userId: userId.optional(),
});

const TOP = 20;

/**
 * What the console's overview shows, read in parallel: health (database, queue age), the queue
 * (depth by kind and status, runnable, oldest runnable age, dead, running per user, the last hour's
 * outcomes), failing syncs and connections by status.
 */
export async function adminSummary(db: Db) {
  const settings = config();
  const [health, metrics, activity, failing, connections] = await Promise.all([
    checkHealth(db, { timeoutMs: settings.HEALTH_DB_TIMEOUT_MS, maxQueueAgeSeconds: settings.HEALTH_MAX_QUEUE_AGE_S }),
    queueMetrics(db),
    queueActivity(db, TOP),
    failingStreams(db, TOP),
    countConnectionsByStatus(db),
  ]);
  const owners = await connectionOwners(db, [...new Set(failing.streams.map((stream) => stream.connectionId))]);
  return {
    health: { status: health.status, checks: health.checks },
    queue: {
      depth: metrics.depth,
      queued: health.queue?.queued ?? 0,
      runnable: health.queue?.runnable ?? 0,
      running: health.queue?.running ?? 0,
      dead: metrics.dead,
      oldestRunnableAgeSeconds: metrics.oldestRunnableAgeSeconds,
      runningByUser: activity.runningByUser,
      lastHour: activity.lastHour,
    },
    syncs: {
      failing: failing.count,
      failingStreams: failing.streams.map((stream) => ({
        connectionId: stream.connectionId,
        userId: owners.get(stream.connectionId)?.userId ?? null,
        provider: owners.get(stream.connectionId)?.provider ?? null,
        stream: stream.stream,
        lastError: stream.lastError,
        lastErrorAt: stream.lastErrorAt,
        lastSuccessAt: stream.lastSuccessAt,
      })),
    },
    connections,
  };
}
