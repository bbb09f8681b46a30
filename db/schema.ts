import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const jobStatuses = ['queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled'] as const;
export type JobStatus = (typeof jobStatuses)[number];

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

/**
 * The job queue. A row is claimed by one runner at a time (status 'running' with a lease in
 * locked_by/locked_until); `attempts` counts claims and doubles as the fencing token.
 * Lower `priority` runs first.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    kind: text('kind').notNull(),
    userId: text('user_id').notNull(),
    payload: jsonb('payload').notNull().default({}),
    status: text('status', { enum: jobStatuses }).notNull().default('queued'),
    priority: integer('priority').notNull().default(0),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(8),
    lockedBy: text('locked_by'),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lastError: text('last_error'),
    dedupeKey: text('dedupe_key'),
    progress: jsonb('progress'),
    result: jsonb('result'),
    /** Set when an enqueue with the same dedupe key arrived while this job was running: run it once more. */
    rerunRequestedAt: timestamp('rerun_requested_at', { withTimezone: true }),
    cancelRequestedAt: timestamp('cancel_requested_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    // The claim path: per user, in priority order, over queued rows only.
    index('jobs_claim_idx')
      .on(t.userId, t.priority, t.runAt, t.id)
      .where(sql`${t.status} = 'queued'`),
    // Expired leases.
    index('jobs_lease_idx')
      .on(t.lockedUntil)
      .where(sql`${t.status} = 'running'`),
    // Health: age of the oldest runnable job.
    index('jobs_queued_run_at_idx')
      .on(t.runAt)
      .where(sql`${t.status} = 'queued'`),
    index('jobs_dead_idx')
      .on(t.updatedAt)
      .where(sql`${t.status} = 'dead'`),
    uniqueIndex('jobs_dedupe_key_idx')
      .on(t.dedupeKey)
      .where(sql`${t.dedupeKey} IS NOT NULL AND ${t.status} IN ('queued', 'running')`),
    index('jobs_user_created_idx').on(t.userId, t.createdAt.desc()),
    check('jobs_status_check', sql`${t.status} IN ('queued', 'running', 'succeeded', 'failed', 'dead', 'cancelled')`),
    check('jobs_attempts_check', sql`${t.attempts} >= 0 AND ${t.maxAttempts} >= 1`),
  ],
);

/**
 * One row per user with jobs: how many of the user's jobs hold a lease right now. Claimers lock
 * these rows (SKIP LOCKED), which is what makes the per-user running cap exact under any number
 * of concurrent runners: the count is read from the locked, latest row version.
 */
export const jobUsers = pgTable(
  'job_users',
  {
    userId: text('user_id').primaryKey(),
    running: integer('running').notNull().default(0),
    /** Overrides the configured per-user cap when set. */
    runningCap: integer('running_cap'),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('job_users_running_check', sql`${t.running} >= 0`)],
);

export type Job = typeof jobs.$inferSelect;
export type NewJob = typeof jobs.$inferInsert;

export const providers = ['gmail', 'calendar', 'salesforce'] as const;
export type Provider = (typeof providers)[number];
export const connectionStatuses = ['active', 'paused', 'error', 'deleted'] as const;
export type ConnectionStatus = (typeof connectionStatuses)[number];

/** A user's OAuth connection, held by Nango; switchyard keeps which user it belongs to and its state. */
export const connections = pgTable(
  'connections',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id').notNull(),
    provider: text('provider', { enum: providers }).notNull(),
    nangoConnectionId: text('nango_connection_id').notNull(),
    providerConfigKey: text('provider_config_key').notNull(),
    status: text('status', { enum: connectionStatuses }).notNull().default('active'),
    lastError: text('last_error'),
    lastSyncedAt: timestamp('last_synced_at', { withTimezone: true }),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('connections_nango_idx').on(t.providerConfigKey, t.nangoConnectionId),
    index('connections_user_idx').on(t.userId, t.createdAt.desc()),
    check('connections_provider_check', sql`${t.provider} IN ('gmail', 'calendar', 'salesforce')`),
    check('connections_status_check', sql`${t.status} IN ('active', 'paused', 'error', 'deleted')`),
  ],
);

/**
 * One row per synced stream of a connection (gmail threads, calendar events, a Salesforce object):
 * its cursor, saved in the same transaction as the records it covers, and its last outcome.
 */
export const syncStates = pgTable(
  'sync_states',
  {
    connectionId: bigint('connection_id', { mode: 'number' })
      .notNull()
      .references(() => connections.id, { onDelete: 'cascade' }),
    stream: text('stream').notNull(),
    cursor: jsonb('cursor'),
    lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.connectionId, t.stream] })],
);

export const webhookStatuses = ['processed', 'rejected', 'ignored'] as const;

/** Every Nango webhook delivery that passed its signature check, as received, and what became of it. */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** sha256 of the raw body: a redelivery of the same bytes is recognised and does nothing. */
    deliveryKey: text('delivery_key').notNull(),
    type: text('type').notNull(),
    nangoConnectionId: text('nango_connection_id'),
    providerConfigKey: text('provider_config_key'),
    payload: jsonb('payload').notNull(),
    status: text('status', { enum: webhookStatuses }).notNull(),
    error: text('error'),
    /** The jobs the delivery enqueued (or found queued). */
    jobIds: jsonb('job_ids'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('webhook_events_delivery_idx').on(t.deliveryKey),
    index('webhook_events_status_idx').on(t.status, t.receivedAt.desc()),
    check('webhook_events_status_check', sql`${t.status} IN ('processed', 'rejected', 'ignored')`),
  ],
);

export type Connection = typeof connections.$inferSelect;
export type WebhookEvent = typeof webhookEvents.$inferSelect;
