import { crmObjects, type CrmObject } from '../../../db/schema';
import { SyncError } from '../engine/errors';

/**
 * What is synced of each object: these fields are selected, the main ones land in crm_records' typed
 * columns, and all of them (as Salesforce sent them) in `fields`. The system fields come with every
 * object: Id and SystemModstamp are the keyset, IsDeleted tells a deletion (the query runs on queryAll,
 * which returns the recycle bin too), CreatedDate and LastModifiedDate are kept for automations.
 */
export const OBJECT_FIELDS: Record<CrmObject, readonly string[]> = {
  Lead: ['Name', 'FirstName', 'LastName', 'Title', 'Email', 'Phone', 'Company', 'Status', 'LeadSource', 'IsConverted', 'OwnerId'],
  Contact: ['Name', 'FirstName', 'LastName', 'Title', 'Email', 'Phone', 'AccountId', 'OwnerId'],
  Account: ['Name', 'Type', 'Industry', 'Website', 'Phone', 'OwnerId'],
  Opportunity: ['Name', 'StageName', 'Amount', 'CloseDate', 'Probability', 'IsClosed', 'IsWon', 'AccountId', 'OwnerId'],
};

export const SYSTEM_FIELDS = ['Id', 'IsDeleted', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp'] as const;

export function selectedFields(object: CrmObject): string[] {
  return [...SYSTEM_FIELDS, ...OBJECT_FIELDS[object]];
}

export function crmObjectOf(stream: string): CrmObject {
  const object = crmObjects.find((candidate) => candidate === stream);
  if (!object) throw new SyncError(`unknown Salesforce stream "${stream}"; expected one of ${crmObjects.join(', ')}`);
  return object;
}

/** A record as crm_records stores it (ISO instants; amount as Salesforce's JSON number). */
export interface CrmRow {
  providerId: string;
  deleted: boolean;
  /** SystemModstamp as an ISO instant: the keyset's first half, and the version of events. */
  systemModstamp: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  company: string | null;
  status: string | null;
  accountProviderId: string | null;
  industry: string | null;
  website: string | null;
  stageName: string | null;
  amount: number | null;
  closeDate: string | null;
  fields: Record<string, unknown>;
}

/** Salesforce's datetime wire format (2024-01-15T10:30:00.000+0000) as an ISO instant; null if unreadable. */
export function salesforceInstant(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * One queried record as a row. A record without Id or a readable SystemModstamp cannot be placed in
 * the keyset order: that is not Salesforce as documented, so the job fails loudly rather than skip it.
 */
export function toCrmRow(object: CrmObject, record: Record<string, unknown>): CrmRow {
  const providerId = text(record.Id);
  const systemModstamp = salesforceInstant(record.SystemModstamp);
  if (!providerId || !systemModstamp) {
    throw new SyncError(`Salesforce returned a ${object} without Id or SystemModstamp (${JSON.stringify(record.Id ?? null)})`);
  }
  const fields: Record<string, unknown> = {};
  for (const name of selectedFields(object)) fields[name] = record[name] ?? null;
  const amount = object === 'Opportunity' && typeof record.Amount === 'number' && Number.isFinite(record.Amount) ? record.Amount : null;
  const closeDate = object === 'Opportunity' && typeof record.CloseDate === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(record.CloseDate) ? record.CloseDate : null;
  const has = (field: string) => OBJECT_FIELDS[object].includes(field);
  return {
    providerId,
    deleted: record.IsDeleted === true,
    systemModstamp,
    name: text(record.Name),
    email: has('Email') ? text(record.Email) : null,
    phone: has('Phone') ? text(record.Phone) : null,
    company: has('Company') ? text(record.Company) : null,
    status: has('Status') ? text(record.Status) : null,
    accountProviderId: has('AccountId') ? text(record.AccountId) : null,
    industry: has('Industry') ? text(record.Industry) : null,
    website: has('Website') ? text(record.Website) : null,
    stageName: has('StageName') ? text(record.StageName) : null,
    amount,
    closeDate,
    fields,
  };
}
