import { fork } from 'node:child_process';
import jsforce from 'jsforce';
import { describe, expect, it } from 'vitest';
import type { SfRecord } from '../dev/sandbox/salesforce/schema';
import { sfId18 as sandboxId18 } from '../dev/sandbox/salesforce/soql';
import { enqueueSyncs } from '../lib/connections';
import { db } from '../lib/database';
import { DeferJobError } from '../lib/jobs/errors';
import { defineHandler, type HandlerRegistry } from '../lib/jobs/runner';
import { ProviderError } from '../lib/providers/errors';
import { salesforceConnection, salesforceError } from '../lib/providers/salesforce';
import { salesforceId18 } from '../lib/providers/salesforce-id';
import { syncHandler } from '../lib/sync/engine/handler';
import { createSalesforceSync, type SalesforceSyncOptions } from '../lib/sync/salesforce';
import { testRunner } from './helpers/runner';
import { useSyncTestApp } from './helpers/sync';
import * as truth from './helpers/truth-salesforce';
import { byId, expectedRow, instant, OBJECTS, type CrmObject } from './helpers/truth-salesforce';

/**
 * The Salesforce sync end to end: the real jsforce client against the provider sandbox (its SOQL,
 * queryAll, nextRecordsUrl, errors), the real runner (the cron endpoint, or a Runner with smaller
 * keyset pages), real Postgres. Every test has its own sandbox user, so orgs, quotas and connections
 * do not mix. Expected rows are written out from the sandbox's records, independently of lib.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sync = useSyncTestApp('salesforce', { drainTimeoutMs: 120_000 });
const { app, query: q, cronPass, drain } = sync;

/** The connection, created as the frontend creates it (which enqueues one backfill job per object). */
async function connect(userId: string, sizes: { leads?: number; contacts?: number; accounts?: number; opportunities?: number } = {}) {
  const connection = await sync.connect('salesforce', userId, sizes);
  expect(connection.jobIds).toHaveLength(4);
  return connection.id;
}

/** The cron's registry, but with other keyset pages (and response batches). */
const registry = (options: SalesforceSyncOptions): HandlerRegistry => ({
  'sync.salesforce': syncHandler('salesforce', createSalesforceSync(options)),
});
const runnerPass = (handlers: HandlerRegistry, ms = 50_000) => () =>
  testRunner(db(), handlers, { backoffBaseMs: 100, backoffMaxMs: 1_000 }).run({ deadline: Date.now() + ms });

const jobsOf = (connectionId: number, stream?: CrmObject) =>
  q(
    `SELECT id, status, attempts, payload->>'stream' AS stream, payload->>'mode' AS mode, progress, result, last_error FROM jobs
     WHERE (payload->>'connectionId')::bigint = $1 AND ($2::text IS NULL OR payload->>'stream' = $2) ORDER BY id`,
    [connectionId, stream ?? null],
  );

const cursorOf = (connectionId: number, stream: CrmObject) => sync.cursorOf(connectionId, stream);

const sandboxRecords = (userId: string, object: CrmObject, includeDeleted = false) => truth.sandboxRecords(app.sandbox, userId, object, includeDeleted);
const liveRows = (connectionId: number, object: CrmObject) => truth.liveRows(q, connectionId, object);

/** The stored live records of every object are exactly the org's, field by field. */
async function expectMatchesSandbox(connectionId: number, userId: string) {
  const counts: Record<string, number> = {};
  for (const object of OBJECTS) {
    const expected = sandboxRecords(userId, object).map((rec) => expectedRow(object, rec));
    const actual = await liveRows(connectionId, object);
    expect(actual.length).toBe(app.sandbox.salesforce.count(userId, object));
    expect(byId(actual)).toEqual(byId(expected));
    counts[object] = actual.length;
  }
  return counts;
}

/** The last record of the object in (SystemModstamp, Id) order, recycle bin included: where the keyset stops. */
function lastPosition(userId: string, object: CrmObject) {
  const key = (r: SfRecord) => [instant(r.SystemModstamp).getTime(), r.Id as string] as const;
  const last = sandboxRecords(userId, object, true).reduce((a, b) => {
    const [ta, ia] = key(a);
    const [tb, ib] = key(b);
    return ta > tb || (ta === tb && ia > ib) ? a : b;
  });
  return { systemModstamp: instant(last.SystemModstamp).toISOString(), id: last.Id as string };
}

async function eventRows(connectionId: number, afterId = 0) {
  return q<{ id: number; type: string; provider_id: string; dedupe_key: string; payload: any }>(
    `SELECT id, type, provider_id, dedupe_key, payload FROM events WHERE connection_id = $1 AND id > $2 ORDER BY id`,
    [connectionId, afterId],
  );
}

const maxEventId = async () => Number((await q(`SELECT coalesce(max(id), 0) AS id FROM events`))[0]!.id);
const changes = (rows: { type: string; provider_id: string }[]) => rows.map((r) => `${r.type} ${r.provider_id}`).sort();
const requests = (userId: string) => app.sandbox.quotaUsage(userId).salesforce.requests;

/** Every live row has exactly one created event and one timeline row; nothing else was emitted. */
async function expectOneCreatedEach(connectionId: number, counts: Record<string, number>) {
  const events = await eventRows(connectionId);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  expect(events.length).toBe(total);
  expect(new Set(events.map((e) => `${e.type} ${e.provider_id}`)).size).toBe(total);
  for (const object of OBJECTS) {
    expect(events.filter((e) => e.type === `crm.${object.toLowerCase()}.created`).length).toBe(counts[object]);
  }
  const [interactions] = await q(`SELECT count(*)::int AS n FROM interactions WHERE connection_id = $1 AND deleted_at IS NULL`, [connectionId]);
  expect(interactions!.n).toBe(total);
}

describe('salesforce sync: backfill', () => {
  it('stores exactly the org\'s live Leads, Contacts, Accounts and Opportunities, each with one created event and one timeline row', async () => {
    const sizes = { leads: 300, contacts: 120, accounts: 40, opportunities: 90 };
    const connectionId = await connect('alice', sizes);
    await drain();

    const jobs = await jobsOf(connectionId);
    expect(jobs.map((j) => [j.stream, j.mode, j.status, j.attempts])).toEqual(OBJECTS.map((o) => [o, 'initial', 'succeeded', 1]));
    const counts = await expectMatchesSandbox(connectionId, 'alice');
    // The generated org has records in the recycle bin already: never stored, not even as deleted.
    for (const object of OBJECTS) {
      const inBin = sandboxRecords('alice', object, true).filter((r) => r.IsDeleted).map((r) => r.Id);
      const [stored] = await q(`SELECT count(*)::int AS n FROM crm_records WHERE connection_id = $1 AND provider_id = ANY($2)`, [connectionId, inBin]);
      expect(stored!.n).toBe(0);
    }
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(0.95 * (300 + 120 + 40 + 90));

    // Cursor: the last record walked (the recycle bin is walked too), the listing done.
    for (const object of OBJECTS) {
      expect(await cursorOf(connectionId, object)).toEqual({
        v: 1,
        position: lastPosition('alice', object),
        lastFullSync: { reason: 'backfill', completedAt: expect.any(String) },
      });
      const [job] = await jobsOf(connectionId, object);
      const walked = sandboxRecords('alice', object, true).length;
      expect(job!.progress).toEqual({ phase: 'done', pages: 1, records: walked, estimatedTotal: walked });
      expect(job!.result).toEqual({ records: walked });
    }

    await expectOneCreatedEach(connectionId, counts);
    const lead = sandboxRecords('alice', 'Lead').find((r) => r.Email && r.Company)!;
    const [event] = (await eventRows(connectionId)).filter((e) => e.provider_id === lead.Id);
    const version = instant(lead.SystemModstamp).toISOString();
    expect(event!.dedupe_key).toBe(`${connectionId}:crm.lead.created:${lead.Id}:${version}`);
    expect(event!.payload).toEqual({ object: 'Lead', id: lead.Id, name: lead.Name, systemModstamp: version, fields: expectedRow('Lead', lead).fields });

    const interactions = await q(
      `SELECT source_id, kind, occurred_at, title, summary, participants, deleted_at FROM interactions WHERE connection_id = $1 AND source = 'crm'`,
      [connectionId],
    );
    expect(interactions.find((i) => i.source_id === `Lead:${lead.Id}`)).toEqual({
      source_id: `Lead:${lead.Id}`,
      kind: 'lead',
      occurred_at: instant(lead.SystemModstamp),
      title: lead.Name,
      summary: `${lead.Company} · ${lead.Status}`,
      participants: [{ email: lead.Email, name: lead.Name }],
      deleted_at: null,
    });
    const opportunity = sandboxRecords('alice', 'Opportunity')[0]!;
    expect(interactions.find((i) => i.source_id === `Opportunity:${opportunity.Id}`)).toMatchObject({
      kind: 'opportunity',
      occurred_at: instant(opportunity.SystemModstamp),
      title: opportunity.Name,
    });
    const kinds = new Map<string, number>();
    for (const i of interactions) kinds.set(i.kind, (kinds.get(i.kind) ?? 0) + 1);
    expect(Object.fromEntries(kinds)).toEqual({ lead: counts.Lead, contact: counts.Contact, account: counts.Account, opportunity: counts.Opportunity });

    // One query per object (each under 2000 rows), paced: nothing refused.
    expect(requests('alice')).toBe(4);
    expect(app.sandbox.quotaUsage('alice').salesforce.refusals).toBe(0);
  });
});

describe('salesforce sync: incremental', () => {
  it('after updateRecord, createRecord and deleteRecord stores exactly those changes; events once each', async () => {
    const connectionId = await connect('bob', { leads: 200, contacts: 80, accounts: 20, opportunities: 60 });
    await drain();
    const before = await maxEventId();
    const requestsBefore = requests('bob');
    const sf = app.sandbox.salesforce;
    // Salesforce's timestamps are whole seconds: changes a second later sort after the backfill's last row.
    await sleep(1_100);

    const [updatedLead, deletedLead] = sandboxRecords('bob', 'Lead');
    sf.updateRecord('bob', 'Lead', updatedLead!.Id as string, { Status: 'Working - Contacted', Phone: '+1 415 555 0100' });
    sf.deleteRecord('bob', 'Lead', deletedLead!.Id as string);
    const createdLead = sf.createRecord('bob', 'Lead', { LastName: 'Okafor', FirstName: 'Ada', Company: 'Okafor Labs', Email: 'ada@okafor.example.com' });
    const opportunity = sandboxRecords('bob', 'Opportunity')[0]!;
    sf.updateRecord('bob', 'Opportunity', opportunity.Id as string, { StageName: 'Closed Won', Amount: 12345.67 });
    // An account with contacts and opportunities: deleting it deletes them too (Salesforce cascades).
    const account = sandboxRecords('bob', 'Account').find(
      (a) =>
        a.Id !== opportunity.AccountId &&
        sandboxRecords('bob', 'Contact').some((c) => c.AccountId === a.Id) &&
        sandboxRecords('bob', 'Opportunity').some((o) => o.AccountId === a.Id),
    )!;
    const cascadedContacts = sandboxRecords('bob', 'Contact').filter((c) => c.AccountId === account.Id).map((c) => c.Id as string);
    const cascadedOpportunities = sandboxRecords('bob', 'Opportunity').filter((o) => o.AccountId === account.Id).map((o) => o.Id as string);
    sf.deleteRecord('bob', 'Account', account.Id as string);
    const createdContact = sf.createRecord('bob', 'Contact', { LastName: 'Lindqvist', Email: 'sara@lindqvist.example.com', AccountId: opportunity.AccountId });

    const jobIds = await enqueueSyncs(db(), { id: connectionId, userId: 'bob', provider: 'salesforce' }, 'incremental');
    expect(jobIds).toHaveLength(4);
    await drain();

    await expectMatchesSandbox(connectionId, 'bob');
    const events = await eventRows(connectionId, before);
    expect(changes(events)).toEqual(
      [
        `crm.lead.updated ${updatedLead!.Id}`,
        `crm.lead.deleted ${deletedLead!.Id}`,
        `crm.lead.created ${createdLead.Id}`,
        `crm.opportunity.updated ${opportunity.Id}`,
        `crm.account.deleted ${account.Id}`,
        `crm.contact.created ${createdContact.Id}`,
        ...cascadedContacts.map((id) => `crm.contact.deleted ${id}`),
        ...cascadedOpportunities.map((id) => `crm.opportunity.deleted ${id}`),
      ].sort(),
    );
    const updated = events.find((e) => e.provider_id === updatedLead!.Id)!;
    const now = sf.getRecord('bob', 'Lead', updatedLead!.Id as string)!;
    expect(updated.dedupe_key).toBe(`${connectionId}:crm.lead.updated:${now.Id}:${instant(now.SystemModstamp).toISOString()}`);
    expect(updated.payload.fields).toMatchObject({ Status: 'Working - Contacted', Phone: '+1 415 555 0100' });
    const [won] = await q(`SELECT stage_name, amount::text AS amount FROM crm_records WHERE provider_id = $1`, [opportunity.Id]);
    expect(won).toEqual({ stage_name: 'Closed Won', amount: '12345.67' });

    // Deleted rows stay, marked with Salesforce's deletion time; their timeline rows are marked too.
    const gone = [deletedLead!.Id, account.Id, ...cascadedContacts, ...cascadedOpportunities] as string[];
    const marked = await q(`SELECT provider_id, deleted_at, system_modstamp FROM crm_records WHERE connection_id = $1 AND deleted_at IS NOT NULL`, [connectionId]);
    expect(marked.map((r) => r.provider_id).sort()).toEqual([...gone].sort());
    const deletedNow = sf.getRecord('bob', 'Lead', deletedLead!.Id as string, { includeDeleted: true })!;
    expect(marked.find((r) => r.provider_id === deletedLead!.Id)).toEqual({
      provider_id: deletedLead!.Id,
      deleted_at: instant(deletedNow.SystemModstamp),
      system_modstamp: instant(deletedNow.SystemModstamp),
    });
    const deadTimeline = await q(`SELECT source_id FROM interactions WHERE connection_id = $1 AND deleted_at IS NOT NULL`, [connectionId]);
    expect(deadTimeline.map((r) => r.source_id).sort()).toEqual(
      [`Lead:${deletedLead!.Id}`, `Account:${account.Id}`, ...cascadedContacts.map((id) => `Contact:${id}`), ...cascadedOpportunities.map((id) => `Opportunity:${id}`)].sort(),
    );
    // One query per object.
    expect(requests('bob') - requestsBefore).toBe(4);
    for (const object of OBJECTS) expect((await cursorOf(connectionId, object)).position).toEqual(lastPosition('bob', object));

    // Nothing changed since: a sync stores nothing, emits nothing, leaves the cursors as they are.
    const cursors = await Promise.all(OBJECTS.map((object) => cursorOf(connectionId, object)));
    const quiet = await maxEventId();
    await enqueueSyncs(db(), { id: connectionId, userId: 'bob', provider: 'salesforce' }, 'incremental');
    await drain();
    expect(await eventRows(connectionId, quiet)).toEqual([]);
    expect(await Promise.all(OBJECTS.map((object) => cursorOf(connectionId, object)))).toEqual(cursors);
    expect(requests('bob') - requestsBefore).toBe(8);
  });

  it('a Nango sync webhook for one model syncs that object only; an object empty at the backfill syncs incrementally later', async () => {
    const connectionId = await connect('bea', { leads: 50, contacts: 10, accounts: 5, opportunities: 0 });
    await drain();
    // Nothing to walk: the listing finished without a position, and that is not "never synced".
    expect(await cursorOf(connectionId, 'Opportunity')).toEqual({ v: 1, lastFullSync: { reason: 'backfill', completedAt: expect.any(String) } });
    await sleep(1_100);
    const lead = app.sandbox.salesforce.createRecord('bea', 'Lead', { LastName: 'Moreau', Company: 'Moreau SA' });
    const before = await maxEventId();
    const { syncSuccessPayload, SYNCS } = await import('../dev/sandbox/index');
    const response = await app.webhook(
      syncSuccessPayload({ connectionId: 'salesforce-bea', providerConfigKey: 'salesforce', ...SYNCS.salesforce.Lead, responseResults: { added: 1 } }),
    );
    expect(response.status).toBe(202);
    const jobs = (await jobsOf(connectionId)).slice(4);
    expect(jobs.map((j) => [j.stream, j.mode])).toEqual([['Lead', 'incremental']]);
    await drain();
    expect(changes(await eventRows(connectionId, before))).toEqual([`crm.lead.created ${lead.Id}`]);
    await expectMatchesSandbox(connectionId, 'bea');

    const account = sandboxRecords('bea', 'Account')[0]!;
    const deal = app.sandbox.salesforce.createRecord('bea', 'Opportunity', {
      Name: 'First deal',
      StageName: 'Prospecting',
      CloseDate: '2031-03-31',
      Amount: 2500.5,
      AccountId: account.Id,
    });
    const beforeDeal = await maxEventId();
    await enqueueSyncs(db(), { id: connectionId, userId: 'bea', provider: 'salesforce' }, 'initial', { streams: ['Opportunity'] });
    await drain();
    expect(changes(await eventRows(connectionId, beforeDeal))).toEqual([`crm.opportunity.created ${deal.Id}`]);
    const [stored] = await q(`SELECT amount::text AS amount, close_date::text AS close_date, account_provider_id FROM crm_records WHERE provider_id = $1`, [deal.Id]);
    expect(stored).toEqual({ amount: '2500.50', close_date: '2031-03-31', account_provider_id: account.Id });
    expect(await cursorOf(connectionId, 'Opportunity')).toEqual({
      v: 1,
      position: { systemModstamp: instant(deal.SystemModstamp).toISOString(), id: deal.Id },
      lastFullSync: { reason: 'backfill', completedAt: expect.any(String) },
    });
    await expectMatchesSandbox(connectionId, 'bea');
  });
});

describe('salesforce sync: keyset pages', () => {
  it('thousands of rows sharing one SystemModstamp across the 2000-row page boundary are all synced, once', { timeout: 120_000 }, async () => {
    app.sandbox.ensureUser('carol', { leads: 2600, contacts: 5, accounts: 3, opportunities: 5 });
    const sf = app.sandbox.salesforce;
    const leadIds = sf.ids('carol', 'Lead');
    // A bulk update before the backfill: every live lead has the same SystemModstamp (whole seconds).
    const bulk1 = Math.floor(Date.now() / 1000) * 1000 - 5_000;
    sf.touchMany('carol', 'Lead', leadIds, bulk1);
    const connectionId = await connect('carol');
    await drain();
    const counts = await expectMatchesSandbox(connectionId, 'carol');
    expect(counts.Lead).toBe(leadIds.length);
    expect(leadIds.length).toBeGreaterThan(2000);
    await expectOneCreatedEach(connectionId, counts);
    const tied = await q(`SELECT count(*)::int AS n FROM crm_records WHERE connection_id = $1 AND object = 'Lead' AND system_modstamp = $2`, [connectionId, new Date(bulk1)]);
    expect(tied[0]!.n).toBe(leadIds.length);
    // Lead: two keyset queries (2000, then the rest of the tie) and one COUNT() for progress; one query per other object.
    expect(requests('carol')).toBe(3 + 3);
    const [leadJob] = await jobsOf(connectionId, 'Lead');
    const walked = sf.ids('carol', 'Lead', { includeDeleted: true }).length;
    expect(leadJob!.progress).toEqual({ phase: 'done', pages: 2, records: walked, estimatedTotal: walked });

    // Another bulk update: every lead again, one SystemModstamp, one updated event each.
    await sleep(1_100);
    const bulk2 = Math.floor(Date.now() / 1000) * 1000;
    sf.touchMany('carol', 'Lead', leadIds, bulk2);
    const before = await maxEventId();
    await enqueueSyncs(db(), { id: connectionId, userId: 'carol', provider: 'salesforce' }, 'incremental', { streams: ['Lead'] });
    await drain();
    await expectMatchesSandbox(connectionId, 'carol');
    const events = await eventRows(connectionId, before);
    expect(events.length).toBe(leadIds.length);
    expect(events.every((e) => e.type === 'crm.lead.updated' && e.payload.systemModstamp === new Date(bulk2).toISOString())).toBe(true);
    expect(new Set(events.map((e) => e.provider_id))).toEqual(new Set(leadIds));
    const lastLead = [...leadIds].sort().at(-1);
    expect((await cursorOf(connectionId, 'Lead')).position).toEqual({ systemModstamp: new Date(bulk2).toISOString(), id: lastLead });
  });

  it('a query Salesforce returns in several batches is followed through nextRecordsUrl, each batch stored with its position', async () => {
    const connectionId = await connect('dora', { leads: 1100, contacts: 10, accounts: 5, opportunities: 10 });
    const positions: unknown[] = [];
    const inner = registry({ batchSize: 250 })['sync.salesforce']!;
    // Records the Lead cursor after each stored batch, by watching the job's progress updates.
    const handlers: HandlerRegistry = {
      'sync.salesforce': defineHandler({
        payload: inner.payload,
        run: (payload, context) =>
          inner.run(payload, {
            ...context,
            progress: async (progress) => {
              if (payload.stream === 'Lead') positions.push((await cursorOf(connectionId, 'Lead'))?.position);
              await context.progress(progress);
            },
          }),
      }),
    };
    await drain(runnerPass(handlers));
    await expectMatchesSandbox(connectionId, 'dora');
    const walked = app.sandbox.salesforce.ids('dora', 'Lead', { includeDeleted: true }).length;
    const batches = Math.ceil(walked / 250);
    // One query, then batches - 1 queryMore requests (no COUNT: the first response's totalSize says it all).
    expect(requests('dora')).toBe(batches + 3);
    expect(positions).toHaveLength(batches);
    expect(new Set(positions.map((p) => JSON.stringify(p))).size).toBe(batches);
    expect(positions.at(-1)).toEqual(lastPosition('dora', 'Lead'));
  });
});

/**
 * Salesforce requests refused before any quota was spent: every request the sandbox saw (its fault
 * counter) minus those past authentication (the users' quota counters). Without injected errors,
 * those are the 401s.
 */
function unauthenticatedRequests(): number {
  const accepted = Object.values(app.sandbox.quotaUsage()).reduce((n, usage) => n + usage.salesforce.requests, 0);
  return app.sandbox.faultStats('salesforce').requests - accepted;
}

describe("salesforce sync: changes that share the cursor's second", () => {
  it("a record changed within the cursor's second with a lower Id, and a late commit within the lookback, are synced; the re-read window writes and emits nothing else", async () => {
    const connectionId = await connect('lena', { leads: 120, contacts: 5, accounts: 3, opportunities: 5 });
    await drain();
    const sf = app.sandbox.salesforce;
    const connection = { id: connectionId, userId: 'lena', provider: 'salesforce' as const };
    const incremental = async (lookbackSeconds: number) => {
      await enqueueSyncs(db(), connection, 'incremental', { streams: ['Lead'] });
      await drain(runnerPass(registry({ lookbackSeconds })));
    };
    const position = (await cursorOf(connectionId, 'Lead')).position as { systemModstamp: string; id: string };
    const cursorSecond = Date.parse(position.systemModstamp);
    const leads = sandboxRecords('lena', 'Lead').filter((r) => (r.Id as string) < position.id);
    const [sameSecond, lateCommit, tooLate] = [leads[3]!, leads[7]!, leads[11]!];

    // A change stamped in the cursor's very second, on a record whose Id sorts before the cursor's: the
    // strict keyset (SystemModstamp, Id) > cursor never lists it.
    sf.updateRecord('lena', 'Lead', sameSecond.Id as string, { Status: 'Working - Contacted' }, { stampedAt: cursorSecond });
    // A transaction stamped 4 s before the cursor that committed only now, within a 5 s lookback.
    sf.updateRecord('lena', 'Lead', lateCommit.Id as string, { Phone: '+1 415 555 0199' }, { stampedAt: cursorSecond - 4_000 });
    const rowsBefore = await q<{ provider_id: string; updated_at: Date }>(
      `SELECT provider_id, updated_at FROM crm_records WHERE connection_id = $1 AND object = 'Lead' ORDER BY provider_id`,
      [connectionId],
    );
    const before = await maxEventId();
    const requestsBefore = requests('lena');
    await incremental(5);

    await expectMatchesSandbox(connectionId, 'lena');
    expect(changes(await eventRows(connectionId, before))).toEqual([`crm.lead.updated ${lateCommit.Id}`, `crm.lead.updated ${sameSecond.Id}`].sort());
    // One query: the window behind the cursor and whatever is new come in the same keyset page.
    expect(requests('lena') - requestsBefore).toBe(1);
    // Rows re-read unchanged were not rewritten.
    const rowsAfter = await q<{ provider_id: string; updated_at: Date }>(
      `SELECT provider_id, updated_at FROM crm_records WHERE connection_id = $1 AND object = 'Lead' ORDER BY provider_id`,
      [connectionId],
    );
    const rewritten = rowsAfter.filter((r, i) => r.updated_at.getTime() !== rowsBefore[i]!.updated_at.getTime()).map((r) => r.provider_id);
    expect(rewritten.sort()).toEqual([lateCommit.Id, sameSecond.Id].sort());
    // The cursor does not move back to the re-read rows.
    expect((await cursorOf(connectionId, 'Lead')).position).toEqual(position);
    const [job] = (await jobsOf(connectionId, 'Lead')).slice(-1);
    expect(job).toMatchObject({ mode: 'incremental', status: 'succeeded', result: { records: 2 } });

    // Nothing changed: the window is read again, and nothing is written or emitted.
    const quiet = await maxEventId();
    await incremental(5);
    expect(await eventRows(connectionId, quiet)).toEqual([]);
    expect((await cursorOf(connectionId, 'Lead')).position).toEqual(position);

    // Stamped before the lookback: beyond what the setting covers (a 'full' resync repairs it).
    sf.updateRecord('lena', 'Lead', tooLate.Id as string, { Phone: '+1 415 555 0177' }, { stampedAt: cursorSecond - 8_000 });
    await incremental(5);
    expect(await eventRows(connectionId, quiet)).toEqual([]);
    await incremental(10);
    expect(changes(await eventRows(connectionId, quiet))).toEqual([`crm.lead.updated ${tooLate.Id}`]);
    await expectMatchesSandbox(connectionId, 'lena');
  });

  it('a record changed twice within one second is stored as its second version, with an event for each', async () => {
    const connectionId = await connect('milo', { leads: 40, contacts: 5, accounts: 3, opportunities: 5 });
    await drain();
    const sf = app.sandbox.salesforce;
    const connection = { id: connectionId, userId: 'milo', provider: 'salesforce' as const };
    await sleep(1_100);
    const second = Math.floor(Date.now() / 1000) * 1000;
    const lead = sandboxRecords('milo', 'Lead')[0]!;
    sf.updateRecord('milo', 'Lead', lead.Id as string, { Status: 'Working - Contacted' }, { stampedAt: second });
    const before = await maxEventId();
    await enqueueSyncs(db(), connection, 'incremental', { streams: ['Lead'] });
    await drain();
    // The same second again (Salesforce's SystemModstamp is whole seconds): only the fields differ.
    sf.updateRecord('milo', 'Lead', lead.Id as string, { Status: 'Closed - Converted' }, { stampedAt: second });
    await enqueueSyncs(db(), connection, 'incremental', { streams: ['Lead'] });
    await drain();

    await expectMatchesSandbox(connectionId, 'milo');
    const events = await eventRows(connectionId, before);
    expect(events.map((e) => [e.type, e.provider_id, e.payload.fields.Status])).toEqual([
      ['crm.lead.updated', lead.Id, 'Working - Contacted'],
      ['crm.lead.updated', lead.Id, 'Closed - Converted'],
    ]);
    const stamp = new Date(second).toISOString();
    expect(events[0]!.dedupe_key).toBe(`${connectionId}:crm.lead.updated:${lead.Id}:${stamp}`);
    expect(events[1]!.dedupe_key).toMatch(new RegExp(`^${connectionId}:crm\\.lead\\.updated:${lead.Id}:${stamp.replace(/\./g, '\\.')}#[0-9a-f]{16}$`));
  });
});

describe('salesforce ids in their 15-character form', () => {
  it('are made 18 characters with the checksum Salesforce documents, as the sandbox makes them independently', () => {
    expect(salesforceId18('001D000000IRFma')).toBe('001D000000IRFmaIAH');
    expect(salesforceId18('001d000000irfma')).toBe('001d000000irfmaAAA');
    expect(salesforceId18('001D000000IRFmaiah')).toBe('001D000000IRFmaIAH');
    app.sandbox.ensureUser('nils', { leads: 30, contacts: 30, accounts: 10, opportunities: 10 });
    for (const object of OBJECTS) {
      for (const id of app.sandbox.salesforce.ids('nils', object)) {
        expect(salesforceId18(id.slice(0, 15))).toBe(id);
        expect(salesforceId18(id.slice(0, 15))).toBe(sandboxId18(id.slice(0, 15)));
      }
    }
    expect(() => salesforceId18('001D000000IRFm')).toThrow();
  });

  it('filter, name and update the same records as their 18-character form through the API', async () => {
    const connectionId = await connect('olga', { leads: 20, contacts: 40, accounts: 8, opportunities: 20 });
    await drain();
    const headers = { authorization: `Bearer ${await app.token('olga')}` };
    const contact = sandboxRecords('olga', 'Contact').find((c) => c.AccountId)!;
    const accountId = contact.AccountId as string;
    const list = async (path: string) => {
      const response = await fetch(`${app.url}${path}`, { headers });
      expect(response.status).toBe(200);
      return ((await response.json()).data as { providerId: string }[]).map((r) => r.providerId).sort();
    };
    const full = await list(`/api/crm/contact?accountId=${accountId}&limit=100`);
    expect(full).toContain(contact.Id);
    expect(await list(`/api/crm/contact?accountId=${accountId.slice(0, 15)}&limit=100`)).toEqual(full);
    expect(await list(`/api/crm/opportunity?accountId=${accountId.slice(0, 15)}&limit=100`)).toEqual(
      await list(`/api/crm/opportunity?accountId=${accountId}&limit=100`),
    );

    // An update naming the record by its 15-character id updates that record.
    const lead = sandboxRecords('olga', 'Lead')[0]!;
    const response = await fetch(`${app.url}/api/crm/lead/${(lead.Id as string).slice(0, 15)}`, {
      method: 'PATCH',
      headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': 'fifteen-1' },
      body: JSON.stringify({ Title: 'Head of Data' }),
    });
    expect([200, 202]).toContain(response.status);
    await drain();
    expect(app.sandbox.salesforce.getRecord('olga', 'Lead', lead.Id as string)!.Title).toBe('Head of Data');
    const [stored] = await q(`SELECT fields->>'Title' AS title FROM crm_records WHERE connection_id = $1 AND provider_id = $2`, [connectionId, lead.Id]);
    expect(stored).toEqual({ title: 'Head of Data' });
  });
});

describe('salesforce sync: failures', () => {
  it('under 30% server errors and 5% 429s, backfill and incremental converge to exactly the fault-free data, events once each', { timeout: 240_000 }, async () => {
    const connectionId = await connect('erin', { leads: 500, contacts: 200, accounts: 50, opportunities: 150 });
    app.sandbox.setFaults('salesforce', { errorRate: 0.3, rateLimitRate: 0.05, retryAfterSeconds: 1 });
    const pass = runnerPass(registry({ pageSize: 100 }), 30_000);
    await drain(pass, 200_000);
    const counts = await expectMatchesSandbox(connectionId, 'erin');
    await expectOneCreatedEach(connectionId, counts);

    await sleep(1_100);
    const sf = app.sandbox.salesforce;
    const leads = sandboxRecords('erin', 'Lead');
    for (const lead of leads.slice(0, 150)) sf.updateRecord('erin', 'Lead', lead.Id as string, { Title: 'VP Sales' });
    for (const lead of leads.slice(150, 160)) sf.deleteRecord('erin', 'Lead', lead.Id as string);
    const created = Array.from({ length: 120 }, (_, i) => sf.createRecord('erin', 'Lead', { LastName: `New${i}`, Company: `Co ${i}` }).Id as string);
    const before = await maxEventId();
    await enqueueSyncs(db(), { id: connectionId, userId: 'erin', provider: 'salesforce' }, 'incremental', { streams: ['Lead'] });
    await drain(pass, 200_000);
    await expectMatchesSandbox(connectionId, 'erin');
    expect(changes(await eventRows(connectionId, before))).toEqual(
      [
        ...leads.slice(0, 150).map((l) => `crm.lead.updated ${l.Id}`),
        ...leads.slice(150, 160).map((l) => `crm.lead.deleted ${l.Id}`),
        ...created.map((id) => `crm.lead.created ${id}`),
      ].sort(),
    );
    const stats = app.sandbox.faultStats('salesforce');
    expect(stats.errors).toBeGreaterThan(10);
    expect(stats.rateLimited).toBeGreaterThan(0);
    const jobs = await jobsOf(connectionId);
    expect(jobs.every((j) => j.status === 'succeeded')).toBe(true);
  });

  it('an access token expired mid-sync (INVALID_SESSION_ID) is refreshed once through Nango and the sync goes on', async () => {
    const connectionId = await connect('fred', { leads: 1500, contacts: 10, accounts: 5, opportunities: 10 });
    app.sandbox.setFaults('salesforce', { latencyMs: 40 });
    const tokenBefore = app.sandbox.accessToken('fred', 'salesforce');
    const refusedBefore = unauthenticatedRequests();
    const handlers = registry({ pageSize: 100 });
    const running = testRunner(db(), handlers).run({ deadline: Date.now() + 50_000 });
    while (((await cursorOf(connectionId, 'Lead'))?.listing?.pages ?? 0) < 2) await sleep(20);
    app.sandbox.expireTokens('salesforce');
    await running;
    await drain(runnerPass(handlers));

    const jobs = await jobsOf(connectionId);
    expect(jobs.map((j) => [j.status, j.attempts, j.last_error])).toEqual(OBJECTS.map(() => ['succeeded', 1, null]));
    const [connection] = await q(`SELECT status, last_error FROM connections WHERE id = $1`, [connectionId]);
    expect(connection).toEqual({ status: 'active', last_error: null });
    expect(app.sandbox.accessToken('fred', 'salesforce')).not.toBe(tokenBefore);
    // The streams syncing at that moment were each refused once (one 401 per run holding the old token).
    const refused = unauthenticatedRequests() - refusedBefore;
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(4);
    const counts = await expectMatchesSandbox(connectionId, 'fred');
    await expectOneCreatedEach(connectionId, counts);
    expect(app.sandbox.quotaUsage('fred').salesforce.refusals).toBe(0);
  });

  it('the org\'s API limit spent (REQUEST_LIMIT_EXCEEDED) defers the sync without spending attempts; it completes once requests are allowed', async () => {
    app.sandbox.ensureUser('gail', { leads: 30, contacts: 10, accounts: 5, opportunities: 10 });
    app.sandbox.quotas.preload('gail', 'salesforce', 15_000);
    const connectionId = await connect('gail');
    await cronPass();
    const deferred = await q(
      `SELECT status, attempts, run_at > now() + interval '30 seconds' AS later, last_error FROM jobs WHERE (payload->>'connectionId')::bigint = $1`,
      [connectionId],
    );
    expect(deferred).toHaveLength(4);
    for (const job of deferred) expect(job).toMatchObject({ status: 'queued', attempts: 0, later: true });
    const [state] = await q(`SELECT last_error FROM sync_states WHERE connection_id = $1 AND stream = 'Lead'`, [connectionId]);
    expect(state!.last_error).toContain('REQUEST_LIMIT_EXCEEDED');
    expect(await q(`SELECT 1 FROM crm_records WHERE connection_id = $1`, [connectionId])).toEqual([]);

    app.sandbox.quotas.reset('gail');
    await q(`UPDATE jobs SET run_at = now() WHERE (payload->>'connectionId')::bigint = $1`, [connectionId]);
    await drain();
    expect((await jobsOf(connectionId)).map((j) => [j.status, j.attempts])).toEqual(OBJECTS.map(() => ['succeeded', 1]));
    await expectMatchesSandbox(connectionId, 'gail');
  });
});

describe('salesforce sync: checkpoints and crashes', () => {
  it('a short time budget checkpoints the backfill across runs: no page skipped, none fetched twice', { timeout: 120_000 }, async () => {
    const connectionId = await connect('hugo', { leads: 1500, contacts: 10, accounts: 5, opportunities: 10 });
    app.sandbox.setFaults('salesforce', { latencyMs: 250 });
    const outcomes: string[] = [];
    const inner = registry({ pageSize: 100 })['sync.salesforce']!;
    const handlers: HandlerRegistry = {
      'sync.salesforce': defineHandler({
        payload: inner.payload,
        run: async (payload, context) => {
          try {
            const result = await inner.run(payload, context);
            if (payload.stream === 'Lead') outcomes.push(result?.status ?? 'none');
            return result;
          } catch (error) {
            if (payload.stream === 'Lead') outcomes.push(error instanceof DeferJobError ? 'deferred' : String(error));
            throw error;
          }
        },
      }),
    };
    // A pass of 4.5 s leaves the sync ~1.5 s before its checkpoint margin (3 s before the pass's deadline).
    await drain(() => testRunner(db(), handlers).run({ deadline: Date.now() + 4_500 }), 100_000);

    const counts = await expectMatchesSandbox(connectionId, 'hugo');
    await expectOneCreatedEach(connectionId, counts);
    expect(outcomes.length).toBeGreaterThan(2);
    expect(outcomes.slice(0, -1).every((o) => o === 'deferred')).toBe(true);
    expect(outcomes.at(-1)).toBe('succeeded');
    const walked = app.sandbox.salesforce.ids('hugo', 'Lead', { includeDeleted: true }).length;
    const pages = Math.ceil(walked / 100) + (walked % 100 === 0 ? 1 : 0);
    const [job] = await jobsOf(connectionId, 'Lead');
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, progress: { phase: 'done', pages, records: walked } });
    // Every page once, plus one COUNT() per run (each run's first page is full); the other objects: one query each.
    const runs = outcomes.length;
    expect(requests('hugo')).toBeLessThanOrEqual(pages + runs + 3);
    expect(requests('hugo')).toBeGreaterThanOrEqual(pages + 3);
  });

  it('a runner SIGKILLed mid-backfill: the next runner resumes from the saved page, no duplicates, no gaps', { timeout: 120_000 }, async () => {
    const connectionId = await connect('ines', { leads: 1500, contacts: 300, accounts: 60, opportunities: 200 });
    app.sandbox.setFaults('salesforce', { latencyMs: 60 });
    const child = fork(new URL('./fixtures/runner-child.ts', import.meta.url).pathname, ['salesforce', '2', '100'], {
      execArgv: ['--import', 'tsx'],
      stdio: 'ignore',
    });
    let pagesAtKill = 0;
    try {
      const started = Date.now();
      while ((pagesAtKill = (await cursorOf(connectionId, 'Lead'))?.listing?.pages ?? 0) < 4) {
        if (Date.now() - started > 30_000) throw new Error('the child runner stored no pages');
        await sleep(10);
      }
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once('exit', resolve)));
    const [held] = await jobsOf(connectionId, 'Lead');
    expect(held).toMatchObject({ status: 'running', attempts: 1 });

    await drain(() => testRunner(db(), registry({ pageSize: 100 })).run({ deadline: Date.now() + 20_000, idleMs: 500, pollMs: 200 }), 60_000);
    const [job] = await jobsOf(connectionId, 'Lead');
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
    const walkedOf = (object: CrmObject) => app.sandbox.salesforce.ids('ines', object, { includeDeleted: true }).length;
    // Keyset pages of 100: full ones, then the one that comes back short (possibly empty).
    const pagesOf = (object: CrmObject) => Math.floor(walkedOf(object) / 100) + 1;
    expect(pagesAtKill).toBeLessThan(pagesOf('Lead'));
    // The listing's page count carried over the crash: every page stored once, none skipped.
    expect(job!.progress).toMatchObject({ phase: 'done', pages: pagesOf('Lead'), records: walkedOf('Lead') });

    const counts = await expectMatchesSandbox(connectionId, 'ines');
    await expectOneCreatedEach(connectionId, counts);
    // Requests: every page once, plus at most a COUNT() per run (two runs per stream at most) and the
    // page each stream had in flight when the runner died.
    const pages = OBJECTS.reduce((n, object) => n + pagesOf(object), 0);
    expect(requests('ines')).toBeGreaterThanOrEqual(pages);
    expect(requests('ines')).toBeLessThanOrEqual(pages + 2 * OBJECTS.length + OBJECTS.length);
  });
});

describe('salesforce sync: cursor fencing', () => {
  it('a run whose cursor another run moved stores nothing more: its page rolls back and the job retries from the new cursor', async () => {
    const connectionId = await connect('jack', { leads: 800, contacts: 10, accounts: 5, opportunities: 10 });
    app.sandbox.setFaults('salesforce', { latencyMs: 40 });
    const handlers = registry({ pageSize: 100 });
    const running = runnerPass(handlers)();
    while (((await cursorOf(connectionId, 'Lead'))?.listing?.pages ?? 0) < 2) await sleep(10);
    // Another run (one that took over a lapsed lease) saved its own cursor: here, none at all.
    await q(`UPDATE sync_states SET cursor = '{"v":1}' WHERE connection_id = $1 AND stream = 'Lead'`, [connectionId]);
    await running;
    await drain(runnerPass(handlers));

    const [job] = await jobsOf(connectionId, 'Lead');
    expect(job).toMatchObject({ status: 'succeeded', attempts: 2 });
    // The first attempt ended on the cursor conflict (hence attempts: 2); the success cleared its error.
    expect(job!.last_error).toBeNull();
    const counts = await expectMatchesSandbox(connectionId, 'jack');
    await expectOneCreatedEach(connectionId, counts);
  });
});

describe('salesforce sync: modes', () => {
  it('\'full\' relists quietly and marks deleted what Salesforce no longer has; \'date_range\' repairs a window without moving the cursor', async () => {
    const connectionId = await connect('kate', { leads: 150, contacts: 40, accounts: 10, opportunities: 30 });
    await drain();
    const connection = { id: connectionId, userId: 'kate', provider: 'salesforce' as const };
    const backfilled = await cursorOf(connectionId, 'Lead');

    // A row whose record Salesforce purged (recycle bin emptied, hard delete): never reported as deleted.
    await q(
      `INSERT INTO crm_records (connection_id, user_id, object, provider_id, name, fields, system_modstamp)
       VALUES ($1, 'kate', 'Lead', '00Q000000000001AAA', 'Purged Lead', '{}', now() - interval '40 days')`,
      [connectionId],
    );
    const before = await maxEventId();
    await enqueueSyncs(db(), connection, 'full', { streams: ['Lead'] });
    await drain();
    const events = await eventRows(connectionId, before);
    expect(changes(events)).toEqual(['crm.lead.deleted 00Q000000000001AAA']);
    expect(events[0]!.payload).toMatchObject({ reason: 'missing_from_full_sync', name: 'Purged Lead' });
    const [purged] = await q(`SELECT deleted_at IS NOT NULL AS deleted FROM crm_records WHERE provider_id = '00Q000000000001AAA'`);
    expect(purged).toEqual({ deleted: true });
    expect(await cursorOf(connectionId, 'Lead')).toEqual({ ...backfilled, lastFullSync: { reason: 'full', completedAt: expect.any(String) } });
    await expectMatchesSandbox(connectionId, 'kate');

    // A window of SystemModstamp: rows in it are listed again and repaired (a manual edit here), quietly.
    const leads = sandboxRecords('kate', 'Lead').sort((a, b) => instant(a.SystemModstamp).getTime() - instant(b.SystemModstamp).getTime());
    const target = leads[Math.floor(leads.length / 2)]!;
    const day = instant(target.SystemModstamp).toISOString().slice(0, 10);
    await q(`UPDATE crm_records SET name = 'tampered', fields = '{}' WHERE connection_id = $1 AND provider_id = $2`, [connectionId, target.Id]);
    const afterFull = await cursorOf(connectionId, 'Lead');
    const quiet = await maxEventId();
    const requestsBefore = requests('kate');
    await enqueueSyncs(db(), connection, 'date_range', { streams: ['Lead'], startDate: day, endDate: day });
    await drain();
    expect((await jobsOf(connectionId, 'Lead')).at(-1)).toMatchObject({ mode: 'date_range', status: 'succeeded' });
    await expectMatchesSandbox(connectionId, 'kate');
    expect(await eventRows(connectionId, quiet)).toEqual([]);
    expect(await cursorOf(connectionId, 'Lead')).toEqual(afterFull);
    expect(requests('kate') - requestsBefore).toBe(1);

    // A bad range fails at once, with the reason.
    await enqueueSyncs(db(), connection, 'date_range', { streams: ['Lead'], startDate: '2024-02-30' });
    await drain();
    const [bad] = (await jobsOf(connectionId, 'Lead')).slice(-1);
    expect(bad).toMatchObject({ status: 'failed' });
    expect(bad!.last_error).toContain('startDate "2024-02-30" is not a date');
  });
});

describe('salesforce client: errors', () => {
  it('jsforce sends each request once (its own retries are off) and its errors become the right ProviderError', async () => {
    app.sandbox.ensureUser('liam', { leads: 5 });
    const session = { instanceUrl: app.sandbox.url, accessToken: app.sandbox.accessToken('liam', 'salesforce') };
    const attempt = async (url: string) => {
      const connection = salesforceConnection(session);
      const seen = app.sandbox.faultStats('salesforce').requests;
      try {
        await connection.request({ method: 'GET', url });
        return { error: undefined, requests: app.sandbox.faultStats('salesforce').requests - seen };
      } catch (error) {
        return { error: salesforceError(error, connection), requests: app.sandbox.faultStats('salesforce').requests - seen };
      }
    };
    const soql = `/query?q=${encodeURIComponent('SELECT Id FROM Lead')}`;

    expect(await attempt(soql)).toEqual({ error: undefined, requests: 1 });

    app.sandbox.setFaults('salesforce', { rateLimitRate: 1, retryAfterSeconds: 7 });
    const limited = await attempt(soql);
    expect(limited.requests).toBe(1);
    expect(limited.error).toBeInstanceOf(ProviderError);
    expect(limited.error).toMatchObject({ status: 429, retryAfterMs: 7_000, isQuota: true, isTransient: true });
    expect(limited.error!.options.reason).toBe('REQUEST_LIMIT_EXCEEDED');

    app.sandbox.setFaults('salesforce', { errorRate: 1 });
    const failed = await attempt(soql);
    expect(failed.requests).toBe(1);
    expect([500, 503]).toContain(failed.error!.status);
    expect(failed.error).toMatchObject({ isTransient: true, isQuota: false });

    app.sandbox.setFaults('salesforce', {});
    const malformed = await attempt(`/query?q=${encodeURIComponent('SELECT Id FROM Nothing')}`);
    expect(malformed.error).toMatchObject({ status: 400, isTransient: false, isUnauthorized: false });
    expect(malformed.error!.options.reason).toBe('INVALID_TYPE');

    const expired = salesforceConnection({ ...session, accessToken: 'not-a-token' });
    const unauthorized = await expired.request({ method: 'GET', url: soql }).catch((error) => salesforceError(error, expired));
    expect(unauthorized).toMatchObject({ status: 401, isUnauthorized: true });
    expect((unauthorized as ProviderError).options.reason).toBe('INVALID_SESSION_ID');

    // No answer at all: a port nothing listens on.
    const nowhere = salesforceConnection({ instanceUrl: 'http://127.0.0.1:9', accessToken: 'x' });
    const network = await nowhere.request({ method: 'GET', url: soql }).catch((error) => salesforceError(error, nowhere));
    expect(network).toMatchObject({ status: 0, isTransient: true });

    // A plain jsforce Connection would have retried the 503/429 itself: that is what the factory turns off.
    app.sandbox.setFaults('salesforce', { errorRate: 1 });
    const plain = new jsforce.Connection({ instanceUrl: app.sandbox.url, accessToken: session.accessToken, version: '59.0' });
    const seen = app.sandbox.faultStats('salesforce').requests;
    const retried = plain.request({ method: 'GET', url: soql });
    // Its second attempt comes ~500 ms after the first; then let it succeed rather than wait out 5 retries.
    while (app.sandbox.faultStats('salesforce').requests - seen < 2) await sleep(20);
    app.sandbox.setFaults('salesforce', {});
    await expect(retried).resolves.toMatchObject({ totalSize: 5 });
  }, 60_000);
});
