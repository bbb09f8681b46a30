/**
 * Deterministic Salesforce orgs: the org's pod, id counters and user, and its Leads, Contacts, Accounts and
 * Opportunities (with some deleted), a pure function of (seed, account).
 */
import {
  ACCOUNT_TYPES,
  B62,
  INDUSTRIES,
  LEAD_SOURCES,
  LEAD_STATUSES,
  OBJECTS,
  OPP_STAGES,
  OPP_TYPES,
  RATINGS,
  SALUTATIONS,
  applyDerived,
  makeSfId,
  stageProbability,
  type SfObjectDef,
  type SfRecord,
} from './schema';

/** sfc32 seeded from a string (via cyrb128): fast and deterministic. */
function seededRandom(seedText: string): () => number {
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

/** An account's org before any record: its random stream, pod, id counters and user follow from (seed, account). */
export function newGenContext(seed: number, account: string, now: number): GenContext {
  const rand = seededRandom(`sf|${seed}|${account}`);
  const pod = B62[1 + Math.floor(rand() * 9)]! + B62[10 + Math.floor(rand() * 26)]!;
  const counters = new Map<string, number>();
  for (const name of OBJECTS.keys()) counters.set(name, 62 ** 4 + Math.floor(rand() * 62 ** 5));
  return { rand, now, pod, counters, ownerId: makeSfId('005', pod, 62 ** 4 + Math.floor(rand() * 62 ** 4)) };
}

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
