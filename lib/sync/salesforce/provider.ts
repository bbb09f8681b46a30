import { crmObjects } from '../../../db/schema';
import { salesforceActions } from '../../actions/salesforce/records';
import { defineProvider } from '../declaration';
import { syncSalesforce } from './sync';

/** Salesforce: one stream per CRM object, paced in API requests. */
export const salesforce = defineProvider({
  name: 'salesforce',
  streams: crmObjects,
  /** A model naming an object (`SalesforceLead`, `Lead`, `leads`) is that object's stream; any other, every object. */
  streamsForModel(model) {
    const lowered = model.toLowerCase();
    const match = crmObjects.find((object) => lowered.includes(object.toLowerCase()));
    return match ? [match] : crmObjects;
  },
  nangoConfigKeySetting: 'NANGO_PROVIDER_CONFIG_KEY_SALESFORCE',
  budgetPerMinuteSetting: 'SALESFORCE_REQUESTS_PER_MINUTE',
  sync: syncSalesforce,
  actions: () => salesforceActions,
});
