/**
 * Salesforce sandbox schema: object definitions (Lead, Contact, Account, Opportunity), record ids, and the
 * describe resources built from the definitions.
 */
import { sfId18, type SoqlFieldType } from './soql';

export interface SfFieldDef {
  name: string;
  label: string;
  type: SoqlFieldType;
  length?: number;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  /** required on create (REQUIRED_FIELD_MISSING) */
  required?: boolean;
  referenceTo?: string;
  relationshipName?: string;
  picklist?: string[];
  restricted?: boolean;
  defaultedOnCreate?: boolean;
  filterable?: boolean;
  /** An External ID field: records can be upserted and read by its value (PATCH/GET sobjects/{object}/{field}/{value}). */
  externalId?: boolean;
  sortable?: boolean;
}

export interface SfObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  fields: SfFieldDef[];
  byLower: Map<string, SfFieldDef>;
  /** relationship name (lowercase) -> reference field */
  relationships: Map<string, SfFieldDef>;
}

export type SfRecord = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------
// Picklists

export const LEAD_STATUSES = ['Open - Not Contacted', 'Working - Contacted', 'Closed - Converted', 'Closed - Not Converted'];
export const LEAD_SOURCES = ['Web', 'Phone Inquiry', 'Partner Referral', 'Purchased List', 'Other'];
export const INDUSTRIES = [
  'Agriculture', 'Apparel', 'Banking', 'Biotechnology', 'Chemicals', 'Communications', 'Construction', 'Consulting',
  'Education', 'Electronics', 'Energy', 'Engineering', 'Entertainment', 'Finance', 'Healthcare', 'Hospitality',
  'Insurance', 'Manufacturing', 'Media', 'Retail', 'Technology', 'Telecommunications', 'Transportation', 'Utilities',
];
export const RATINGS = ['Hot', 'Warm', 'Cold'];
export const ACCOUNT_TYPES = [
  'Prospect', 'Customer - Direct', 'Customer - Channel', 'Channel Partner / Reseller', 'Installation Partner',
  'Technology Partner', 'Other',
];
export const OPP_STAGES: [string, number][] = [
  ['Prospecting', 10], ['Qualification', 10], ['Needs Analysis', 20], ['Value Proposition', 50],
  ['Id. Decision Makers', 60], ['Perception Analysis', 70], ['Proposal/Price Quote', 75], ['Negotiation/Review', 90],
  ['Closed Won', 100], ['Closed Lost', 0],
];
export const OPP_TYPES = ['Existing Customer - Upgrade', 'Existing Customer - Replacement', 'Existing Customer - Downgrade', 'New Customer'];
export const SALUTATIONS = ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'];

// ---------------------------------------------------------------------------------------------------------
// Definitions

type F = Partial<SfFieldDef> & { name: string; type: SoqlFieldType };

function field(f: F): SfFieldDef {
  const ro = f.type === 'id';
  return {
    label: f.name.replace(/Id$/, ' ID').replace(/([a-z])([A-Z])/g, '$1 $2'),
    createable: !ro,
    updateable: !ro,
    nillable: !ro && f.type !== 'boolean',
    ...f,
  };
}

const sysRo = (name: string, type: SoqlFieldType, extra: Partial<SfFieldDef> = {}): SfFieldDef =>
  field({ name, type, createable: false, updateable: false, nillable: false, defaultedOnCreate: true, ...extra });

function systemFields(): SfFieldDef[] {
  return [
    sysRo('CreatedDate', 'datetime', { label: 'Created Date' }),
    sysRo('CreatedById', 'reference', { label: 'Created By ID', referenceTo: 'User', relationshipName: 'CreatedBy' }),
    sysRo('LastModifiedDate', 'datetime', { label: 'Last Modified Date' }),
    sysRo('LastModifiedById', 'reference', { label: 'Last Modified By ID', referenceTo: 'User', relationshipName: 'LastModifiedBy' }),
    sysRo('SystemModstamp', 'datetime', { label: 'System Modstamp' }),
  ];
}

const idField = () => field({ name: 'Id', type: 'id', label: 'Record ID', nillable: false, length: 18 });
const isDeleted = () => sysRo('IsDeleted', 'boolean', { label: 'Deleted' });
const owner = () =>
  field({ name: 'OwnerId', type: 'reference', label: 'Owner ID', referenceTo: 'User', relationshipName: 'Owner', nillable: false, defaultedOnCreate: true });
const str = (name: string, length = 80, extra: Partial<SfFieldDef> = {}) => field({ name, type: 'string', length, ...extra });
const pick = (name: string, values: string[], restricted = false, extra: Partial<SfFieldDef> = {}) =>
  field({ name, type: 'picklist', length: 255, picklist: values, restricted, ...extra });
const longText = (name: string) => field({ name, type: 'textarea', length: 32000, filterable: false, sortable: false });
/** The org's External ID field (a custom text field, unique), as an admin would add one for an integration. */
const externalKey = () => str('Switchyard_Key__c', 255, { label: 'Switchyard Key', externalId: true });

function def(name: string, labelPlural: string, keyPrefix: string, fields: SfFieldDef[]): SfObjectDef {
  const byLower = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
  const relationships = new Map<string, SfFieldDef>();
  for (const f of fields) if (f.relationshipName) relationships.set(f.relationshipName.toLowerCase(), f);
  return { name, label: name, labelPlural, keyPrefix, fields, byLower, relationships };
}

export const OBJECTS: Map<string, SfObjectDef> = new Map(
  [
    def('Lead', 'Leads', '00Q', [
      idField(),
      isDeleted(),
      str('LastName', 80, { required: true, nillable: false, label: 'Last Name' }),
      str('FirstName', 40, { label: 'First Name' }),
      pick('Salutation', SALUTATIONS),
      str('Name', 121, { label: 'Full Name', createable: false, updateable: false }),
      str('Title', 128),
      str('Company', 255, { required: true, nillable: false }),
      str('City', 40),
      str('State', 80, { label: 'State/Province' }),
      str('Country', 80),
      field({ name: 'Phone', type: 'phone', length: 40 }),
      field({ name: 'MobilePhone', type: 'phone', length: 40, label: 'Mobile Phone' }),
      field({ name: 'Email', type: 'email', length: 80 }),
      field({ name: 'Website', type: 'url', length: 255 }),
      longText('Description'),
      pick('LeadSource', LEAD_SOURCES, false, { label: 'Lead Source' }),
      pick('Status', LEAD_STATUSES, true, { nillable: false, defaultedOnCreate: true }),
      pick('Industry', INDUSTRIES),
      pick('Rating', RATINGS),
      field({ name: 'AnnualRevenue', type: 'currency', label: 'Annual Revenue' }),
      field({ name: 'NumberOfEmployees', type: 'int', label: 'Employees' }),
      owner(),
      externalKey(),
      field({ name: 'IsConverted', type: 'boolean', label: 'Converted', nillable: false, defaultedOnCreate: true, createable: true, updateable: false }),
      ...systemFields(),
      field({ name: 'LastActivityDate', type: 'date', createable: false, updateable: false }),
    ]),
    def('Contact', 'Contacts', '003', [
      idField(),
      isDeleted(),
      field({ name: 'AccountId', type: 'reference', referenceTo: 'Account', relationshipName: 'Account', label: 'Account ID' }),
      str('LastName', 80, { required: true, nillable: false, label: 'Last Name' }),
      str('FirstName', 40, { label: 'First Name' }),
      pick('Salutation', SALUTATIONS),
      str('Name', 121, { label: 'Full Name', createable: false, updateable: false }),
      str('MailingCity', 40),
      str('MailingState', 80),
      str('MailingCountry', 80),
      field({ name: 'Phone', type: 'phone', length: 40, label: 'Business Phone' }),
      field({ name: 'MobilePhone', type: 'phone', length: 40, label: 'Mobile Phone' }),
      field({ name: 'Email', type: 'email', length: 80 }),
      str('Title', 128),
      str('Department', 80),
      pick('LeadSource', LEAD_SOURCES, false, { label: 'Lead Source' }),
      field({ name: 'Birthdate', type: 'date' }),
      longText('Description'),
      owner(),
      externalKey(),
      ...systemFields(),
      field({ name: 'LastActivityDate', type: 'date', createable: false, updateable: false }),
    ]),
    def('Account', 'Accounts', '001', [
      idField(),
      isDeleted(),
      str('Name', 255, { required: true, nillable: false, label: 'Account Name' }),
      pick('Type', ACCOUNT_TYPES, false, { label: 'Account Type' }),
      str('BillingCity', 40),
      str('BillingState', 80),
      str('BillingCountry', 80),
      field({ name: 'Phone', type: 'phone', length: 40, label: 'Account Phone' }),
      field({ name: 'Website', type: 'url', length: 255 }),
      pick('Industry', INDUSTRIES),
      field({ name: 'AnnualRevenue', type: 'currency', label: 'Annual Revenue' }),
      field({ name: 'NumberOfEmployees', type: 'int', label: 'Employees' }),
      longText('Description'),
      owner(),
      externalKey(),
      ...systemFields(),
      field({ name: 'LastActivityDate', type: 'date', createable: false, updateable: false }),
    ]),
    def('Opportunity', 'Opportunities', '006', [
      idField(),
      isDeleted(),
      field({ name: 'AccountId', type: 'reference', referenceTo: 'Account', relationshipName: 'Account', label: 'Account ID' }),
      str('Name', 120, { required: true, nillable: false }),
      longText('Description'),
      pick(
        'StageName',
        OPP_STAGES.map(([s]) => s),
        true,
        { required: true, nillable: false, label: 'Stage' },
      ),
      field({ name: 'Amount', type: 'currency' }),
      field({ name: 'Probability', type: 'percent', label: 'Probability (%)', defaultedOnCreate: true }),
      field({ name: 'CloseDate', type: 'date', required: true, nillable: false, label: 'Close Date' }),
      pick('Type', OPP_TYPES, false, { label: 'Opportunity Type' }),
      str('NextStep', 255, { label: 'Next Step' }),
      pick('LeadSource', LEAD_SOURCES, false, { label: 'Lead Source' }),
      field({ name: 'IsClosed', type: 'boolean', label: 'Closed', createable: false, updateable: false, nillable: false }),
      field({ name: 'IsWon', type: 'boolean', label: 'Won', createable: false, updateable: false, nillable: false }),
      owner(),
      externalKey(),
      ...systemFields(),
      field({ name: 'LastActivityDate', type: 'date', createable: false, updateable: false }),
    ]),
  ].map((d) => [d.name, d]),
);

export const OBJECTS_BY_LOWER: Map<string, SfObjectDef> = new Map([...OBJECTS.values()].map((d) => [d.name.toLowerCase(), d]));
export const OBJECT_BY_PREFIX: Map<string, SfObjectDef> = new Map([...OBJECTS.values()].map((d) => [d.keyPrefix, d]));

/** Derived fields, recomputed on every write. */
export function applyDerived(obj: SfObjectDef, rec: SfRecord): void {
  if (obj.name === 'Lead' || obj.name === 'Contact') {
    rec.Name = [rec.FirstName, rec.LastName].filter((v) => typeof v === 'string' && v).join(' ');
  }
  if (obj.name === 'Opportunity') {
    rec.IsClosed = rec.StageName === 'Closed Won' || rec.StageName === 'Closed Lost';
    rec.IsWon = rec.StageName === 'Closed Won';
  }
}

export function stageProbability(stage: unknown): number | null {
  const hit = OPP_STAGES.find(([s]) => s === stage);
  return hit ? hit[1] : null;
}

// ---------------------------------------------------------------------------------------------------------
// Ids

/** A 15- or 18-character record id, as Salesforce accepts them. */
export const SF_ID_PATTERN = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;

export const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function base62(n: number, width: number): string {
  let s = '';
  let v = Math.floor(n);
  while (v > 0) {
    s = B62[v % 62]! + s;
    v = Math.floor(v / 62);
  }
  return s.padStart(width, '0');
}

/** An 18-char id: 3-char key prefix, 2-char pod, a reserved 0, 9-char base62 counter, 3-char case checksum. */
export function makeSfId(prefix: string, pod: string, counter: number): string {
  return sfId18(`${prefix}${pod}0${base62(counter, 9)}`);
}

// ---------------------------------------------------------------------------------------------------------
// Describe

/** The object as /sobjects lists it. */
export function globalEntry(obj: SfObjectDef, version: string) {
  const base = `/services/data/v${version}/sobjects/${obj.name}`;
  return {
    name: obj.name,
    label: obj.label,
    labelPlural: obj.labelPlural,
    keyPrefix: obj.keyPrefix,
    custom: false,
    createable: true,
    updateable: true,
    deletable: true,
    queryable: true,
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
  };
}

/** /sobjects/X/describe: the global entry with the fields (the urls stay last, as Salesforce orders them). */
export function describeObject(obj: SfObjectDef, version: string): Record<string, unknown> {
  const { urls, ...entry } = globalEntry(obj, version);
  return {
    ...entry,
    retrieveable: true,
    searchable: true,
    replicateable: true,
    fields: obj.fields.map((f) => ({
      name: f.name,
      label: f.label,
      type: f.type,
      length: f.type === 'id' ? 18 : (f.length ?? 0),
      nillable: f.nillable,
      createable: f.createable,
      updateable: f.updateable,
      defaultedOnCreate: !!f.defaultedOnCreate,
      filterable: f.filterable !== false,
      sortable: f.sortable !== false,
      custom: false,
      referenceTo: f.referenceTo ? [f.referenceTo] : [],
      relationshipName: f.relationshipName ?? null,
      picklistValues: (f.picklist ?? []).map((v, i) => ({ active: true, defaultValue: obj.name === 'Lead' && f.name === 'Status' && i === 0, label: v, value: v })),
      restrictedPicklist: !!f.restricted,
    })),
    urls,
  };
}
