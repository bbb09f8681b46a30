import { PermanentJobError } from '../../jobs/errors';
import type { ProviderSync } from '../context';

/** Placeholder while the calendar sync is written in this session; replaced before it lands. */
export const syncCalendar: ProviderSync = async () => {
  throw new PermanentJobError('the calendar sync is not available yet');
};
