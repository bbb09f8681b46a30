import { z } from 'zod';
import { config } from '../config';
import { defineHandler, type JobHandler } from '../jobs';
import { matchUserEvents } from './matcher';
import { advanceRun } from './runs';

/** How soon a run whose step is still acting looks again (its action job settles it meanwhile). */
const RUN_RECHECK_MS = 500;

/** `automation.match`: the job's user's unmatched events against their active units, a batch a job. */
export const matchJobHandler: JobHandler<Record<string, never>> = defineHandler({
  payload: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
  run: async (_payload, job) => {
    const settings = config();
    const outcome = await matchUserEvents(job.db, job.job.userId, {
      batchSize: settings.AUTOMATIONS_MATCH_BATCH,
      maxRunsPerUnitPerHour: settings.AUTOMATIONS_MAX_RUNS_PER_UNIT_PER_HOUR,
    });
    if (outcome.more) return { status: 'deferred', until: new Date(), reason: `matched ${outcome.events} events; more are waiting` };
    return { status: 'succeeded', result: outcome };
  },
});

/** `automation.run`: advances one run through its steps. */
export const runJobHandler: JobHandler<{ runId: number }> = defineHandler({
  payload: z.object({ runId: z.number().int().positive() }),
  run: async ({ runId }, job) => {
    const outcome = await advanceRun(job.db, runId, job.signal);
    if (outcome.status === 'waiting') {
      return { status: 'deferred', until: new Date(Date.now() + RUN_RECHECK_MS), reason: `waiting for action ${outcome.actionId}` };
    }
    return { status: 'succeeded', result: { runStatus: outcome.runStatus } };
  },
});
