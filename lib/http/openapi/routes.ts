import { z } from 'zod';
import { createEventInput, updateEventInput } from '../../actions/calendar/events';
import { emailSendInput } from '../../actions/gmail/send';
import { crmBatchInput, crmCreateInput, crmUpdateInput } from '../../actions/salesforce/records';
import { calendarWriteQuery } from '../../actions/targets';
import { actionListQuery } from '../../actions/view';
import {
  adminConnectionListQuery,
  adminJobListQuery,
  adminRunListQuery,
  adminUnitListQuery,
  adminWebhookListQuery,
  bulkCancelSchema,
  bulkRetrySchema,
} from '../../admin';
import { auditAdminQuery } from '../../audit';
import { previewInputSchema, testInputSchema } from '../../automations/preview';
import { runListQuery } from '../../automations/runs';
import { unitInputSchema, unitListQuery, unitPatchSchema, unitStatusSchema } from '../../automations/units';
import { connectSchema, connectionDeleteQuery } from '../../connections/connect';
import { pageQuerySchema } from '../../pagination';
import { calendarListQuery } from '../../read/calendar';
import { CRM_PATH_OBJECTS, crmListQueries } from '../../read/crm';
import { emailListQuery } from '../../read/emails';
import { interactionListQuery } from '../../read/interactions';
import { syncRequestSchema } from '../../sync/requests';
import { apiKeyCreateSchema } from '../api-keys';
import * as s from './schemas';

/**
 * Every route under api/, keyed by its file (`api/units/[id]` for api/units/[id].ts): each exported
 * method with who may call it, the zod schemas its handler validates the query and body with (imported
 * from where the handler imports them), and what it answers. tests/openapi.test.ts fails when a file
 * under api/, or a method one exports, is missing here, so a new route cannot go undocumented.
 * Every operation also answers the error envelope on 4xx and 5xx (added by document.ts).
 */

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call: `user` a Firebase ID token or an API key (`write` scope for anything but GET),
 * `firebase` a Firebase ID token only, `admin` ADMIN_API_KEY, `userOrAdmin` either, `cron`
 * CRON_SECRET, `metrics` METRICS_TOKEN, `nango` Nango's signature, `public` anyone.
 */
export type Auth = 'public' | 'user' | 'firebase' | 'admin' | 'userOrAdmin' | 'cron' | 'metrics' | 'nango';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  /** application/json unless said. */
  contentType?: string;
}

export interface OperationSpec {
  summary: string;
  description?: string;
  auth: Auth;
  query?: z.ZodType;
  /** Query parameters that may be repeated. */
  repeatable?: readonly string[];
  body?: z.ZodType;
  /** A body may be left out (an empty POST). */
  bodyOptional?: boolean;
  /** An action: the Idempotency-Key header is required. */
  idempotent?: boolean;
  responses: Record<number, ResponseSpec>;
}

export interface RouteSpec {
  /** A frontend route: CORS for CORS_ORIGINS, its OPTIONS export answers preflights. */
  cors?: boolean;
  /** Path parameters other than a positive integer id. */
  params?: Record<string, z.ZodType>;
  methods: Partial<Record<Method, OperationSpec>>;
}

const ok = (description: string, schema?: z.ZodType): Record<number, ResponseSpec> => ({ 200: { description, schema } });
const actionResponses: Record<number, ResponseSpec> = {
  200: { description: 'Done: the action with its result.', schema: s.actionAnswer },
  202: { description: 'Still running: poll Location (/api/actions/{id}).', schema: s.actionAnswer },
};
const crmObject = z.enum(Object.keys(CRM_PATH_OBJECTS) as [string, ...string[]]);
const providerId = z.string().min(1).max(1024).meta({ description: "The row id, or the provider's own id" });
const accepted = z.looseObject({ status: z.literal('accepted'), message: z.string() });

export const apiRoutes: Record<string, RouteSpec> = {
  // ---- public, crons, webhooks ------------------------------------------------------------------
  'api/health': {
    methods: {
      GET: {
        summary: 'Health: the database answers and the queue keeps up (503 naming the failing check)',
        auth: 'public',
        responses: { 200: { description: 'Healthy', schema: s.health }, 503: { description: 'A check fails', schema: s.health } },
      },
    },
  },
  'api/openapi.json': {
    methods: { GET: { summary: 'This document (OpenAPI 3.1)', auth: 'public', responses: ok('The OpenAPI document', s.looseObject) } },
  },
  'api/metrics': {
    methods: {
      GET: {
        summary: 'Prometheus scrape: counters of this instance, queue and business figures read now',
        auth: 'metrics',
        responses: { 200: { description: 'Prometheus text format', schema: z.string(), contentType: 'text/plain' } },
      },
    },
  },
  'api/webhooks/nango': {
    methods: {
      POST: {
        summary: "Nango's webhooks (auth, sync): verified over the raw bytes, recorded and turned into jobs",
        auth: 'nango',
        body: z.looseObject({ type: z.string() }),
        responses: { 202: { description: 'Recorded (a redelivery changes nothing)', schema: accepted } },
      },
    },
  },
  'api/cron/run-jobs': {
    methods: { GET: { summary: 'Vercel Cron, every minute: one runner pass', auth: 'cron', responses: ok('The pass', s.runSummary) } },
  },
  'api/cron/sync-stale': {
    methods: {
      GET: { summary: 'Vercel Cron: an incremental sync of connections that have not synced lately', auth: 'cron', responses: ok('What was enqueued', s.looseObject) },
    },
  },
  'api/cron/maintenance': {
    methods: { GET: { summary: 'Vercel Cron, daily: retention', auth: 'cron', responses: ok('Rows deleted per table', s.looseObject) } },
  },
  'api/cron/alerts': {
    methods: {
      GET: {
        summary: 'Vercel Cron: evaluates the alert rules, tells Slack',
        auth: 'cron',
        responses: ok(
          'Incidents firing, opened, resolved',
          z.looseObject({ firing: z.array(z.string()), opened: z.array(z.string()), resolved: z.array(z.string()), notified: z.number() }),
        ),
      },
    },
  },

  // ---- connections and syncs --------------------------------------------------------------------
  'api/connections/index': {
    cors: true,
    methods: {
      GET: { summary: "The caller's connections, with each stream's last outcome", auth: 'user', query: pageQuerySchema, responses: ok('A page', s.page(s.connection)) },
      POST: {
        summary: 'Records a connection after Nango Connect and starts its backfill',
        auth: 'user',
        body: connectSchema,
        responses: {
          201: { description: 'Recorded; the backfill jobs', schema: z.looseObject({ connection: s.looseObject, jobIds: z.array(z.number().int()) }) },
          200: { description: 'Already recorded', schema: z.looseObject({ connection: s.looseObject, jobIds: z.array(z.number().int()) }) },
        },
      },
    },
  },
  'api/connections/[id]': {
    cors: true,
    methods: {
      DELETE: {
        summary: "Disconnects: stops the connection's jobs; ?purge=true deletes its synced data",
        auth: 'user',
        query: connectionDeleteQuery,
        responses: ok('Deleted', z.looseObject({ id: z.number().int(), deleted: z.literal(true), cancelledJobs: z.number().int(), purged: z.boolean() })),
      },
    },
  },
  'api/connections/[id]/pause': {
    cors: true,
    methods: {
      POST: {
        summary: 'Pauses: webhooks start no sync, its sync jobs are cancelled',
        auth: 'user',
        responses: ok('Paused', z.looseObject({ connection: s.connectionSummary, cancelledJobs: z.number().int() })),
      },
    },
  },
  'api/connections/[id]/resume': {
    cors: true,
    methods: {
      POST: {
        summary: 'Resumes, and an incremental sync of each stream catches up',
        auth: 'user',
        responses: { 202: { description: 'Resumed; the sync jobs', schema: z.looseObject({ connection: s.connectionSummary, jobIds: z.array(z.number().int()) }) } },
      },
    },
  },
  'api/syncs/index': {
    cors: true,
    methods: {
      POST: {
        summary: 'Starts syncs of the caller\'s connections of `providers` (incremental, full or date_range)',
        auth: 'user',
        body: syncRequestSchema,
        responses: { 202: { description: 'A job per stream', schema: z.looseObject({ jobs: z.array(s.requestedSync) }) } },
      },
    },
  },
  'api/syncs/[id]': {
    cors: true,
    methods: {
      GET: { summary: 'One of the caller\'s syncs: status, attempts, progress, last error', auth: 'user', responses: ok('The sync job', z.looseObject({ job: s.looseObject })) },
      DELETE: { summary: 'Cancels the sync', auth: 'user', responses: { 202: { description: 'Cancelled (a running one at its next heartbeat)', schema: z.looseObject({ job: s.looseObject }) } } },
    },
  },

  // ---- synced data ------------------------------------------------------------------------------
  'api/emails/index': {
    cors: true,
    methods: { GET: { summary: "The caller's email threads, newest first", auth: 'user', query: emailListQuery, repeatable: ['subjectContains'], responses: ok('A page', s.page(s.thread)) } },
  },
  'api/emails/[id]': {
    cors: true,
    methods: { GET: { summary: 'A thread with its messages, oldest first', auth: 'user', responses: ok('The thread', s.threadWithMessages) } },
  },
  'api/emails/send': {
    cors: true,
    methods: { POST: { summary: "Sends an email through the caller's Gmail, exactly once per Idempotency-Key", auth: 'user', idempotent: true, body: emailSendInput, responses: actionResponses } },
  },
  'api/calendar/events': {
    cors: true,
    methods: {
      GET: { summary: "The caller's calendar events overlapping [from, to)", auth: 'user', query: calendarListQuery, responses: ok('A page', s.page(s.calendarEvent)) },
      POST: {
        summary: "Creates an event from Calendar's own event resource",
        auth: 'user',
        idempotent: true,
        query: calendarWriteQuery,
        body: createEventInput.omit({ calendarId: true, sendUpdates: true }),
        responses: actionResponses,
      },
    },
  },
  'api/calendar/events/[id]': {
    cors: true,
    params: { id: providerId },
    methods: {
      PATCH: {
        summary: "Updates an event with Calendar's own fields",
        auth: 'user',
        idempotent: true,
        query: calendarWriteQuery,
        body: updateEventInput.omit({ calendarId: true, sendUpdates: true, eventId: true }),
        responses: actionResponses,
      },
      DELETE: { summary: 'Cancels an event', auth: 'user', idempotent: true, query: calendarWriteQuery, responses: actionResponses },
    },
  },
  'api/crm/[object]': {
    cors: true,
    params: { object: crmObject },
    methods: {
      GET: {
        summary: "The caller's Salesforce records of one object, most recently modified first",
        description: 'Each object has its own filters besides these: Lead email, company, status; Contact email, accountId; Account industry; Opportunity stageName, accountId, minAmount.',
        auth: 'user',
        query: crmListQueries.Opportunity,
        responses: ok('A page', s.page(s.crmRecord)),
      },
      POST: { summary: "Creates a record from Salesforce's own fields", auth: 'user', idempotent: true, body: crmCreateInput.shape.fields, responses: actionResponses },
    },
  },
  'api/crm/[object]/[id]': {
    cors: true,
    params: { object: crmObject, id: providerId },
    methods: { PATCH: { summary: 'Updates a record with Salesforce fields', auth: 'user', idempotent: true, body: crmUpdateInput.shape.fields, responses: actionResponses } },
  },
  'api/crm/[object]/batch': {
    cors: true,
    params: { object: crmObject },
    methods: {
      POST: { summary: 'Creates up to 200 records in one call', auth: 'user', idempotent: true, body: crmBatchInput.omit({ object: true }), responses: actionResponses },
    },
  },
  'api/interactions': {
    cors: true,
    methods: { GET: { summary: 'The unified timeline (emails, meetings, CRM changes), newest first', auth: 'user', query: interactionListQuery, responses: ok('A page', s.page(s.interaction)) } },
  },
  'api/actions/index': {
    cors: true,
    methods: { GET: { summary: "The caller's actions, newest first", auth: 'user', query: actionListQuery, responses: ok('A page', s.page(s.action)) } },
  },
  'api/actions/[id]': {
    cors: true,
    methods: { GET: { summary: 'One action: status, result or error, attempts', auth: 'user', responses: ok('The action', s.actionAnswer) } },
  },

  // ---- automations ------------------------------------------------------------------------------
  'api/units/index': {
    cors: true,
    methods: {
      GET: { summary: "The caller's units, newest first", auth: 'user', query: unitListQuery, responses: ok('A page', s.page(s.unit)) },
      POST: { summary: 'A new unit from {name, prompt}: compiled, checked, active at once', auth: 'user', body: unitInputSchema, responses: { 201: { description: 'Created', schema: z.looseObject({ unit: s.unit }) } } },
    },
  },
  'api/units/[id]': {
    cors: true,
    methods: {
      GET: { summary: 'A unit', auth: 'user', responses: ok('The unit', z.looseObject({ unit: s.unit })) },
      PATCH: { summary: 'Renames a unit or gives it a new prompt', auth: 'user', body: unitPatchSchema, responses: ok('The unit', z.looseObject({ unit: s.unit })) },
      DELETE: { summary: 'Deletes a unit with its runs', auth: 'user', responses: { 204: { description: 'Deleted' } } },
    },
  },
  'api/units/[id]/status': {
    cors: true,
    methods: { PATCH: { summary: 'Pauses, resumes or disables a unit', auth: 'user', body: unitStatusSchema, responses: ok('The unit', z.looseObject({ unit: s.unit })) } },
  },
  'api/units/[id]/test': {
    cors: true,
    methods: {
      POST: { summary: 'The saved unit tried on the latest synced items, nothing done', auth: 'user', body: testInputSchema, bodyOptional: true, responses: ok('For each item, whether it would run', s.preview) },
    },
  },
  'api/units/preview': {
    cors: true,
    methods: { POST: { summary: 'A prompt tried on the latest synced items, nothing saved', auth: 'user', body: previewInputSchema, responses: ok('For each item, whether it would run', s.preview) } },
  },
  'api/runs/index': {
    cors: true,
    methods: { GET: { summary: "The caller's runs, newest first (ETag; If-None-Match answers 304)", auth: 'user', query: runListQuery, responses: { ...ok('A page', s.page(s.run)), 304: { description: 'Not modified' } } } },
  },
  'api/runs/[id]': {
    cors: true,
    methods: { GET: { summary: 'A run', auth: 'user', responses: ok('The run', z.looseObject({ run: s.run })) } },
  },
  'api/runs/[id]/steps': {
    cors: true,
    methods: { GET: { summary: "A run's steps in order", auth: 'user', responses: ok('The steps', z.looseObject({ data: z.array(s.step) })) } },
  },

  // ---- the caller -------------------------------------------------------------------------------
  'api/api-keys/index': {
    cors: true,
    methods: {
      GET: { summary: "The caller's API keys (never their secrets)", auth: 'firebase', responses: ok('The keys', z.looseObject({ data: z.array(s.apiKey) })) },
      POST: {
        summary: 'Creates an API key; its secret is in this answer only',
        auth: 'firebase',
        body: apiKeyCreateSchema,
        responses: { 201: { description: 'Created', schema: z.looseObject({ key: z.string(), apiKey: s.apiKey }) } },
      },
    },
  },
  'api/api-keys/[id]': {
    cors: true,
    methods: { DELETE: { summary: 'Revokes an API key', auth: 'firebase', responses: ok('Revoked', z.looseObject({ apiKey: s.apiKey, revoked: z.literal(true) })) } },
  },
  'api/audit': {
    cors: true,
    methods: {
      GET: {
        summary: "The caller's audit entries; with ADMIN_API_KEY everyone's (or one user's: userId)",
        auth: 'userOrAdmin',
        query: auditAdminQuery,
        responses: ok('A page', s.page(s.auditEntry)),
      },
    },
  },
  'api/me/index': {
    cors: true,
    methods: {
      DELETE: {
        summary: 'Erases everything switchyard holds for the caller',
        auth: 'firebase',
        responses: ok('Erased', z.looseObject({ erased: z.literal(true), connections: z.number().int(), cancelledJobs: z.number().int(), deleted: z.record(z.string(), z.number()) })),
      },
    },
  },
  'api/me/export': {
    cors: true,
    methods: { GET: { summary: 'Everything switchyard holds for the caller, as one JSON document', auth: 'firebase', responses: ok('The export (streamed)', s.looseObject) } },
  },

  // ---- operators --------------------------------------------------------------------------------
  'api/admin/summary': {
    methods: { GET: { summary: 'Overview: health, queue depth and age, running per user, the last hour, failing syncs', auth: 'admin', responses: ok('The summary', s.adminSummary) } },
  },
  'api/admin/jobs/index': {
    methods: { GET: { summary: "Every user's jobs, newest first", auth: 'admin', query: adminJobListQuery, responses: ok('A page', s.page(s.job)) } },
  },
  'api/admin/jobs/[id]': {
    methods: { GET: { summary: 'A job: payload, progress, attempts, last error', auth: 'admin', responses: ok('The job', z.looseObject({ job: s.job })) } },
  },
  'api/admin/jobs/[id]/retry': {
    methods: { POST: { summary: 'Retries a dead or failed job with fresh attempts (409 otherwise)', auth: 'admin', responses: { 202: { description: 'Queued', schema: z.looseObject({ job: s.job }) } } } },
  },
  'api/admin/jobs/[id]/cancel': {
    methods: { POST: { summary: 'Cancels a queued or running job (409 once finished)', auth: 'admin', responses: { 202: { description: 'Cancelled', schema: z.looseObject({ job: s.job }) } } } },
  },
  'api/admin/jobs/retry': {
    methods: { POST: { summary: 'Retries dead or failed jobs: {ids} or {filter, limit}', auth: 'admin', body: bulkRetrySchema, responses: { 202: { description: 'The jobs retried', schema: s.bulkResult } } } },
  },
  'api/admin/jobs/cancel': {
    methods: { POST: { summary: 'Cancels queued or running jobs: {ids} or {filter, limit}', auth: 'admin', body: bulkCancelSchema, responses: { 202: { description: 'The jobs cancelled', schema: s.bulkResult } } } },
  },
  'api/admin/connections/index': {
    methods: { GET: { summary: "Every user's connections with their streams", auth: 'admin', query: adminConnectionListQuery, responses: ok('A page', s.page(s.adminConnection)) } },
  },
  'api/admin/connections/[id]': {
    methods: { GET: { summary: 'A connection with its streams and the sync running now', auth: 'admin', responses: ok('The connection', z.looseObject({ connection: s.adminConnection })) } },
  },
  'api/admin/connections/[id]/pause': {
    methods: { POST: { summary: 'Pauses a connection', auth: 'admin', responses: ok('Paused', z.looseObject({ connection: s.adminConnection, cancelledJobs: z.number().int() })) } },
  },
  'api/admin/connections/[id]/resume': {
    methods: { POST: { summary: 'Resumes a connection (an incremental sync catches up)', auth: 'admin', responses: ok('Resumed', z.looseObject({ connection: s.adminConnection, jobIds: z.array(z.number().int()) })) } },
  },
  'api/admin/connections/[id]/sync': {
    methods: {
      POST: {
        summary: 'Sync now: an incremental sync of every stream (409 unless active)',
        auth: 'admin',
        responses: { 202: { description: 'The sync jobs', schema: z.looseObject({ connection: s.adminConnection, jobIds: z.array(z.number().int()) }) } },
      },
    },
  },
  'api/admin/webhooks': {
    methods: { GET: { summary: "Nango's deliveries, newest first, with why one was rejected", auth: 'admin', query: adminWebhookListQuery, responses: ok('A page', s.page(s.delivery)) } },
  },
  'api/admin/units/index': {
    methods: { GET: { summary: "Every user's units", auth: 'admin', query: adminUnitListQuery, responses: ok('A page', s.page(s.adminUnit)) } },
  },
  'api/admin/units/[id]/status': {
    methods: { PATCH: { summary: "Pauses, resumes or disables any user's unit", auth: 'admin', body: unitStatusSchema, responses: ok('The unit', z.looseObject({ unit: s.adminUnit })) } },
  },
  'api/admin/runs/index': {
    methods: { GET: { summary: "Every user's runs", auth: 'admin', query: adminRunListQuery, responses: ok('A page', s.page(s.adminRun)) } },
  },
  'api/admin/runs/[id]': {
    methods: {
      GET: {
        summary: 'A run with its unit\'s name and its steps (inputs, outputs, errors)',
        auth: 'admin',
        responses: ok('The run and its steps', z.looseObject({ run: s.adminRun.extend({ unitName: z.string() }), steps: z.array(s.step) })),
      },
    },
  },
};
