export { gmail } from './provider';
export { createGmailSync, dateRangeQuery, syncGmail, type GmailPageRecords, type GmailSyncOptions } from './sync';
export type { GmailCursor } from './cursor';
