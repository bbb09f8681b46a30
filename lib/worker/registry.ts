import { syncCalendar } from '../sync/calendar';
import { syncGmail } from '../sync/gmail';
import { syncHandler } from '../sync/handlers';
import { syncSalesforce } from '../sync/salesforce';
import type { HandlerRegistry } from '../jobs/runner';

/**
 * Every job kind switchyard runs, by name. A job whose kind is missing here goes to `dead` with a
 * clear error when claimed.
 */
export const handlers: HandlerRegistry = {
  'sync.gmail': syncHandler('gmail', syncGmail),
  'sync.calendar': syncHandler('calendar', syncCalendar),
  'sync.salesforce': syncHandler('salesforce', syncSalesforce),
};
