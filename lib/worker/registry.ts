import { ACTION_JOB_KIND, actionHandler, findTool } from '../actions';
import { matchJobHandler, runJobHandler } from '../automations/jobs';
import { MATCH_JOB_KIND, RUN_JOB_KIND } from '../automations/matcher';
import type { HandlerRegistry } from '../jobs/runner';
import { syncHandler } from '../sync/engine/handler';
import { providers } from '../sync/providers';

/**
 * Every job kind switchyard runs, by name: each provider's sync (`sync.<provider>`, from its
 * declaration), matching new events against automation units and advancing their runs, and actions.
 * A job whose kind is missing here goes to `dead` with a clear error when claimed.
 */
export const handlers: HandlerRegistry = {
  ...Object.fromEntries(providers.map((provider) => [provider.jobKind, syncHandler(provider.name, provider.sync)])),
  [MATCH_JOB_KIND]: matchJobHandler,
  [RUN_JOB_KIND]: runJobHandler,
  // Every provider's actions (its declaration's `actions`), one kind: the action names its tool.
  [ACTION_JOB_KIND]: actionHandler(findTool),
};
