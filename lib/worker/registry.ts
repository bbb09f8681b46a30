import type { HandlerRegistry } from '../jobs/runner';
import { syncHandler } from '../sync/handlers';
import { providers } from '../sync/providers';

/**
 * Every job kind switchyard runs, by name: each provider's sync (`sync.<provider>`, from its
 * declaration). A job whose kind is missing here goes to `dead` with a clear error when claimed.
 */
export const handlers: HandlerRegistry = Object.fromEntries(
  providers.map((provider) => [provider.jobKind, syncHandler(provider.name, provider.sync)]),
);
