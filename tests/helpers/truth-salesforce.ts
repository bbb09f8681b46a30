import type { Sandbox } from '../../dev/sandbox/index';
import type { SfRecord } from '../../dev/sandbox/salesforce/schema';

type Query = <T = any>(text: string, values?: unknown[]) => Promise<T[]>;
export type CrmObject = 'Lead' | 'Contact' | 'Account' | 'Opportunity';
export const OBJECTS: CrmObject[] = ['Lead', 'Contact', 'Account', 'Opportunity'];

/** What the sync selects, per the spec: system fields, then each object's fields. */
export const SYNCED_FIELDS: Record<CrmObject, string[]> = {
  Lead: ['Name', 'FirstName', 'LastName', 'Title', 'Email', 'Phone', 'Company', 'Status', 'LeadSource', 'IsConverted', 'OwnerId'],
  Contact: ['Name', 'FirstName', 'LastName', 'Title', 'Email', 'Phone', 'AccountId', 'OwnerId'],
  Account: ['Name', 'Type', 'Industry', 'Website', 'Phone', 'OwnerId'],
  Opportunity: ['Name', 'StageName', 'Amount', 'CloseDate', 'Probability', 'IsClosed', 'IsWon', 'AccountId', 'OwnerId'],
};
export const SYSTEM = ['Id', 'IsDeleted', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp'];

export const instant = (wire: unknown) => new Date(Date.parse(String(wire).replace(/([+-]\d{2})(\d{2})$/, '$1:$2')));

/** Every record of the org's object as the REST API returns it (the recycle bin too with includeDeleted). */
export function sandboxRecords(sandbox: Sandbox, userId: string, object: CrmObject, includeDeleted = false): SfRecord[] {
  const store = sandbox.salesforce;
  return store.ids(userId, object, { includeDeleted }).map((id) => store.getRecord(userId, object, id, { includeDeleted })!);
}

/** The row the sync must store for a live record, from the spec. */
export function expectedRow(object: CrmObject, rec: SfRecord) {
  const has = (field: string) => SYNCED_FIELDS[object].includes(field);
  const value = (field: string) => (has(field) ? ((rec[field] as string | null) ?? null) : null);
  return {
    object,
    provider_id: rec.Id as string,
    name: (rec.Name as string | null) ?? null,
    email: value('Email'),
    phone: value('Phone'),
    company: value('Company'),
    status: value('Status'),
    account_provider_id: value('AccountId'),
    industry: value('Industry'),
    website: value('Website'),
    stage_name: value('StageName'),
    amount: object === 'Opportunity' && rec.Amount != null ? Number(rec.Amount).toFixed(2) : null,
    close_date: object === 'Opportunity' ? ((rec.CloseDate as string | null) ?? null) : null,
    fields: Object.fromEntries([...SYSTEM, ...SYNCED_FIELDS[object]].map((field) => [field, rec[field] ?? null])),
    system_modstamp: instant(rec.SystemModstamp),
  };
}

export const byId = <T extends { provider_id: string }>(rows: T[]) => [...rows].sort((a, b) => (a.provider_id < b.provider_id ? -1 : 1));

export async function liveRows(query: Query, connectionId: number, object: CrmObject) {
  return query<ReturnType<typeof expectedRow>>(
    `SELECT object, provider_id, name, email, phone, company, status, account_provider_id, industry, website, stage_name,
            amount::text AS amount, close_date::text AS close_date, fields, system_modstamp
     FROM crm_records WHERE connection_id = $1 AND object = $2 AND deleted_at IS NULL`,
    [connectionId, object],
  );
}


/** Every object's live records as the rows the sync must store, in id order. */
export function salesforceTruth(sandbox: Sandbox, userId: string) {
  return Object.fromEntries(OBJECTS.map((object) => [object, byId(sandboxRecords(sandbox, userId, object).map((rec) => expectedRow(object, rec)))]));
}

/** The live rows of every object, in id order. */
export async function storedCrm(query: Query, connectionId: number) {
  return Object.fromEntries(await Promise.all(OBJECTS.map(async (object) => [object, byId(await liveRows(query, connectionId, object))] as const)));
}
