/**
 * Salesforce sandbox: object definitions (Lead, Contact, Account, Opportunity), id generation and the
 * deterministic seeded data generator.
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
const SALUTATIONS = ['Mr.', 'Ms.', 'Mrs.', 'Dr.', 'Prof.'];

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
// Ids and randomness

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

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

/** sfc32 seeded from a string (via cyrb128): fast and deterministic. */
export function seededRandom(seedText: string): () => number {
  let h1 = 1779033703,
    h2 = 3144134277,
    h3 = 1013904242,
    h4 = 2773480762;
  for (let i = 0; i < seedText.length; i++) {
    const k = seedText.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044813);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044813);
  let a = (h1 ^ h2 ^ h3 ^ h4) >>> 0,
    b = (h2 ^ h1) >>> 0,
    c = (h3 ^ h1) >>> 0,
    d = (h4 ^ h1) >>> 0;
  const next = (): number => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

// ---------------------------------------------------------------------------------------------------------
// Generator

const FIRST = [
  'James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth', 'William',
  'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Carlos', 'Karen', 'Wei', 'Aisha', 'Hiroshi',
  'Priya', 'Lukas', 'Sofia', 'Mateo', 'Amara', 'Noah', 'Emma', 'Olivia', 'Liam', 'Yuki', 'Fatima', 'Ivan', 'Chloe',
  'Ananya', 'Kwame', 'Ingrid', 'Diego', 'Nadia', 'Omar', 'Freya', 'Rahul', 'Elena', 'Tomás', 'Zoe', 'Kenji',
];
const LAST = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Wilson', 'Anderson', 'Taylor', 'Thomas', 'Moore', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark',
  'Lewis', 'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Nguyen', 'Müller', 'Schmidt', 'Tanaka', 'Sato',
  'Patel', 'Kumar', 'Okafor', 'Novak', 'Rossi', "O'Brien", 'Silva', 'Kowalski', 'Andersson', 'Dubois', 'Costa',
];
const CO_A = [
  'Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell', 'Cyberdyne',
  'Wonka', 'Aperture', 'Massive', 'Nimbus', 'Blue Harbor', 'Redwood', 'Summit', 'Northwind', 'Contoso', 'Fabrikam',
  'Pinnacle', 'Evergreen', 'Silverline', 'Ironclad', 'Bluebird', 'Granite', 'Lighthouse', 'Orbit', 'Quantum',
];
const CO_B = ['Systems', 'Labs', 'Industries', 'Holdings', 'Solutions', 'Dynamics', 'Analytics', 'Logistics', 'Health', 'Partners', 'Foods', 'Energy', 'Software', 'Capital'];
const CO_C = ['Inc.', 'LLC', 'Ltd', 'GmbH', 'Corp.', 'Co.', 'AG', 'S.A.', ''];
const TITLES = ['CEO', 'CTO', 'VP Sales', 'Head of Operations', 'Procurement Manager', 'IT Director', 'Marketing Lead', 'Engineer', 'CFO', 'Office Manager'];
const DEPARTMENTS = ['Sales', 'Engineering', 'Finance', 'Operations', 'Marketing', 'IT', 'Legal'];
const PLACES: [string, string, string][] = [
  ['San Francisco', 'CA', 'USA'], ['New York', 'NY', 'USA'], ['Austin', 'TX', 'USA'], ['Chicago', 'IL', 'USA'],
  ['Berlin', 'BE', 'Germany'], ['Munich', 'BY', 'Germany'], ['London', 'ENG', 'United Kingdom'], ['Paris', 'IDF', 'France'],
  ['Tokyo', '13', 'Japan'], ['Osaka', '27', 'Japan'], ['Toronto', 'ON', 'Canada'], ['Sydney', 'NSW', 'Australia'],
  ['Bangalore', 'KA', 'India'], ['São Paulo', 'SP', 'Brazil'], ['Lagos', 'LA', 'Nigeria'], ['Madrid', 'MD', 'Spain'],
];

export interface GenContext {
  rand: () => number;
  now: number;
  pod: string;
  ownerId: string;
  counters: Map<string, number>;
}

export interface GenCounts {
  leads: number;
  contacts: number;
  accounts: number;
  opportunities: number;
}

export interface Generated {
  records: Map<string, SfRecord[]>; // object -> records (ascending Id / CreatedDate)
  deletedAt: Map<string, Map<string, number>>; // object -> id -> deletion time
}

const DAY = 86_400_000;

export function nextId(ctx: GenContext, obj: SfObjectDef): string {
  const c = ctx.counters.get(obj.name)!;
  ctx.counters.set(obj.name, c + 1);
  return makeSfId(obj.keyPrefix, ctx.pod, c);
}

export function generateData(ctx: GenContext, counts: GenCounts): Generated {
  const { rand, now } = ctx;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const one = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const sec = (ms: number) => Math.floor(ms / 1000) * 1000;
  const slug = (s: string) => s.toLowerCase().normalize('NFD').replace(/[^a-z0-9]+/g, '');
  const phone = () => `+1 (${int(200, 989)}) ${int(200, 999)}-${String(int(0, 9999)).padStart(4, '0')}`;
  const company = () => {
    const suffix = one(CO_C);
    return `${one(CO_A)} ${one(CO_B)}${suffix ? ` ${suffix}` : ''}`;
  };
  // a handful of "mass update" instants shared by many records (imports, data-loader jobs, rule runs)
  const massInstants = Array.from({ length: 6 }, () => sec(now - rand() * 120 * DAY)).sort((a, b) => a - b);

  const emails = new Set<string>();
  const uniqueEmail = (first: string, last: string, domain: string) => {
    const base = `${slug(first)}.${slug(last)}`;
    let e = `${base}@${domain}`;
    for (let n = 2; emails.has(e); n++) e = `${base}${n}@${domain}`;
    emails.add(e);
    return e;
  };

  const records = new Map<string, SfRecord[]>();
  const deletedAt = new Map<string, Map<string, number>>();

  /** Common system fields; records are generated in CreatedDate order so ids grow with creation. */
  const gen = (objName: string, n: number, spanDays: number, fill: (rec: SfRecord, i: number) => void, deletable: boolean) => {
    const obj = OBJECTS.get(objName)!;
    const created = Array.from({ length: n }, () => sec(now - DAY / 24 - rand() * spanDays * DAY)).sort((a, b) => a - b);
    const out: SfRecord[] = new Array(n);
    const del = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const c = created[i]!;
      const rec: SfRecord = { Id: nextId(ctx, obj), IsDeleted: false };
      for (const f of obj.fields) if (!(f.name in rec)) rec[f.name] = null;
      fill(rec, i);
      let modified = c;
      const r = rand();
      if (r < 0.55) modified = c;
      else if (r < 0.85) modified = sec(c + rand() * (now - c));
      else {
        const later = massInstants.filter((t) => t >= c);
        modified = later.length ? one(later) : c;
      }
      let stamp = modified;
      if (rand() < 0.05) stamp = Math.min(sec(modified + rand() * DAY), now);
      rec.CreatedDate = c;
      rec.CreatedById = ctx.ownerId;
      rec.LastModifiedDate = modified;
      rec.LastModifiedById = ctx.ownerId;
      rec.SystemModstamp = stamp;
      rec.OwnerId = ctx.ownerId;
      if (rand() < 0.3) rec.LastActivityDate = new Date(sec(c + rand() * (now - c))).toISOString().slice(0, 10);
      if (deletable && rand() < 0.015) {
        const at = Math.max(stamp, sec(now - rand() * 10 * DAY));
        rec.IsDeleted = true;
        rec.LastModifiedDate = at;
        rec.SystemModstamp = at;
        del.set(rec.Id as string, at);
      }
      applyDerived(obj, rec);
      out[i] = rec;
    }
    records.set(objName, out);
    deletedAt.set(objName, del);
    return out;
  };

  const accounts = gen(
    'Account',
    counts.accounts,
    900,
    (rec) => {
      const [city, state, country] = one(PLACES);
      const name = company();
      rec.Name = name;
      rec.Type = one(ACCOUNT_TYPES);
      rec.Industry = one(INDUSTRIES);
      rec.Website = `https://www.${slug(name.split(' ')[0]!)}${slug(name.split(' ')[1] ?? '')}.example.com`;
      rec.Phone = phone();
      rec.BillingCity = city;
      rec.BillingState = state;
      rec.BillingCountry = country;
      rec.NumberOfEmployees = int(5, 20000);
      rec.AnnualRevenue = int(1, 5000) * 100_000;
      if (rand() < 0.3) rec.Description = `${name} — ${one(INDUSTRIES).toLowerCase()} account.`;
    },
    false,
  );
  const accountDomain = (acc: SfRecord | undefined) =>
    acc ? String(acc.Website).replace(/^https:\/\/www\./, '') : `${slug(one(CO_A))}.example.com`;

  gen(
    'Contact',
    counts.contacts,
    700,
    (rec) => {
      const acc = accounts.length && rand() < 0.92 ? one(accounts) : undefined;
      const first = one(FIRST);
      const last = one(LAST);
      const [city, state, country] = acc ? [acc.BillingCity, acc.BillingState, acc.BillingCountry] : one(PLACES);
      rec.AccountId = acc ? acc.Id : null;
      rec.FirstName = rand() < 0.97 ? first : null;
      rec.LastName = last;
      if (rand() < 0.4) rec.Salutation = one(SALUTATIONS);
      rec.Email = rand() < 0.95 ? uniqueEmail(first, last, accountDomain(acc)) : null;
      rec.Phone = rand() < 0.8 ? phone() : null;
      rec.MobilePhone = rand() < 0.4 ? phone() : null;
      rec.Title = one(TITLES);
      rec.Department = one(DEPARTMENTS);
      rec.LeadSource = rand() < 0.6 ? one(LEAD_SOURCES) : null;
      rec.MailingCity = city;
      rec.MailingState = state;
      rec.MailingCountry = country;
      if (rand() < 0.2) rec.Birthdate = `${int(1955, 2000)}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`;
    },
    true,
  );

  gen(
    'Opportunity',
    counts.opportunities,
    500,
    (rec) => {
      const acc = accounts.length ? one(accounts) : undefined;
      const closeOffset = int(-180, 180);
      const close = new Date(now + closeOffset * DAY).toISOString().slice(0, 10);
      let stage: string;
      if (closeOffset < 0) stage = rand() < 0.55 ? 'Closed Won' : rand() < 0.8 ? 'Closed Lost' : one(OPP_STAGES.slice(0, 8))[0];
      else stage = one(OPP_STAGES.slice(0, 8))[0];
      rec.AccountId = acc ? acc.Id : null;
      rec.Name = `${acc ? String(acc.Name).split(' ')[0] : one(CO_A)} — ${one(['Renewal', 'Expansion', 'Pilot', 'Platform', 'Services', 'Licenses'])} ${int(2023, 2026)}`;
      rec.StageName = stage;
      rec.Probability = stageProbability(stage);
      rec.Amount = int(5, 2000) * 500;
      rec.CloseDate = close;
      rec.Type = one(OPP_TYPES);
      rec.LeadSource = rand() < 0.5 ? one(LEAD_SOURCES) : null;
      if (rand() < 0.4) rec.NextStep = one(['Send proposal', 'Schedule demo', 'Legal review', 'Follow up call', 'Security questionnaire']);
    },
    true,
  );

  gen(
    'Lead',
    counts.leads,
    730,
    (rec) => {
      const first = one(FIRST);
      const last = one(LAST);
      const co = company();
      const [city, state, country] = one(PLACES);
      const domain = `${slug(co.split(' ')[0]!)}${slug(co.split(' ')[1] ?? '')}.example.com`;
      rec.FirstName = rand() < 0.96 ? first : null;
      rec.LastName = last;
      if (rand() < 0.3) rec.Salutation = one(SALUTATIONS);
      rec.Company = co;
      rec.Title = rand() < 0.8 ? one(TITLES) : null;
      rec.Email = rand() < 0.93 ? uniqueEmail(first, last, domain) : null;
      rec.Phone = rand() < 0.7 ? phone() : null;
      rec.MobilePhone = rand() < 0.25 ? phone() : null;
      rec.Website = rand() < 0.5 ? `https://www.${domain}` : null;
      rec.City = city;
      rec.State = state;
      rec.Country = country;
      rec.LeadSource = one(LEAD_SOURCES);
      const s = rand();
      rec.Status = s < 0.45 ? LEAD_STATUSES[0] : s < 0.75 ? LEAD_STATUSES[1] : s < 0.85 ? LEAD_STATUSES[2] : LEAD_STATUSES[3];
      rec.IsConverted = rec.Status === 'Closed - Converted';
      rec.Industry = rand() < 0.7 ? one(INDUSTRIES) : null;
      rec.Rating = rand() < 0.5 ? one(RATINGS) : null;
      rec.NumberOfEmployees = rand() < 0.6 ? int(1, 50000) : null;
      rec.AnnualRevenue = rand() < 0.4 ? int(1, 2000) * 50_000 : null;
      if (rand() < 0.15) rec.Description = `Met at ${one(['Dreamforce', 'a webinar', 'a trade show', 'a meetup', 'a partner event'])}.`;
    },
    true,
  );

  return { records, deletedAt };
}
