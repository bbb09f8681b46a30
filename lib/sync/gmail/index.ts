import { PermanentJobError } from '../../jobs/errors';
import type { ProviderSync } from '../context';

/** Placeholder while the gmail sync is written in this session; replaced before it lands. */
export const syncGmail: ProviderSync = async () => {
  throw new PermanentJobError('the gmail sync is not available yet');
};
