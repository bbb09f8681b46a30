import { sql, type SQL } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
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
    // A user's jobs newest first (the admin list, the export), and erasure by user. Not over running
    // jobs, so that a claim writes no entry here (one in the middle of the index, at the user's place);
    // the few running jobs are read through jobs_lease_idx (lib/jobs/sql/by-user.ts).
    index('jobs_user_not_running_idx')
      .on(t.userId, t.id)
      .where(sql`${t.status} <> 'running'`),
    // The admin list of the rare outcomes: a backward scan of the primary key would walk past every success.
    index('jobs_unsettled_idx')
      .on(t.status, t.id)
      .where(sql`${t.status} IN ('failed', 'dead', 'cancelled')`),
    // Throughput over the last hour, and the retention of finished jobs.
    index('jobs_finished_idx')
      .on(t.finishedAt)
      .where(sql`${t.finishedAt} IS NOT NULL`),
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

export const connectionStatuses = ['active', 'paused', 'error', 'deleted'] as const;
export type ConnectionStatus = (typeof connectionStatuses)[number];

/** A user's OAuth connection, held by Nango; switchyard keeps which user it belongs to and its state. */
export const connections = pgTable(
  'connections',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id').notNull(),
    /**
     * A provider's name (lib/sync/providers.ts). Not an enum nor a CHECK: the providers are declared in
     * lib/sync and validated there on every write, so adding one needs no migration.
     */
    provider: text('provider').notNull(),
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
    // The admin list of every user's connections, newest first.
    index('connections_recent_idx').on(t.createdAt.desc(), t.id.desc()),
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
    /** When a sync last moved the cursor: how far behind the stream is (the admin's cursor age). */
    cursorSavedAt: timestamp('cursor_saved_at', { withTimezone: true }),
    lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.stream] }),
    // Failing streams for the operators' summary: a success clears last_error, so they are few.
    index('sync_states_failing_idx')
      .on(t.lastErrorAt)
      .where(sql`${t.lastError} IS NOT NULL`),
  ],
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
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('webhook_events_delivery_idx').on(t.deliveryKey),
    index('webhook_events_status_idx').on(t.status, t.receivedAt.desc()),
    // Retention deletes by age.
    index('webhook_events_received_idx').on(t.receivedAt),
    check('webhook_events_status_check', sql`${t.status} IN ('processed', 'rejected', 'ignored')`),
  ],
);

export type Connection = typeof connections.$inferSelect;
export type WebhookEvent = typeof webhookEvents.$inferSelect;

const connectionRef = () =>
  bigint('connection_id', { mode: 'number' })
    .notNull()
    .references(() => connections.id, { onDelete: 'cascade' });

/** A Gmail thread: what the email list shows. Classified from its messages. */
export const emailThreads = pgTable(
  'email_threads',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    connectionId: connectionRef(),
    userId: text('user_id').notNull(),
    providerThreadId: text('provider_thread_id').notNull(),
    subject: text('subject').notNull().default(''),
    snippet: text('snippet').notNull().default(''),
    category: text('category').notNull().default('other'),
    categoryReasons: jsonb('category_reasons').notNull().default([]),
    /** Lower-cased sender addresses of the thread's messages, for the sender filter. */
    senders: text('senders').array().notNull().default(sql`'{}'::text[]`),
    participants: jsonb('participants').notNull().default([]),
    labelIds: text('label_ids').array().notNull().default(sql`'{}'::text[]`),
    messageCount: integer('message_count').notNull().default(0),
    lastMessageAt: timestamp('last_message_at', { withTimezone: true }).notNull(),
    historyId: text('history_id'),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('email_threads_provider_idx').on(t.connectionId, t.providerThreadId),
    index('email_threads_user_recent_idx').on(t.userId, t.lastMessageAt.desc(), t.id.desc()),
    index('email_threads_user_category_idx').on(t.userId, t.category, t.lastMessageAt.desc(), t.id.desc()),
    // The sender filter under the user (btree_gin): a sender common across users costs this user nothing.
    index('email_threads_user_senders_idx').using('gin', t.userId, t.senders),
    // subjectContains (ILIKE '%..%'): trigrams (pg_trgm) under the user (btree_gin), so a term common in
    // other users' mail costs this user nothing.
    index('email_threads_subject_idx').using('gin', t.userId, t.subject.op('gin_trgm_ops')),
  ],
);

export const emailMessages = pgTable(
  'email_messages',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    threadId: bigint('thread_id', { mode: 'number' })
      .notNull()
      .references(() => emailThreads.id, { onDelete: 'cascade' }),
    connectionId: connectionRef(),
    userId: text('user_id').notNull(),
    providerMessageId: text('provider_message_id').notNull(),
    fromAddress: text('from_address'),
    fromName: text('from_name'),
    to: jsonb('to').notNull().default([]),
    cc: jsonb('cc').notNull().default([]),
    subject: text('subject').notNull().default(''),
    snippet: text('snippet').notNull().default(''),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    internalDate: timestamp('internal_date', { withTimezone: true }).notNull(),
    bodyText: text('body_text').notNull().default(''),
    cleanBody: text('clean_body').notNull().default(''),
    quotedText: text('quoted_text'),
    signature: text('signature'),
    labelIds: text('label_ids').array().notNull().default(sql`'{}'::text[]`),
    attachments: jsonb('attachments').notNull().default([]),
    hasCalendarInvite: boolean('has_calendar_invite').notNull().default(false),
    category: text('category').notNull().default('other'),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('email_messages_provider_idx').on(t.connectionId, t.providerMessageId),
    index('email_messages_thread_idx').on(t.threadId, t.internalDate),
  ],
);

export const calendarEvents = pgTable(
  'calendar_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    connectionId: connectionRef(),
    userId: text('user_id').notNull(),
    providerEventId: text('provider_event_id').notNull(),
    calendarId: text('calendar_id').notNull().default('primary'),
    status: text('status').notNull().default('confirmed'),
    summary: text('summary').notNull().default(''),
    description: text('description'),
    location: text('location'),
    allDay: boolean('all_day').notNull().default(false),
    /** Timed events: the instants. All-day events: midnight UTC of startDate/endDate, for range queries. */
    startAt: timestamp('start_at', { withTimezone: true }),
    endAt: timestamp('end_at', { withTimezone: true }),
    startDate: date('start_date'),
    endDate: date('end_date'),
    timeZone: text('time_zone'),
    organizer: jsonb('organizer'),
    attendees: jsonb('attendees').notNull().default([]),
    recurringEventId: text('recurring_event_id'),
    htmlLink: text('html_link'),
    providerUpdatedAt: timestamp('provider_updated_at', { withTimezone: true }),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('calendar_events_provider_idx').on(t.connectionId, t.providerEventId),
    index('calendar_events_user_start_idx').on(t.userId, t.startAt, t.id),
    // The events still on at a point in time, for a window's start (lib/read/calendar.ts); btree_gist.
    index('calendar_events_user_span_idx').using('gist', t.userId, span(t.startAt, t.endAt)),
    // q over summary, description and location (pg_trgm, btree_gin): one index, a bitmap per column.
    index('calendar_events_text_idx').using(
      'gin',
      t.userId,
      t.summary.op('gin_trgm_ops'),
      t.description.op('gin_trgm_ops'),
      t.location.op('gin_trgm_ops'),
    ),
  ],
);

/**
 * An event's [start_at, end_at) as a range, the expression calendar_events_user_span_idx indexes. An end
 * before the start (a provider's bad data) is an empty range rather than an error on insert.
 */
function span(start: AnyPgColumn, end: AnyPgColumn): SQL {
  return sql`tstzrange(${start}, greatest(${start}, ${end}))`;
}
export const eventSpan = span(calendarEvents.startAt, calendarEvents.endAt);

export const crmObjects = ['Lead', 'Contact', 'Account', 'Opportunity'] as const;
export type CrmObject = (typeof crmObjects)[number];

/** Salesforce records of the four synced objects; the main fields typed, all synced fields in `fields`. */
export const crmRecords = pgTable(
  'crm_records',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    connectionId: connectionRef(),
    userId: text('user_id').notNull(),
    object: text('object', { enum: crmObjects }).notNull(),
    providerId: text('provider_id').notNull(),
    name: text('name'),
    email: text('email'),
    phone: text('phone'),
    company: text('company'),
    status: text('status'),
    accountProviderId: text('account_provider_id'),
    industry: text('industry'),
    website: text('website'),
    stageName: text('stage_name'),
    amount: numeric('amount', { precision: 18, scale: 2 }),
    closeDate: date('close_date'),
    fields: jsonb('fields').notNull().default({}),
    systemModstamp: timestamp('system_modstamp', { withTimezone: true }),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('crm_records_provider_idx').on(t.connectionId, t.object, t.providerId),
    index('crm_records_user_object_idx').on(t.userId, t.object, t.systemModstamp.desc(), t.id.desc()),
    // The list's filters that a walk in modstamp order would search far for (a rare status, an email, an
    // account, a substring of name or company): one GIN (pg_trgm, btree_gin) that ANDs whichever are given.
    index('crm_records_search_idx').using(
      'gin',
      t.userId,
      t.name.op('gin_trgm_ops'),
      t.company.op('gin_trgm_ops'),
      sql`lower(${t.email})`,
      sql`lower(${t.status})`,
      t.accountProviderId,
      sql`lower(${t.industry})`,
      sql`lower(${t.stageName})`,
    ),
    check('crm_records_object_check', sql`${t.object} IN ('Lead', 'Contact', 'Account', 'Opportunity')`),
  ],
);

/**
 * What changed, for automations to consume: email.received, calendar.event.created|updated|cancelled,
 * crm.<object>.created|updated|deleted. `dedupe_key` makes a replayed sync page emit nothing twice.
 */
export const events = pgTable(
  'events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id').notNull(),
    connectionId: bigint('connection_id', { mode: 'number' }).references(() => connections.id, { onDelete: 'cascade' }),
    type: text('type').notNull(),
    providerId: text('provider_id').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    payload: jsonb('payload').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** When lib/automations matched the event against the user's units (null: not yet). */
    matchedAt: timestamp('matched_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('events_dedupe_idx').on(t.dedupeKey),
    index('events_user_idx').on(t.userId, t.id),
    // The matcher's read: a user's unmatched events in order; matched ones leave the index.
    index('events_unmatched_idx').on(t.userId, t.id).where(sql`${t.matchedAt} IS NULL`),
    // Retention deletes by age (EVENTS_RETENTION_DAYS).
    index('events_created_idx').on(t.createdAt),
  ],
);

/** The unified timeline: one row per email message, calendar event or CRM record. */
export const interactions = pgTable(
  'interactions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id').notNull(),
    connectionId: bigint('connection_id', { mode: 'number' })
      .notNull()
      .references(() => connections.id, { onDelete: 'cascade' }),
    source: text('source', { enum: ['email', 'calendar', 'crm'] }).notNull(),
    sourceId: text('source_id').notNull(),
    kind: text('kind').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull(),
    title: text('title').notNull().default(''),
    summary: text('summary'),
    participants: jsonb('participants').notNull().default([]),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('interactions_source_idx').on(t.userId, t.source, t.sourceId),
    index('interactions_user_recent_idx').on(t.userId, t.occurredAt.desc(), t.id.desc()),
    // The source filter in order: a user with little CRM would otherwise walk the whole timeline.
    index('interactions_user_source_idx').on(t.userId, t.source, t.occurredAt.desc(), t.id.desc()),
  ],
);

/**
 * Provider quota spent per user and minute (Gmail quota units, Calendar and Salesforce requests),
 * shared by every function instance that calls a provider for the user.
 */
export const providerUsage = pgTable(
  'provider_usage',
  {
    userId: text('user_id').notNull(),
    provider: text('provider').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    units: integer('units').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.userId, t.provider, t.windowStart] })],
);

/** The Postgres rate limiter's counters: requests per key and fixed one-minute window. */
export const rateLimitWindows = pgTable(
  'rate_limit_windows',
  {
    key: text('key').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    count: integer('count').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.key, t.windowStart] })],
);

export const actionStatuses = ['queued', 'running', 'succeeded', 'failed'] as const;
export type ActionStatus = (typeof actionStatuses)[number];

/**
 * An action switchyard takes on a user's behalf (send an email, create an event, write a CRM record):
 * what was asked under which Idempotency-Key, how it went, and the provider's own ids that make its
 * side effect happen exactly once however often its job runs (`provider_state`: the Gmail draft, the
 * client-chosen Calendar event id, the Salesforce record ids, each recorded as soon as it exists).
 */
export const actions = pgTable(
  'actions',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id').notNull(),
    connectionId: connectionRef(),
    /**
     * A provider's name (lib/sync/providers.ts). Not an enum nor a CHECK: the providers are declared in
     * lib/sync and validated there on every write, so adding one needs no migration.
     */
    provider: text('provider').notNull(),
    /** The tool: email.send, calendar.create_event, crm.create, ... */
    tool: text('tool').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** sha256 of the canonical request: the same key with another request is refused. */
    requestHash: text('request_hash').notNull(),
    status: text('status', { enum: actionStatuses }).notNull().default('queued'),
    input: jsonb('input').notNull(),
    result: jsonb('result'),
    /** { status, code, message, details?, retryAfterSeconds? }: the HTTP answer a failure replays as. */
    error: jsonb('error'),
    providerState: jsonb('provider_state').notNull().default({}),
    jobId: bigint('job_id', { mode: 'number' }),
    attempts: integer('attempts').notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    uniqueIndex('actions_idempotency_idx').on(t.userId, t.idempotencyKey),
    index('actions_user_recent_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    // Retention deletes by age.
    index('actions_created_idx').on(t.createdAt),
    check('actions_status_check', sql`${t.status} IN ('queued', 'running', 'succeeded', 'failed')`),
  ],
);

export type Action = typeof actions.$inferSelect;

export const unitStatuses = ['active', 'paused', 'disabled'] as const;
export type UnitStatus = (typeof unitStatuses)[number];

/** Automations: a user's prompt, compiled once (lib/automations/language); matching reads `compiled`. */
export const units = pgTable(
  'units',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    prompt: text('prompt').notNull(),
    /** The compiled unit (CompiledUnit): trigger, CEL conditions, steps, providers. */
    compiled: jsonb('compiled').notNull(),
    status: text('status', { enum: unitStatuses }).notNull().default('active'),
    /** A unit sees events that arrived after it was (re)activated, never older ones. */
    activatedAt: timestamp('activated_at', { withTimezone: true }),
    /** Why switchyard disabled it (a provider disconnected, ...), when it did. */
    statusReason: text('status_reason'),
    ...timestamps,
  },
  (t) => [
    index('units_user_recent_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    // The admin list of every user's units.
    index('units_recent_idx').on(t.createdAt.desc(), t.id.desc()),
    // The matcher reads a user's active units for every batch of events.
    index('units_user_active_idx').on(t.userId).where(sql`${t.status} = 'active'`),
    check('units_status_check', sql`${t.status} IN ('active', 'paused', 'disabled')`),
  ],
);

export type Unit = typeof units.$inferSelect;

export const runStatuses = ['queued', 'running', 'completed', 'failed', 'skipped'] as const;
export type RunStatus = (typeof runStatuses)[number];

/** One unit matched by one event: the record a person reads (with its steps). */
export const runs = pgTable(
  'runs',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id').notNull(),
    unitId: bigint('unit_id', { mode: 'number' })
      .notNull()
      .references(() => units.id, { onDelete: 'cascade' }),
    /** The event that matched; kept when retention prunes the event (the facts are copied here). */
    eventId: bigint('event_id', { mode: 'number' }),
    eventType: text('event_type').notNull(),
    /** The trigger's facts as matched: what the steps' templates were filled from. */
    facts: jsonb('facts').notNull(),
    status: text('status', { enum: runStatuses }).notNull().default('queued'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    ...timestamps,
  },
  (t) => [
    // An event runs a unit once, however often the matcher sees it.
    uniqueIndex('runs_unit_event_idx').on(t.unitId, t.eventId),
    index('runs_user_recent_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    // The status filter in order: queued and running runs are rare among a user's history.
    index('runs_user_status_idx').on(t.userId, t.status, t.createdAt.desc(), t.id.desc()),
    // The admin list of every user's runs.
    index('runs_recent_idx').on(t.createdAt.desc(), t.id.desc()),
    index('runs_unit_recent_idx').on(t.unitId, t.createdAt.desc(), t.id.desc()),
    // The runs list's ETag: the newest change of a user's runs, without reading them.
    index('runs_user_updated_idx').on(t.userId, t.updatedAt.desc()),
    // Retention of finished runs, and the automation failure rate over the last minutes.
    index('runs_finished_idx')
      .on(t.finishedAt)
      .where(sql`${t.status} IN ('completed', 'failed', 'skipped')`),
    check('runs_status_check', sql`${t.status} IN ('queued', 'running', 'completed', 'failed', 'skipped')`),
  ],
);

export type Run = typeof runs.$inferSelect;

export const runStepStatuses = ['pending', 'running', 'succeeded', 'failed', 'skipped'] as const;
export type RunStepStatus = (typeof runStepStatuses)[number];

/** A run's steps in order: the tool, its input (templates filled), output, status, timing and error. */
export const runSteps = pgTable(
  'run_steps',
  {
    runId: bigint('run_id', { mode: 'number' })
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    index: integer('index').notNull(),
    tool: text('tool').notNull(),
    input: jsonb('input'),
    output: jsonb('output'),
    status: text('status', { enum: runStepStatuses }).notNull().default('pending'),
    /** The action that performs the step (idempotency key run:<run>:<index>). */
    actionId: bigint('action_id', { mode: 'number' }),
    error: jsonb('error'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.index] }),
    check('run_steps_status_check', sql`${t.status} IN ('pending', 'running', 'succeeded', 'failed', 'skipped')`),
  ],
);

export type RunStep = typeof runSteps.$inferSelect;

export const auditActorTypes = ['user', 'api_key', 'admin', 'system'] as const;

/**
 * Sensitive operations (lib/audit): connections created or deleted, units created, changed or
 * deleted, API keys created or revoked, admin retries and cancels, exports, erasures. Who (actor),
 * on whose data (user_id), from where (request id, IP), when. Append-only.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    occurredAt: timestamp('occurred_at', { withTimezone: true }).notNull().defaultNow(),
    /** Whose data the operation touched; null when it is no one's. */
    userId: text('user_id'),
    actorType: text('actor_type', { enum: auditActorTypes }).notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    requestId: text('request_id'),
    ip: text('ip'),
    /** Identifiers and counts, never contents. */
    details: jsonb('details').notNull().default({}),
  },
  (t) => [
    index('audit_log_user_idx').on(t.userId, t.occurredAt.desc(), t.id.desc()),
    index('audit_log_recent_idx').on(t.occurredAt.desc(), t.id.desc()),
    check('audit_log_actor_type_check', sql`${t.actorType} IN ('user', 'api_key', 'admin', 'system')`),
  ],
);

/**
 * Alert incidents (lib/alerts): one open row per firing condition (`key`), closed when it clears.
 * Each message to Slack is claimed (`*_notified_at`) before it is posted, so it is posted once.
 */
export const alertIncidents = pgTable(
  'alert_incidents',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    key: text('key').notNull(),
    alert: text('alert').notNull(),
    summary: text('summary').notNull(),
    value: doublePrecision('value'),
    threshold: doublePrecision('threshold'),
    openedAt: timestamp('opened_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    openNotifiedAt: timestamp('open_notified_at', { withTimezone: true }),
    resolveNotifiedAt: timestamp('resolve_notified_at', { withTimezone: true }),
  },
  (t) => [
    // One open incident per condition, however many evaluations overlap.
    uniqueIndex('alert_incidents_open_key_idx').on(t.key).where(sql`${t.resolvedAt} IS NULL`),
    index('alert_incidents_resolved_idx').on(t.resolvedAt),
  ],
);

/**
 * Per-minute counters every function instance adds to (lib/observability/windows.ts): provider calls
 * and errors, job outcomes, webhook latency buckets, breakers seen open, pool waits. What the alert
 * rules read, since one instance's in-memory metrics see only that instance.
 */
export const opsMetricWindows = pgTable(
  'ops_metric_windows',
  {
    metric: text('metric').notNull(),
    label: text('label').notNull(),
    windowStart: timestamp('window_start', { withTimezone: true }).notNull(),
    count: bigint('count', { mode: 'number' }).notNull().default(0),
    max: doublePrecision('max').notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.metric, t.label, t.windowStart] }),
    // The rules read the last minutes; retention deletes by age.
    index('ops_metric_windows_start_idx').on(t.windowStart),
  ],
);

/**
 * API keys (lib/http/api-keys.ts): a user's second way in, for scripts and the frontend's server. Only
 * the key's SHA-256 is kept; `prefix` (its first characters) tells keys apart in a list.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: text('user_id').notNull(),
    /** The organisation the creating token named (RATE_LIMIT_ORG_CLAIM): the key shares its rate limit. */
    orgId: text('org_id'),
    name: text('name').notNull(),
    prefix: text('prefix').notNull(),
    keyHash: text('key_hash').notNull(),
    scopes: text('scopes').array().notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // Every authenticated request looks its key up by hash.
    uniqueIndex('api_keys_hash_idx').on(t.keyHash),
    index('api_keys_user_idx').on(t.userId, t.createdAt.desc()),
    check('api_keys_scopes_check', sql`cardinality(${t.scopes}) > 0 AND ${t.scopes} <@ ARRAY['read', 'write']::text[]`),
  ],
);
