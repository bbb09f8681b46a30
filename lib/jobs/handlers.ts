import type { HandlerRegistry } from './runner';

/**
 * Every job kind switchyard runs, by name. A job whose kind is missing here goes to `dead` with a
 * clear error when claimed.
 */
export const handlers: HandlerRegistry = {};
