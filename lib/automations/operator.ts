import { and, asc, eq } from 'drizzle-orm';
import type { Db, DbOrTx } from '../../db/client';
import { runSteps, runs, units, type RunStatus, type UnitStatus } from '../../db/schema';
import { DomainError } from '../errors';
import { keysetTime, newestFirst, toPage } from '../pagination';
import { runView, stepView, type RunView, type StepView } from './runs';
import { setUnitStatus, unitView, type UnitView } from './units';

/**
 * Every user's units and runs as an operator sees them (the admin API): the frontend's views with
 * their owner, newest first (units_recent_idx, runs_recent_idx; a user's or a unit's through theirs).
 */

export type AdminUnitView = UnitView & { userId: string };
export type AdminRunView = RunView & { userId: string };

export async function listAllUnits(
  db: DbOrTx,
  filter: { status?: UnitStatus; userId?: string },
  page: { limit: number; cursor?: string },
): Promise<{ data: AdminUnitView[]; nextCursor: string | null }> {
  const keyset = newestFirst(units.createdAt, units.id, page);
  const rows = await db
    .select({ unit: units, id: units.id, keysetTime: keysetTime(units.createdAt) })
    .from(units)
    .where(and(filter.status && eq(units.status, filter.status), filter.userId === undefined ? undefined : eq(units.userId, filter.userId), keyset.after))
    .orderBy(...keyset.orderBy)
    .limit(keyset.limit);
  return toPage(rows, page.limit, (row) => ({ ...unitView(row.unit), userId: row.unit.userId }));
}

/** The operator pauses, resumes or disables any user's unit (setUnitStatus, for its owner). */
export async function setAnyUnitStatus(db: Db, id: number, status: UnitStatus): Promise<AdminUnitView> {
  const [owner] = await db.select({ userId: units.userId }).from(units).where(eq(units.id, id));
  if (!owner) throw new DomainError('not_found', `unit ${id} not found`);
  return { ...(await setUnitStatus(db, owner.userId, id, status)), userId: owner.userId };
}

export async function listAllRuns(
  db: DbOrTx,
  filter: { status?: RunStatus; unitId?: number; userId?: string },
  page: { limit: number; cursor?: string },
): Promise<{ data: AdminRunView[]; nextCursor: string | null }> {
  const keyset = newestFirst(runs.createdAt, runs.id, page);
  const rows = await db
    .select({ run: runs, id: runs.id, keysetTime: keysetTime(runs.createdAt) })
    .from(runs)
    .where(
      and(
        filter.status && eq(runs.status, filter.status),
        filter.unitId === undefined ? undefined : eq(runs.unitId, filter.unitId),
        filter.userId === undefined ? undefined : eq(runs.userId, filter.userId),
        keyset.after,
      ),
    )
    .orderBy(...keyset.orderBy)
    .limit(keyset.limit);
  return toPage(rows, page.limit, (row) => ({ ...runView(row.run), userId: row.run.userId }));
}

/** Any user's run with its steps in order (tool, input, output, status, timing, error), and its unit's name. */
export async function getAnyRun(db: DbOrTx, id: number): Promise<{ run: AdminRunView & { unitName: string }; steps: StepView[] }> {
  const [row] = await db
    .select({ run: runs, unitName: units.name })
    .from(runs)
    .innerJoin(units, eq(units.id, runs.unitId))
    .where(eq(runs.id, id));
  if (!row) throw new DomainError('not_found', `run ${id} not found`);
  const steps = await db.select().from(runSteps).where(and(eq(runSteps.runId, id))).orderBy(asc(runSteps.index));
  return { run: { ...runView(row.run), userId: row.run.userId, unitName: row.unitName }, steps: steps.map(stepView) };
}
