import { and, eq, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client';
import { units as unitsTable, type Unit } from '../../db/schema';
import { enqueueMany } from '../jobs';
import { factsOf } from './facts';
import type { CompiledUnit } from './language/compile';
import { matchFacts, matchesUnit, renderTemplates, type Facts } from './language/evaluate';

/**
 * New events → runs. Syncs write `events`; each page that wrote some enqueues one matcher job per user
 * (deduplicated, re-run if it is running), which reads the user's unmatched events in order, evaluates
 * the compiled conditions of the user's active units, records a run (and its steps) per match and
 * enqueues the runs, then marks the events matched: all in one transaction, so a crash matches the
 * batch again and the unique (unit, event) index keeps every run single.
 */

export const MATCH_JOB_KIND = 'automation.match';
export const RUN_JOB_KIND = 'automation.run';
/** Matching and running units come before syncs and backfills: a person is waiting for them. */
const AUTOMATION_PRIORITY = -5;

export const matchDedupeKey = (userId: string) => `match:${userId}`;
export const runDedupeKey = (runId: number) => `run:${runId}`;

/** Asks for the users' new events to be matched (in the transaction that wrote them). */
export async function enqueueMatching(db: DbOrTx, userIds: Iterable<string>): Promise<void> {
  const users = [...new Set(userIds)];
  await enqueueMany(
    db,
    users.map((userId) => ({
      kind: MATCH_JOB_KIND,
      userId,
      payload: {},
      priority: AUTOMATION_PRIORITY,
      dedupeKey: matchDedupeKey(userId),
      rerunIfRunning: true,
    })),
  );
}

export interface MatchSettings {
  batchSize: number;
  maxRunsPerUnitPerHour: number;
}

export interface MatchOutcome {
  events: number;
  runs: number;
  skipped: number;
  /** The batch was full: more events may be waiting. */
  more: boolean;
}

type EventRow = {
  id: number;
  type: string;
  payload: unknown;
  created_at: Date;
};

interface PlannedRun {
  unit: Unit;
  event: EventRow;
  facts: Facts;
  skipReason: string | null;
}

export async function matchUserEvents(db: Db, userId: string, settings: MatchSettings): Promise<MatchOutcome> {
  return db.transaction(async (tx) => {
    // SKIP LOCKED: two matchers of one user (a re-run racing a retry) take disjoint events.
    const events = (
      await tx.execute<EventRow>(sql`
        SELECT id, type, payload, created_at FROM events
        WHERE user_id = ${userId} AND matched_at IS NULL
        ORDER BY id
        LIMIT ${settings.batchSize}
        FOR UPDATE SKIP LOCKED
      `)
    ).rows as EventRow[];
    if (events.length === 0) return { events: 0, runs: 0, skipped: 0, more: false };

    const units = await activeUnits(tx, userId);
    const planned: PlannedRun[] = [];
    if (units.length > 0) {
      const types = new Set(units.flatMap((unit) => (unit.compiled as CompiledUnit).trigger.eventTypes));
      for (const event of events) {
        if (!types.has(event.type)) continue;
        const facts = factsOf(event.type, event.payload);
        const folded = matchFacts(facts);
        for (const unit of units) {
          // A unit sees what arrived after it was activated, not what was already there.
          if (!unit.activatedAt || event.created_at < unit.activatedAt) continue;
          if (isOldMail(event.type, facts, unit.activatedAt)) continue;
          if (matchesUnit(unit.compiled as CompiledUnit, event.type, folded)) planned.push({ unit, event, facts, skipReason: null });
        }
      }
    }
    await skipOwnEffects(tx, userId, planned);
    await boundRunsPerHour(tx, planned, settings.maxRunsPerUnitPerHour);

    const created = await insertRuns(tx, userId, planned);
    await enqueueMany(
      tx,
      created
        .filter((run) => run.status === 'queued')
        .map((run) => ({ kind: RUN_JOB_KIND, userId, payload: { runId: run.id }, priority: AUTOMATION_PRIORITY, dedupeKey: runDedupeKey(run.id) })),
    );
    await tx.execute(sql`UPDATE events SET matched_at = now() WHERE id = ANY(${sql.param(events.map((e) => e.id))}::bigint[])`);
    return {
      events: events.length,
      runs: created.filter((run) => run.status === 'queued').length,
      skipped: created.filter((run) => run.status === 'skipped').length,
      more: events.length === settings.batchSize,
    };
  });
}

/** Clock skew allowed between Gmail's receipt time and this database's. */
const MAIL_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * A user's active units. Here rather than in ./units.ts: the matcher runs in every sync's transaction
 * (lib/sync/records.ts), and units.ts brings the unit editor's imports (connections, the LLM) with it.
 */
async function activeUnits(db: DbOrTx, userId: string): Promise<Unit[]> {
  return db.select().from(unitsTable).where(and(eq(unitsTable.userId, userId), eq(unitsTable.status, 'active')));
}

/**
 * Mail that Gmail received well before the unit was activated is not new, even when a listing (a full
 * resync after history expired) stores it only now.
 */
function isOldMail(type: string, facts: Facts, activatedAt: Date): boolean {
  if (type !== 'email.received') return false;
  const received = Date.parse(String(facts.date));
  return Number.isFinite(received) && received < activatedAt.getTime() - MAIL_CLOCK_SKEW_MS;
}

/**
 * A unit's own effect must not trigger it again: a mail it sent, synced back as received, is not a
 * match for that unit (other units may still react to it).
 */
async function skipOwnEffects(tx: DbOrTx, userId: string, planned: PlannedRun[]): Promise<void> {
  const mail = planned.filter((p) => p.event.type === 'email.received' && p.facts.messageId);
  if (mail.length === 0) return;
  const sent = (
    await tx.execute<{ unit_id: number; message_id: string }>(sql`
      SELECT r.unit_id, a.result->>'id' AS message_id
      FROM actions a
      JOIN run_steps s ON s.action_id = a.id
      JOIN runs r ON r.id = s.run_id
      WHERE a.user_id = ${userId} AND a.tool = 'email.send'
        AND a.result->>'id' = ANY(${sql.param(mail.map((p) => String(p.facts.messageId)))}::text[])
    `)
  ).rows as { unit_id: number; message_id: string }[];
  const own = new Set(sent.map((row) => `${row.unit_id}:${row.message_id}`));
  for (let i = planned.length - 1; i >= 0; i -= 1) {
    const p = planned[i]!;
    if (own.has(`${p.unit.id}:${String(p.facts.messageId)}`)) planned.splice(i, 1);
  }
}

/** Past the hourly bound, a match still makes a run, `skipped` with the reason, so the user sees why. */
async function boundRunsPerHour(tx: DbOrTx, planned: PlannedRun[], bound: number): Promise<void> {
  if (planned.length === 0) return;
  const unitIds = [...new Set(planned.map((p) => p.unit.id))];
  const counts = (
    await tx.execute<{ unit_id: number; runs: number }>(sql`
      SELECT unit_id, count(*)::int AS runs FROM runs
      WHERE unit_id = ANY(${sql.param(unitIds)}::bigint[]) AND created_at > now() - interval '1 hour' AND status <> 'skipped'
      GROUP BY unit_id
    `)
  ).rows as { unit_id: number; runs: number }[];
  const used = new Map(counts.map((row) => [Number(row.unit_id), row.runs]));
  for (const p of planned) {
    const count = used.get(p.unit.id) ?? 0;
    if (count >= bound) {
      p.skipReason = `the unit ran ${count} times in the last hour; at most ${bound} runs per unit per hour (AUTOMATIONS_MAX_RUNS_PER_UNIT_PER_HOUR)`;
    } else {
      used.set(p.unit.id, count + 1);
    }
  }
}

/** The runs and their steps (inputs filled from the facts), one statement each; a run already made is left. */
async function insertRuns(tx: DbOrTx, userId: string, planned: PlannedRun[]): Promise<{ id: number; status: string }[]> {
  if (planned.length === 0) return [];
  const created = (
    await tx.execute<{ id: number; unit_id: number; event_id: number; status: string }>(sql`
      INSERT INTO runs (user_id, unit_id, event_id, event_type, facts, status, error, finished_at)
      SELECT ${userId}, unit_id, event_id, event_type, facts, status, error, CASE WHEN status = 'skipped' THEN now() END
      FROM unnest(
        ${sql.param(planned.map((p) => p.unit.id))}::bigint[],
        ${sql.param(planned.map((p) => p.event.id))}::bigint[],
        ${sql.param(planned.map((p) => p.event.type))}::text[],
        ${sql.param(planned.map((p) => JSON.stringify(p.facts)))}::jsonb[],
        ${sql.param(planned.map((p) => (p.skipReason ? 'skipped' : 'queued')))}::text[],
        ${sql.param(planned.map((p) => p.skipReason))}::text[]
      ) AS r(unit_id, event_id, event_type, facts, status, error)
      ON CONFLICT (unit_id, event_id) DO NOTHING
      RETURNING id, unit_id, event_id, status
    `)
  ).rows as { id: number; unit_id: number; event_id: number; status: string }[];

  const byKey = new Map(planned.map((p) => [`${p.unit.id}:${p.event.id}`, p]));
  const steps: { runId: number; index: number; tool: string; input: unknown; status: string }[] = [];
  for (const run of created) {
    const p = byKey.get(`${Number(run.unit_id)}:${Number(run.event_id)}`)!;
    const compiled = p.unit.compiled as CompiledUnit;
    compiled.steps.forEach((step, index) => {
      steps.push({
        runId: Number(run.id),
        index,
        tool: step.tool,
        input: renderTemplates(step.args, compiled.trigger.variable, p.facts),
        status: run.status === 'skipped' ? 'skipped' : 'pending',
      });
    });
  }
  if (steps.length > 0) {
    await tx.execute(sql`
      INSERT INTO run_steps (run_id, index, tool, input, status)
      SELECT * FROM unnest(
        ${sql.param(steps.map((s) => s.runId))}::bigint[],
        ${sql.param(steps.map((s) => s.index))}::int[],
        ${sql.param(steps.map((s) => s.tool))}::text[],
        ${sql.param(steps.map((s) => JSON.stringify(s.input)))}::jsonb[],
        ${sql.param(steps.map((s) => s.status))}::text[]
      )
    `);
  }
  return created.map((run) => ({ id: Number(run.id), status: run.status }));
}
