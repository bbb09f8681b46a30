export { salesforce } from './provider';
export {
  createSalesforceSync,
  payloadWindow,
  SALESFORCE_PAGE_SIZE,
  syncSalesforce,
  type SalesforcePageRecords,
  type SalesforceSyncOptions,
} from './sync';
export type { SalesforceCursor } from './cursor';
