import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client';
import { pruneIncidents } from '../alerts';
import { pruneWindows } from '../observability/windows';

/**
 * Retention (seed 001/003), run by the daily maintenance cron: raw provider events and finished
 * automation runs older than their configured days, the alert windows after two days, resolved
 * incidents after ninety. Raw events and runs are deleted in batches of `batchSize` (each its own
 * statement, each on an index) so a first run over a large backlog never holds one huge
 * transaction, and stops when `deadline` passes: what is left goes at the next run.
 */
export interface RetentionResult {
  events: number;
  runs: number;
  metricWindows: number;
  incidents: number;
  /** True when the deadline stopped it with rows left to delete. */
  incomplete: boolean;
}

export interface RetentionOptions {
  eventsRetentionDays: number;
  runsRetentionDays: number;
  batchSize?: number;
  /** Epoch ms. */
  deadline?: number;
}

const METRIC_WINDOW_DAYS = 2;
const INCIDENT_DAYS = 90;

export async function pruneRetention(db: Db, options: RetentionOptions): Promise<RetentionResult> {
  const batchSize = options.batchSize ?? 5_000;
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const inBatches = async (statement: () => ReturnType<typeof sql>) => {
    let total = 0;
    while (true) {
      const deleted = (await db.execute(statement())).rowCount ?? 0;
      total += deleted;
      if (deleted < batchSize) return { total, complete: true };
      if (Date.now() >= deadline) return { total, complete: false };
    }
  };
  const events = await inBatches(
    () => sql`
      DELETE FROM events WHERE id IN (
        SELECT id FROM events WHERE created_at < now() - make_interval(days => ${options.eventsRetentionDays})
        ORDER BY created_at LIMIT ${batchSize})`,
  );
  const runs = await inBatches(
    () => sql`
      DELETE FROM runs WHERE id IN (
        SELECT id FROM runs WHERE status IN ('completed', 'failed', 'skipped')
          AND finished_at < now() - make_interval(days => ${options.runsRetentionDays})
        ORDER BY finished_at LIMIT ${batchSize})`,
  );
  return {
    events: events.total,
    runs: runs.total,
    metricWindows: await pruneWindows(db, METRIC_WINDOW_DAYS),
    incidents: await pruneIncidents(db, INCIDENT_DAYS),
    incomplete: !events.complete || !runs.complete,
  };
}
