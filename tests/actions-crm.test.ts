import { describe, expect, it } from 'vitest';
import { externalIdValue } from '../lib/actions/salesforce/records';
import { resetConfigForTests } from '../lib/config';
import { resetProviderPoliciesForTests } from '../lib/providers/resilience';
import { useActionsApp } from './helpers/actions';

/**
 * Salesforce's crm.create, crm.update and crm.batch_create end to end: real HTTP, the action job run by
 * the kicked runner, jsforce against the sandbox's Salesforce (duplicate rules, required fields, a
 * validation rule, sObject Collections, upsert by an External ID field), real Postgres.
 */
const app = useActionsApp('salesforce');

/** Runs `body` with settings changed, restored after. */
async function withSettings(settings: Record<string, string>, body: () => Promise<void>): Promise<void> {
  Object.assign(process.env, settings);
  resetConfigForTests();
  resetProviderPoliciesForTests();
  try {
    await body();
  } finally {
    for (const name of Object.keys(settings)) delete process.env[name];
    resetConfigForTests();
    resetProviderPoliciesForTests();
  }
}

/** The sandbox org's live records of an object with this field value. */
const inOrg = (userId: string, object: string, field: string, value: unknown) =>
  app.sandbox.salesforce
    .ids(userId, object)
    .map((id) => app.sandbox.salesforce.getRecord(userId, object, id)!)
    .filter((record) => record[field] === value);

describe('crm.create', () => {
  it('a Lead with its required fields: created, and shown at once by GET /api/crm/lead', async () => {
    await app.connect('sf-ann', 'salesforce');
    const created = await app.write('POST', '/api/crm/lead', 'sf-ann', { FirstName: 'John', LastName: 'Doe', Company: 'Acme Corp', Email: 'john@acme.example' });
    expect(created.status).toBe(200);
    const { id } = created.body.action.result;
    expect(created.body.action).toMatchObject({ tool: 'crm.create', status: 'succeeded', result: { object: 'Lead', record: { Company: 'Acme Corp' } } });
    expect(app.sandbox.salesforce.getRecord('sf-ann', 'Lead', id)).toMatchObject({ LastName: 'Doe', Status: 'Open - Not Contacted' });
    const listed = await app.get('/api/crm/lead?email=john@acme.example', 'sf-ann');
    expect(listed.body.data).toMatchObject([{ providerId: id, name: 'John Doe', company: 'Acme Corp', status: 'Open - Not Contacted' }]);
  });

  it('an Account, a Contact linked to it, and an Opportunity on it', async () => {
    await app.connect('sf-bea', 'salesforce');
    const account = await app.write('POST', '/api/crm/account', 'sf-bea', { Name: 'Globex', Industry: 'Technology' });
    expect(account.status).toBe(200);
    const accountId = account.body.action.result.id;
    const contact = await app.write('POST', '/api/crm/contact', 'sf-bea', { LastName: 'Simpson', FirstName: 'Homer', Email: 'homer@globex.example', AccountId: accountId });
    expect(contact.status).toBe(200);
    const opportunity = await app.write('POST', '/api/crm/opportunity', 'sf-bea', { Name: 'Globex renewal', StageName: 'Prospecting', CloseDate: '2030-06-30', Amount: 50000, AccountId: accountId });
    expect(opportunity.status).toBe(200);
    const contacts = await app.get(`/api/crm/contact?accountId=${accountId}`, 'sf-bea');
    expect(contacts.body.data).toMatchObject([{ providerId: contact.body.action.result.id, accountId, email: 'homer@globex.example' }]);
    const deals = await app.get(`/api/crm/opportunity?accountId=${accountId}`, 'sf-bea');
    expect(deals.body.data).toMatchObject([{ name: 'Globex renewal', stageName: 'Prospecting', amount: 50000, closeDate: '2030-06-30' }]);
  });

  it("Salesforce's refusals: DUPLICATES_DETECTED 409 with the duplicate's id; missing, invalid and rule-breaking fields 422 naming them", async () => {
    await app.connect('sf-cy', 'salesforce');
    const first = await app.write('POST', '/api/crm/lead', 'sf-cy', { LastName: 'Dup', Company: 'Dup Inc', Email: 'dup@dup.example' });
    const duplicate = await app.write('POST', '/api/crm/lead', 'sf-cy', { LastName: 'Dup2', Company: 'Dup Inc', Email: 'dup@dup.example' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error).toMatchObject({ code: 'conflict', details: [{ path: 'Id', duplicateId: first.body.action.result.id }] });
    expect(duplicate.body.action).toMatchObject({ status: 'failed', error: { status: 409 } });

    const missing = await app.write('POST', '/api/crm/lead', 'sf-cy', { FirstName: 'No', Email: 'no@name.example' });
    expect(missing.status).toBe(422);
    expect(missing.body.error.details.map((d: any) => d.path).sort()).toEqual(['Company', 'LastName']);
    expect(missing.body.error.details[0].salesforceCode).toBe('REQUIRED_FIELD_MISSING');
    const invalid = await app.write('POST', '/api/crm/lead', 'sf-cy', { LastName: 'X', Company: 'Y', Shoe_Size__c: 44 });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details).toMatchObject([{ path: 'Shoe_Size__c', salesforceCode: 'INVALID_FIELD' }]);
    const rule = await app.write('POST', '/api/crm/opportunity', 'sf-cy', { Name: 'Refund', StageName: 'Prospecting', CloseDate: '2030-01-01', Amount: -5 });
    expect(rule.status).toBe(422);
    expect(rule.body.error.details).toMatchObject([{ path: 'Amount', salesforceCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Amount cannot be negative.' }]);
    const unknown = await app.write('POST', '/api/crm/widget', 'sf-cy', { Name: 'x' });
    expect(unknown.status).toBe(404);
    const malformed = await app.write('POST', '/api/crm/lead', 'sf-cy', { LastName: { nested: true } });
    expect(malformed.status).toBe(400);
  });

  it('request limits are 429 with Retry-After', async () => {
    await app.connect('sf-dee', 'salesforce');
    await withSettings({ PROVIDER_MAX_RETRIES: '0' }, async () => {
      app.sandbox.setFaults('salesforce', { rateLimitRate: 1, retryAfterSeconds: 7 });
      const limited = await app.write('POST', '/api/crm/lead', 'sf-dee', { LastName: 'L', Company: 'C' });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('7');
    });
  });
});

describe('crm.update', () => {
  it("updates a Lead's status by the row id or by its Salesforce id; an unknown record is 404", async () => {
    await app.connect('sf-eva', 'salesforce');
    const created = await app.write('POST', '/api/crm/lead', 'sf-eva', { LastName: 'Status', Company: 'Co' });
    const id = created.body.action.result.id;
    const [row] = (await app.get('/api/crm/lead?q=Status', 'sf-eva')).body.data;
    const updated = await app.write('PATCH', `/api/crm/lead/${row.id}`, 'sf-eva', { Status: 'Working - Contacted' });
    expect(updated.status).toBe(200);
    expect(app.sandbox.salesforce.getRecord('sf-eva', 'Lead', id)).toMatchObject({ Status: 'Working - Contacted' });
    expect((await app.get('/api/crm/lead?q=Status', 'sf-eva')).body.data).toMatchObject([{ id: row.id, status: 'Working - Contacted' }]);
    const bySalesforceId = await app.write('PATCH', `/api/crm/lead/${id}`, 'sf-eva', { Status: 'Closed - Not Converted' });
    expect(bySalesforceId.status).toBe(200);
    expect((await app.get('/api/crm/lead?q=Status', 'sf-eva')).body.data).toMatchObject([{ id: row.id, status: 'Closed - Not Converted' }]);
    const badPicklist = await app.write('PATCH', `/api/crm/lead/${row.id}`, 'sf-eva', { Status: 'Dancing' });
    expect(badPicklist.status).toBe(422);
    expect(badPicklist.body.error.details[0].path).toBe('Status');
    expect((await app.write('PATCH', '/api/crm/lead/999999', 'sf-eva', { Status: 'x' })).status).toBe(404);
    const gone = await app.write('PATCH', '/api/crm/lead/00Q000000000000AAA', 'sf-eva', { Status: 'Working - Contacted' });
    expect(gone.status).toBe(404);
  });
});

describe('crm.batch_create', () => {
  it('200 leads in one sObject Collections call, each reported; one refused record does not stop the others', async () => {
    await app.connect('sf-fay', 'salesforce');
    const records = Array.from({ length: 200 }, (_, i) => ({ LastName: `Batch ${i}`, Company: 'Batchco', Email: `batch${i}@batch.example` }));
    const batch = await app.write('POST', '/api/crm/lead/batch', 'sf-fay', { records });
    expect(batch.status).toBe(200);
    expect(batch.body.action.result).toMatchObject({ object: 'Lead', total: 200, succeeded: 200, failed: 0 });
    expect(app.sandbox.quotaUsage('sf-fay').salesforce.requests).toBeLessThan(10);
    const [stored] = await app.q(`SELECT count(*)::int AS n FROM crm_records WHERE user_id = 'sf-fay' AND company = 'Batchco'`);
    expect(stored!.n).toBe(200);

    const mixed = await app.write('POST', '/api/crm/lead/batch', 'sf-fay', {
      records: [{ LastName: 'Good', Company: 'Mix' }, { Company: 'Mix' }, { LastName: 'Also good', Company: 'Mix' }],
    });
    expect(mixed.status).toBe(200);
    const results = mixed.body.action.result.results;
    expect(results.map((r: any) => r.success)).toEqual([true, false, true]);
    expect(results[1].errors[0]).toMatchObject({ status: 422, details: [{ path: 'LastName', salesforceCode: 'REQUIRED_FIELD_MISSING' }] });
    expect(inOrg('sf-fay', 'Lead', 'Company', 'Mix')).toHaveLength(2);

    const allOrNone = await app.write('POST', '/api/crm/lead/batch', 'sf-fay', { allOrNone: true, records: [{ LastName: 'A', Company: 'All' }, { Company: 'All' }] });
    expect(allOrNone.body.action.result.succeeded).toBe(0);
    expect(inOrg('sf-fay', 'Lead', 'Company', 'All')).toHaveLength(0);

    const tooMany = await app.write('POST', '/api/crm/lead/batch', 'sf-fay', { records: [...records, records[0]] });
    expect(tooMany.status).toBe(400);
  });
});

describe('CRM actions, exactly once', () => {
  const faulty = { errorAfterApplyRate: 0.35, hangAfterApplyRate: 0.15, hangMs: 5_000 };

  it('without an External ID field: creates applied and then unanswered are found by their markers, never made twice', async () => {
    await app.connect('sf-gus', 'salesforce');
    app.sandbox.setFaults('salesforce', faulty);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => app.write('POST', '/api/crm/contact', 'sf-gus', { LastName: `Marker ${i}`, Email: `m${i}@marker.example` })),
    );
    const batch = await app.write('POST', '/api/crm/lead/batch', 'sf-gus', {
      records: Array.from({ length: 20 }, (_, i) => ({ LastName: `Marked ${i}`, Company: 'Markers' })),
    });
    expect(app.sandbox.faultStats('salesforce').appliedThenFailed + app.sandbox.faultStats('salesforce').appliedThenHung).toBeGreaterThan(0);
    app.sandbox.setFaults('salesforce', {});
    await app.drain();
    for (let i = 0; i < 6; i++) {
      expect([200, 202]).toContain(answers[i]!.status);
      expect(inOrg('sf-gus', 'Contact', 'LastName', `Marker ${i}`)).toHaveLength(1);
    }
    expect([200, 202]).toContain(batch.status);
    for (let i = 0; i < 20; i++) expect(inOrg('sf-gus', 'Lead', 'LastName', `Marked ${i}`)).toHaveLength(1);
    const statuses = await app.q(`SELECT status, count(*)::int AS n FROM actions WHERE user_id = 'sf-gus' GROUP BY status`);
    expect(statuses).toEqual([{ status: 'succeeded', n: 7 }]);
    const [rows] = await app.q(`SELECT count(*)::int AS n, count(DISTINCT provider_id)::int AS d FROM crm_records WHERE user_id = 'sf-gus' AND (name LIKE 'Marker %' OR name LIKE 'Marked %')`);
    expect(rows).toEqual({ n: 26, d: 26 });
  });

  it('with an External ID field: creates are upserts on it, one record each however often they are sent', async () => {
    await app.connect('sf-hal', 'salesforce');
    await withSettings({ SALESFORCE_EXTERNAL_ID_FIELDS: 'Lead=Switchyard_Key__c,Account=Switchyard_Key__c' }, async () => {
      app.sandbox.setFaults('salesforce', faulty);
      const keys = Array.from({ length: 6 }, (_, i) => `ext-${i}`);
      await Promise.all(keys.map((key, i) => app.write('POST', '/api/crm/lead', 'sf-hal', { LastName: `External ${i}`, Company: 'Ext' }, key)));
      await app.write('POST', '/api/crm/account/batch', 'sf-hal', { records: Array.from({ length: 10 }, (_, i) => ({ Name: `Ext account ${i}` })) }, 'ext-batch');
      app.sandbox.setFaults('salesforce', {});
      await app.drain();
      for (const [i, key] of keys.entries()) {
        expect(inOrg('sf-hal', 'Lead', 'LastName', `External ${i}`).map((r) => r.Switchyard_Key__c)).toEqual([externalIdValue('sf-hal', key)]);
      }
      for (let i = 0; i < 10; i++) {
        expect(inOrg('sf-hal', 'Account', 'Name', `Ext account ${i}`).map((r) => r.Switchyard_Key__c)).toEqual([externalIdValue('sf-hal', 'ext-batch', i)]);
      }
      const statuses = await app.q(`SELECT status, count(*)::int AS n FROM actions WHERE user_id = 'sf-hal' GROUP BY status`);
      expect(statuses).toEqual([{ status: 'succeeded', n: 7 }]);
    });
  });
});
