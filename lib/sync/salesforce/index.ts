import { PermanentJobError } from '../../jobs/errors';
import type { ProviderSync } from '../context';

/** Placeholder while the salesforce sync is written in this session; replaced before it lands. */
export const syncSalesforce: ProviderSync = async () => {
  throw new PermanentJobError('the salesforce sync is not available yet');
};
