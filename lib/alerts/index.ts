import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import type { Logger } from '../observability/logger';
import { evaluate, type AlertName, type Condition, type Thresholds } from './rules';
import type { Notifier } from './slack';

/**
 * The alerts cron (every 5 minutes): evaluates the rules, keeps one incident per firing key in
 * `alert_incidents`, and posts to Slack once when an incident opens and once when it clears.
 *
 * Crons may fire twice or overlap: an incident is unique while open (partial unique index on key),
 * and each message is claimed with a conditional UPDATE before it is posted, so two evaluations
 * never post the same message. A post that fails releases its claim and is retried next time.
 */
export interface AlertRunSummary {
  firing: string[];
  opened: string[];
  resolved: string[];
  notified: number;
  notifyFailures: number;
  failedRules: { alert: AlertName; error: string }[];
  slack: string | null;
}

export interface AlertOptions {
  thresholds: Thresholds;
  notifier: Notifier | null;
  /** Names the deployment in messages (production, preview, ...). */
  environment: string;
  logger?: Logger;
}

interface IncidentRow {
  id: number;
  key: string;
  alert: string;
  summary: string;
  opened_at: string;
  resolved_at: string | null;
}

export async function runAlerts(db: Db, options: AlertOptions): Promise<AlertRunSummary> {
  const evaluation = await evaluate(db, options.thresholds);
  const opened = await openIncidents(db, evaluation.firing);
  const resolved = await resolveIncidents(db, evaluation.firing, evaluation.checked);
  const summary: AlertRunSummary = {
    firing: evaluation.firing.map((c) => c.key),
    opened: opened.map((row) => row.key),
    resolved: resolved.map((row) => row.key),
    notified: 0,
    notifyFailures: 0,
    failedRules: evaluation.failed,
    slack: options.notifier?.target ?? null,
  };
  for (const failure of evaluation.failed) options.logger?.error({ alert: failure.alert, reason: failure.error }, 'alert rule failed');
  if (!options.notifier) {
    if (opened.length > 0 || resolved.length > 0) options.logger?.warn({ opened: summary.opened, resolved: summary.resolved }, 'alerts changed; Slack is not configured');
    return summary;
  }
  await sendPending(db, options.notifier, options.environment, summary, options.logger);
  return summary;
}

/** Opens an incident per firing key that has none open; refreshes the value of those that do. */
async function openIncidents(db: Db, firing: Condition[]): Promise<IncidentRow[]> {
  if (firing.length === 0) return [];
  const result = await db.execute(sql`
    INSERT INTO alert_incidents AS i (key, alert, summary, value, threshold)
    SELECT * FROM unnest(
      ${sql.param(firing.map((c) => c.key))}::text[],
      ${sql.param(firing.map((c) => c.alert))}::text[],
      ${sql.param(firing.map((c) => c.summary))}::text[],
      ${sql.param(firing.map((c) => c.value))}::float8[],
      ${sql.param(firing.map((c) => c.threshold))}::float8[]
    )
    ON CONFLICT (key) WHERE resolved_at IS NULL DO UPDATE
      SET last_seen_at = now(), value = excluded.value, summary = excluded.summary
    RETURNING id, key, alert, summary, opened_at, resolved_at, (xmax = 0) AS inserted
  `);
  return (result.rows as unknown as (IncidentRow & { inserted: boolean })[]).filter((row) => row.inserted);
}

/** Closes the open incidents of rules that ran and no longer fire. */
async function resolveIncidents(db: Db, firing: Condition[], checked: AlertName[]): Promise<IncidentRow[]> {
  if (checked.length === 0) return [];
  const result = await db.execute(sql`
    UPDATE alert_incidents SET resolved_at = now()
    WHERE resolved_at IS NULL
      AND alert = ANY(${sql.param(checked)}::text[])
      AND NOT (key = ANY(${sql.param(firing.map((c) => c.key))}::text[]))
    RETURNING id, key, alert, summary, opened_at, resolved_at
  `);
  return result.rows as unknown as IncidentRow[];
}

type Message = { id: number; kind: 'open' | 'resolve'; text: string };

/**
 * Posts every message not yet sent: openings, and recoveries of incidents whose opening was sent
 * (an incident that opened and cleared while Slack was down ends quietly). Each is claimed first.
 */
async function sendPending(db: Db, notifier: Notifier, environment: string, summary: AlertRunSummary, logger?: Logger): Promise<void> {
  const claimed = await db.execute(sql`
    WITH quiet AS (
      UPDATE alert_incidents SET resolve_notified_at = now()
      WHERE resolved_at IS NOT NULL AND open_notified_at IS NULL AND resolve_notified_at IS NULL
    ),
    opening AS (
      UPDATE alert_incidents SET open_notified_at = now()
      WHERE resolved_at IS NULL AND open_notified_at IS NULL
      RETURNING id, 'open' AS kind, key, alert, summary, opened_at, resolved_at
    ),
    recovery AS (
      UPDATE alert_incidents SET resolve_notified_at = now()
      WHERE resolved_at IS NOT NULL AND open_notified_at IS NOT NULL AND resolve_notified_at IS NULL
      RETURNING id, 'resolve' AS kind, key, alert, summary, opened_at, resolved_at
    )
    SELECT * FROM opening UNION ALL SELECT * FROM recovery ORDER BY id
  `);
  const messages: Message[] = (claimed.rows as unknown as (IncidentRow & { kind: 'open' | 'resolve' })[]).map((row) => ({
    id: row.id,
    kind: row.kind,
    text: messageOf(row, environment),
  }));
  for (const message of messages) {
    try {
      await notifier.post(message.text);
      summary.notified += 1;
    } catch (error) {
      summary.notifyFailures += 1;
      logger?.error({ err: error, incident: message.id }, 'could not post the alert to Slack; it is retried next run');
      await db.execute(
        message.kind === 'open'
          ? sql`UPDATE alert_incidents SET open_notified_at = NULL WHERE id = ${message.id}`
          : sql`UPDATE alert_incidents SET resolve_notified_at = NULL WHERE id = ${message.id}`,
      );
    }
  }
}

function messageOf(row: IncidentRow & { kind: 'open' | 'resolve' }, environment: string): string {
  if (row.kind === 'open') return `:rotating_light: [switchyard ${environment}] ${row.alert}: ${row.summary}`;
  const minutes = Math.max(1, Math.round((toDate(row.resolved_at!).getTime() - toDate(row.opened_at).getTime()) / 60_000));
  return `:white_check_mark: [switchyard ${environment}] recovered after ${minutes} min: ${row.alert} (${row.key}). Was: ${row.summary}`;
}

function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(String(value).replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
}

/** Retention: resolved incidents older than `days`. */
export async function pruneIncidents(db: Db, days: number): Promise<number> {
  const result = await db.execute(sql`
    DELETE FROM alert_incidents WHERE resolved_at < now() - make_interval(days => ${days}) AND resolve_notified_at IS NOT NULL
  `);
  return result.rowCount ?? 0;
}
