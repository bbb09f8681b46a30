import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import jsforce, { type Connection } from 'jsforce';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { salesforceRoutes } from '../../dev/sandbox/salesforce/routes';
import { formatSfDatetime } from '../../dev/sandbox/salesforce/soql';
import { SalesforceStore } from '../../dev/sandbox/salesforce/store';

const ACCOUNT = 'user-1';
const store = new SalesforceStore(99);
let server: ServerType;
let conn: Connection;
let requests: { method: string; path: string; headers: Record<string, string> }[] = [];

type Rec = { Id: string; SystemModstamp: string; [k: string]: unknown };

beforeAll(async () => {
  store.ensureAccount(ACCOUNT, { leads: 5000, contacts: 300, accounts: 60, opportunities: 120 });
  const app = new Hono<{ Variables: { account: string } }>();
  app.use('*', async (c, next) => {
    const u = new URL(c.req.url);
    requests.push({ method: c.req.method, path: u.pathname + u.search, headers: Object.fromEntries(c.req.raw.headers) });
    c.set('account', ACCOUNT);
    await next();
  });
  app.route('/', salesforceRoutes(store));
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, port: 0 }, (info: AddressInfo) => resolve(info.port));
  });
  conn = new jsforce.Connection({ instanceUrl: `http://127.0.0.1:${port}`, accessToken: 'sandbox-token', version: '59.0' });
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function rejection(p: PromiseLike<unknown>): Promise<Error & { errorCode: string; data: Record<string, unknown> }> {
  try {
    await p;
  } catch (e) {
    return e as never;
  }
  throw new Error('expected a rejection');
}

/** The keyset pager a sync would run: (SystemModstamp, Id) strictly after the last row seen. */
async function keysetAll(pageSize: number, onPage?: (page: Rec[], n: number) => void | Promise<void>): Promise<{ rows: Rec[]; pages: number }> {
  const rows: Rec[] = [];
  let after: Rec | undefined;
  let pages = 0;
  for (;;) {
    const where = after ? `WHERE SystemModstamp > ${after.SystemModstamp} OR (SystemModstamp = ${after.SystemModstamp} AND Id > '${after.Id}') ` : '';
    const res = await conn.query<Rec>(`SELECT Id, Email, SystemModstamp FROM Lead ${where}ORDER BY SystemModstamp, Id LIMIT ${pageSize}`);
    pages++;
    expect(res.done).toBe(true);
    rows.push(...res.records);
    await onPage?.(res.records, pages);
    if (res.records.length < pageSize) return { rows, pages };
    after = res.records[res.records.length - 1]!;
  }
}

describe('salesforce sandbox: SOQL through jsforce', () => {
  it('autoFetch follows nextRecordsUrl over 5,000 leads and returns them all', async () => {
    requests = [];
    const live = store.count(ACCOUNT, 'Lead');
    expect(live).toBeGreaterThan(4800);
    const res = await conn.query<Rec>('SELECT Id, Name, Email, Status, CreatedDate, SystemModstamp FROM Lead', { autoFetch: true, maxFetch: 100_000 });
    expect(res.totalSize).toBe(live);
    expect(res.records).toHaveLength(live);
    expect(new Set(res.records.map((r) => r.Id)).size).toBe(live);
    const queryCalls = requests.filter((r) => r.path.startsWith('/services/data/v59.0/query'));
    expect(queryCalls).toHaveLength(Math.ceil(live / 2000));
    expect(queryCalls[1]!.path).toMatch(/^\/services\/data\/v59\.0\/query\/01g[A-Za-z0-9]{15}-2000$/);
    expect(queryCalls[0]!.headers.authorization).toBe('Bearer sandbox-token');
    const r0 = res.records[0]!;
    expect(r0.attributes).toEqual({ type: 'Lead', url: `/services/data/v59.0/sobjects/Lead/${r0.Id}` });
    expect(Object.keys(r0)).toEqual(['attributes', 'Id', 'Name', 'Email', 'Status', 'CreatedDate', 'SystemModstamp']);
    expect(r0.Id).toMatch(/^00Q[A-Za-z0-9]{15}$/);
    expect(r0.CreatedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
  });

  it('pages by hand with queryMore and honours Sforce-Query-Options batchSize', async () => {
    const first = await conn.request<{ totalSize: number; done: boolean; records: Rec[]; nextRecordsUrl?: string }>({
      method: 'GET',
      url: `/services/data/v59.0/query?q=${encodeURIComponent('SELECT Id FROM Lead ORDER BY Id')}`,
      headers: { 'Sforce-Query-Options': 'batchSize=500' },
    });
    expect(first.done).toBe(false);
    expect(first.records).toHaveLength(500);
    expect(first.nextRecordsUrl).toMatch(/^\/services\/data\/v59\.0\/query\/01g[A-Za-z0-9]{15}-500$/);
    const locator = first.nextRecordsUrl!.split('/').pop()!;
    const second = await conn.queryMore<Rec>(locator);
    expect(second.records).toHaveLength(500); // the cursor keeps its batch size
    expect(second.records[0]!.Id > first.records[499]!.Id).toBe(true);
    const bogus = await rejection(conn.queryMore('01gXXXXXXXXXXXXXXX-2000'));
    expect(bogus.errorCode).toBe('INVALID_QUERY_LOCATOR');
  });

  it('keyset pagination on (SystemModstamp, Id) loses nothing, even across a 2,500-row timestamp tie', async () => {
    const ids = store.ids(ACCOUNT, 'Lead');
    // 2,500 leads share one millisecond: more than a page, so the tie straddles page boundaries
    const shared = Date.parse('2024-05-05T05:05:05.555Z');
    expect(ids.length).toBeGreaterThan(4000);
    store.touchMany(ACCOUNT, 'Lead', ids.slice(0, 2500), shared);
    const { rows, pages } = await keysetAll(2000);
    expect(pages).toBe(Math.floor(ids.length / 2000) + 1);
    expect(rows.map((r) => r.Id).sort()).toEqual([...ids].sort());
    for (let i = 1; i < rows.length; i++) {
      const a = rows[i - 1]!;
      const b = rows[i]!;
      expect(a.SystemModstamp < b.SystemModstamp || (a.SystemModstamp === b.SystemModstamp && a.Id < b.Id)).toBe(true);
    }
    expect(rows.filter((r) => r.SystemModstamp === '2024-05-05T05:05:05.555+0000')).toHaveLength(2500);

    // a naive "SystemModstamp > last" pager would skip most of the tie: the test data really exercises it
    const naive = await conn.query<Rec>(`SELECT Id FROM Lead WHERE SystemModstamp > 2024-05-05T05:05:05.555Z`);
    expect(naive.totalSize).toBe(ids.length - 2500 - rows.findIndex((r) => r.SystemModstamp === '2024-05-05T05:05:05.555+0000'));
  });

  it('keyset pagination picks up rows written while it pages', async () => {
    const touched: string[] = [];
    const { rows } = await keysetAll(1000, async (page, n) => {
      if (n === 2) {
        // update a row already delivered on page 1 and create a new one: both must show up later
        const id = page[0]!.Id;
        await conn.sobject('Lead').update({ Id: id, Title: 'Touched mid-sync' });
        const created = await conn.sobject('Lead').create({ LastName: 'Mid', Company: 'Sync Co', Email: 'mid.sync@example.org' });
        touched.push(id, (created as { id: string }).id);
      }
    });
    const last = rows.slice(-2).map((r) => r.Id);
    expect(last.sort()).toEqual([...touched].sort());
  });

  it('query excludes deleted records, queryAll includes them with IsDeleted', async () => {
    const [id] = store.ids(ACCOUNT, 'Lead');
    await conn.sobject('Lead').destroy(id!);
    const q = await conn.query<Rec>(`SELECT Id, IsDeleted FROM Lead WHERE Id = '${id}'`);
    expect(q.totalSize).toBe(0);
    const all = await conn.query<Rec>(`SELECT Id, IsDeleted, SystemModstamp FROM Lead WHERE Id = '${id}'`, { scanAll: true });
    expect(all.records).toEqual([{ attributes: { type: 'Lead', url: `/services/data/v59.0/sobjects/Lead/${id}` }, Id: id, IsDeleted: true, SystemModstamp: expect.any(String) }]);
    expect(requests.some((r) => r.path.startsWith('/services/data/v59.0/queryAll?q='))).toBe(true);
    const deletedCount = await conn.query('SELECT COUNT() FROM Lead WHERE IsDeleted = true', { scanAll: true });
    expect(deletedCount.totalSize).toBe(store.count(ACCOUNT, 'Lead', { includeDeleted: true }) - store.count(ACCOUNT, 'Lead'));
    expect(deletedCount.totalSize).toBeGreaterThan(1); // the generator leaves some in the recycle bin too
  });

  it('supports the WHERE/ORDER BY subset with relationship fields', async () => {
    const contacts = await conn.query<{ Id: string; Name: string; AccountId: string; Account: { Name: string; Industry: string | null } }>(
      `SELECT Id, Name, AccountId, Account.Name, Account.Industry FROM Contact WHERE AccountId != null AND (Name LIKE 'a%' OR NOT Email = null) ORDER BY Account.Name DESC NULLS LAST, Id LIMIT 50`,
    );
    expect(contacts.records).toHaveLength(50);
    for (const c of contacts.records) {
      expect(c.AccountId).toMatch(/^001/);
      expect(c.Account).toMatchObject({ attributes: { type: 'Account', url: `/services/data/v59.0/sobjects/Account/${c.AccountId}` }, Name: expect.any(String) });
    }
    const names = contacts.records.map((c) => c.Account.Name.toLowerCase());
    expect(names).toEqual([...names].sort().reverse());

    const opps = await conn.query<{ Amount: number; CloseDate: string; StageName: string; IsWon: boolean }>(
      `SELECT Id, Amount, CloseDate, StageName, IsWon FROM Opportunity WHERE StageName IN ('Closed Won', 'Closed Lost') AND Amount >= 10000 AND CloseDate < ${new Date().toISOString().slice(0, 10)}`,
    );
    expect(opps.totalSize).toBeGreaterThan(0);
    for (const o of opps.records) {
      expect(o.Amount).toBeGreaterThanOrEqual(10000);
      expect(o.CloseDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(o.IsWon).toBe(o.StageName === 'Closed Won');
    }
    const escaped = await conn.query(`SELECT Id FROM Lead WHERE LastName = 'O\\'Brien'`);
    expect(escaped.totalSize).toBeGreaterThan(0);
  });

  it('answers invalid SOQL with MALFORMED_QUERY / INVALID_FIELD / INVALID_TYPE', async () => {
    expect((await rejection(conn.query('SELECT Id FROM Lead WHERE'))).errorCode).toBe('MALFORMED_QUERY');
    expect((await rejection(conn.query('SELECT Id FROM Lead WHERE A = 1 AND B = 2 OR C = 3'))).errorCode).toBe('MALFORMED_QUERY');
    const inv = await rejection(conn.query('SELECT Id, Nope FROM Lead'));
    expect(inv.errorCode).toBe('INVALID_FIELD');
    expect(inv.message).toContain("No such column 'Nope' on entity 'Lead'");
    expect((await rejection(conn.query('SELECT Id FROM Leed'))).errorCode).toBe('INVALID_TYPE');
    expect((await rejection(conn.query("SELECT Id FROM Lead WHERE CreatedDate > '2024-01-01'"))).errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
    // the raw body is Salesforce's: an array of {message, errorCode}
    const raw = await fetch(`${conn.instanceUrl}/services/data/v59.0/query?q=${encodeURIComponent('SELECT FROM Lead')}`);
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual([{ message: expect.stringContaining('ERROR at Row:1:Column:8'), errorCode: 'MALFORMED_QUERY' }]);
  });
});

describe('salesforce sandbox: sobjects through jsforce', () => {
  it('creates, reads, updates and deletes a lead; every write moves SystemModstamp', async () => {
    const created = (await conn.sobject('Lead').create({ FirstName: 'Ada', LastName: 'Lovelace', Company: 'Analytical Engines', Email: 'ada@analytical.example' })) as { id: string; success: boolean; errors: unknown[] };
    expect(created).toEqual({ id: expect.stringMatching(/^00Q[A-Za-z0-9]{15}$/), success: true, errors: [] });
    const rec = await conn.sobject('Lead').retrieve(created.id);
    expect(rec).toMatchObject({ Id: created.id, Name: 'Ada Lovelace', Status: 'Open - Not Contacted', IsDeleted: false, OwnerId: store.ownerId(ACCOUNT) });
    expect(rec.CreatedDate).toBe(rec.SystemModstamp);

    await new Promise((r) => setTimeout(r, 5));
    const upd = await conn.sobject('Lead').update({ Id: created.id, Status: 'Working - Contacted', Title: 'Countess' });
    expect(upd).toEqual({ id: created.id, success: true, errors: [] });
    const after = await conn.sobject('Lead').retrieve(created.id);
    expect(after).toMatchObject({ Status: 'Working - Contacted', Title: 'Countess' });
    expect(Date.parse(String(after.SystemModstamp).replace('+0000', 'Z'))).toBeGreaterThan(Date.parse(String(rec.SystemModstamp).replace('+0000', 'Z')));
    expect(after.LastModifiedDate).toBe(after.SystemModstamp);

    const badPick = await rejection(conn.sobject('Lead').update({ Id: created.id, Status: 'Nope' }));
    expect(badPick.errorCode).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    const ro = await rejection(conn.sobject('Lead').update({ Id: created.id, Name: 'x' }));
    expect(ro.errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');

    await conn.sobject('Lead').destroy(created.id);
    expect((await rejection(conn.sobject('Lead').retrieve(created.id))).errorCode).toBe('NOT_FOUND');
    expect((await rejection(conn.sobject('Lead').update({ Id: created.id, Title: 'x' }))).errorCode).toBe('ENTITY_IS_DELETED');
    expect((await rejection(conn.sobject('Lead').retrieve('00Q000000000000AAA'))).errorCode).toBe('NOT_FOUND');
  });

  it('surfaces REQUIRED_FIELD_MISSING and DUPLICATES_DETECTED with Salesforce bodies', async () => {
    const missing = await rejection(conn.sobject('Lead').create({ FirstName: 'No', Email: 'nolast@example.org' }));
    expect(missing.errorCode).toBe('REQUIRED_FIELD_MISSING');
    expect(missing.message).toBe('Required fields are missing: [LastName, Company]');
    expect(missing.data).toEqual({ message: 'Required fields are missing: [LastName, Company]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['LastName', 'Company'] });

    const existing = (await conn.query<{ Id: string; Email: string }>('SELECT Id, Email FROM Lead WHERE Email != null LIMIT 1')).records[0]!;
    const dup = await rejection(conn.sobject('Lead').create({ LastName: 'Twin', Company: 'Dup Inc', Email: existing.Email.toUpperCase() }));
    expect(dup.errorCode).toBe('DUPLICATES_DETECTED');
    expect(dup.message).toBe('Use one of these records?');
    expect(dup.data).toMatchObject({
      errorCode: 'DUPLICATES_DETECTED',
      fields: [],
      duplicateResult: {
        allowSave: false,
        duplicateRuleEntityType: 'Lead',
        matchResults: [{ entityType: 'Lead', size: 1, success: true, matchRecords: [{ record: { Id: existing.Id, attributes: { type: 'Lead' } } }] }],
      },
    });

    const raw = await fetch(`${conn.instanceUrl}/services/data/v59.0/sobjects/Lead`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ LastName: 'X' }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual([{ message: 'Required fields are missing: [Company]', errorCode: 'REQUIRED_FIELD_MISSING', fields: ['Company'] }]);
  });

  it('creates and updates through composite collections, with allOrNone rollback', async () => {
    const accountId = store.ids(ACCOUNT, 'Account')[0]!;
    const before = store.count(ACCOUNT, 'Contact');
    requests = [];
    const res = (await conn.sobject('Contact').create([
      { FirstName: 'Composite', LastName: 'One', AccountId: accountId },
      { FirstName: 'Composite', LastName: 'Two', Email: 'two@composite.example' },
      { FirstName: 'No last name' },
    ])) as { id?: string; success: boolean; errors: { statusCode: string; fields: string[] }[] }[];
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /services/data/v59.0/composite/sobjects']);
    expect(res[0]).toEqual({ id: expect.stringMatching(/^003/), success: true, errors: [] });
    expect(res[1]).toEqual({ id: expect.stringMatching(/^003/), success: true, errors: [] });
    expect(res[2]).toEqual({ success: false, errors: [{ statusCode: 'REQUIRED_FIELD_MISSING', message: 'Required fields are missing: [LastName]', fields: ['LastName'] }] });
    expect(store.count(ACCOUNT, 'Contact')).toBe(before + 2);
    const withAccount = await conn.query<{ Account: { Name: string } }>(`SELECT Account.Name FROM Contact WHERE Id = '${res[0]!.id}'`);
    expect(withAccount.records[0]!.Account.Name).toBeTruthy();

    const rolledBack = (await conn.sobject('Contact').create([{ LastName: 'Kept?' }, { FirstName: 'Broken' }], { allOrNone: true })) as { success: boolean; errors: { statusCode: string }[] }[];
    expect(rolledBack.map((r) => r.errors[0]!.statusCode)).toEqual(['ALL_OR_NONE_OPERATION_ROLLED_BACK', 'REQUIRED_FIELD_MISSING']);
    expect(store.count(ACCOUNT, 'Contact')).toBe(before + 2);

    const upd = (await conn.sobject('Contact').update([
      { Id: res[0]!.id!, Title: 'Updated' },
      { Id: res[1]!.id!, Email: 'not-an-email' },
    ])) as { id: string; success: boolean; errors: { statusCode: string }[] }[];
    expect(upd[0]).toEqual({ id: res[0]!.id, success: true, errors: [] });
    expect(upd[1]).toMatchObject({ id: res[1]!.id, success: false, errors: [{ statusCode: 'INVALID_EMAIL_ADDRESS' }] });
    expect(store.getRecord(ACCOUNT, 'Contact', res[0]!.id!)!.Title).toBe('Updated');
  });

  it('lists deleted records from /sobjects/:Obj/deleted/', async () => {
    const start = new Date(Date.now() - 60 * 60_000);
    const [a, b] = store.ids(ACCOUNT, 'Opportunity').slice(-2);
    await conn.sobject('Opportunity').destroy([a!, b!]);
    const end = new Date(Date.now() + 60_000);
    requests = [];
    const res = await conn.sobject('Opportunity').deleted(start, end);
    expect(requests[0]!.path).toMatch(/^\/services\/data\/v59\.0\/sobjects\/Opportunity\/deleted\?start=.+&end=.+$/);
    const ids = res.deletedRecords.map((d) => d.id);
    expect(ids).toEqual(expect.arrayContaining([a, b]));
    for (const d of res.deletedRecords) {
      expect(d.deletedDate).toMatch(/\.\d{3}\+0000$/);
      expect(Date.parse(d.deletedDate.replace('+0000', 'Z'))).toBeGreaterThanOrEqual(start.getTime() - 1000);
    }
    expect(res.earliestDateAvailable).toMatch(/\+0000$/);
    expect(res.latestDateCovered).toMatch(/\+0000$/);
    // deleting an account cascades to its contacts and opportunities, all visible to queryAll
    const accountId = store.ids(ACCOUNT, 'Account')[1]!;
    const kids = await conn.query<{ Id: string }>(`SELECT Id FROM Contact WHERE AccountId = '${accountId}'`);
    await conn.sobject('Account').destroy(accountId);
    const gone = await conn.query(`SELECT Id FROM Contact WHERE AccountId = '${accountId}'`);
    expect(gone.totalSize).toBe(0);
    const bin = await conn.query(`SELECT Id FROM Contact WHERE AccountId = '${accountId}' AND IsDeleted = true`, { scanAll: true });
    expect(bin.totalSize).toBe(kids.totalSize);
    const tooOld = await rejection(conn.sobject('Lead').deleted(new Date(Date.now() - 40 * 86_400_000), new Date()));
    expect(tooOld.errorCode).toBe('INVALID_REPLICATION_DATE');
  });

  it('describes objects minimally', async () => {
    const d = await conn.sobject('Lead').describe();
    expect(d).toMatchObject({ name: 'Lead', keyPrefix: '00Q', queryable: true });
    const f = d.fields.find((x) => x.name === 'Status')!;
    expect(f).toMatchObject({ type: 'picklist', restrictedPicklist: true });
    expect(f.picklistValues!.map((p) => p.value)).toContain('Open - Not Contacted');
    expect(d.fields.find((x) => x.name === 'SystemModstamp')).toMatchObject({ type: 'datetime', createable: false });
  });
});

describe('salesforce sandbox: generation', () => {
  it('is deterministic per (seed, account) at 50,000 leads, and keyset pages walk them all', () => {
    const at = () => Date.parse('2025-06-01T12:00:00Z');
    const a = new SalesforceStore(5, { now: at });
    const b = new SalesforceStore(5, { now: at });
    a.ensureAccount('big', { leads: 50_000 });
    b.ensureAccount('big', { leads: 50_000 });
    b.ensureAccount('big', { leads: 10 }); // idempotent
    const soql = 'SELECT Id, Name, Email, Company, SystemModstamp FROM Lead ORDER BY SystemModstamp, Id LIMIT 300';
    expect(a.query('big', soql)).toEqual(b.query('big', soql));
    const c = new SalesforceStore(5, { now: at });
    c.ensureAccount('other', { leads: 300 });
    expect(c.query('other', soql).records.map((r) => r.Id)).not.toEqual(a.query('big', soql).records.map((r) => r.Id));

    // ids look like Salesforce's: 18 chars, the right key prefix, a valid case-safe suffix
    const leadId = a.ids('big', 'Lead')[0]!;
    expect(leadId).toMatch(/^00Q[A-Za-z0-9]{15}$/);
    expect(a.getRecord('big', 'Lead', leadId.slice(0, 15))!.Id).toBe(leadId);
    expect(a.ids('big', 'Contact')[0]).toMatch(/^003/);
    expect(a.ids('big', 'Account')[0]).toMatch(/^001/);
    expect(a.ids('big', 'Opportunity')[0]).toMatch(/^006/);

    // keyset pages over 50,000 rows (their speed is bench:sync's Salesforce backfill, not a test's)
    let after: { Id: string; SystemModstamp: string } | undefined;
    let n = 0;
    for (;;) {
      const where = after ? `WHERE SystemModstamp > ${after.SystemModstamp} OR (SystemModstamp = ${after.SystemModstamp} AND Id > '${after.Id}') ` : '';
      const page = a.query('big', `SELECT Id, SystemModstamp FROM Lead ${where}ORDER BY SystemModstamp, Id LIMIT 2000`);
      n += page.records.length;
      if (page.records.length < 2000) break;
      after = page.records[page.records.length - 1] as { Id: string; SystemModstamp: string };
    }
    expect(n).toBe(a.count('big', 'Lead'));
    expect(formatSfDatetime(at())).toBe('2025-06-01T12:00:00.000+0000');
  });
});
