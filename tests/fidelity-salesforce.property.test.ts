import fc from 'fast-check';
import { it } from 'vitest';
import { checkHistories, FIDELITY_RUNS, historyArb, pickNth, useFidelityApp, type FidelityModel } from './helpers/fidelity';
import * as truth from './helpers/truth-salesforce';
import { OBJECTS, type CrmObject } from './helpers/truth-salesforce';

/**
 * Salesforce under random histories: Leads, Contacts, Accounts and Opportunities created, edited and
 * deleted; records sharing one SystemModstamp (a bulk job's second, which Salesforce stamps in whole
 * seconds); a change that committed late, stamped in the second of the newest change already there or
 * a few seconds before; interleaved with sync runs under 5xx, 429, hangs, an expired session, a lapsed lease or a
 * SIGKILLed runner (Salesforce keeps no cursor of its own to go stale). See tests/helpers/fidelity.ts.
 */
const sync = useFidelityApp('salesforce');
const { app, query } = sync;

type Change =
  | { kind: 'create'; object: CrmObject; n: number }
  | { kind: 'edit'; object: CrmObject; target: number; n: number }
  | { kind: 'delete'; object: CrmObject; target: number }
  | { kind: 'sameStamp'; object: CrmObject; targets: number[] }
  | { kind: 'lateCommit'; object: CrmObject; target: number; n: number; secondsBack: number };

const object = fc.constantFrom(...OBJECTS);
const create = fc.record({ kind: fc.constant('create' as const), object, n: fc.nat(99) });
const change: fc.Arbitrary<Change> = fc.oneof(
  create,
  fc.record({ kind: fc.constant('edit' as const), object, target: fc.nat(), n: fc.nat(99) }),
  fc.record({ kind: fc.constant('delete' as const), object, target: fc.nat() }),
  fc.record({ kind: fc.constant('sameStamp' as const), object, targets: fc.array(fc.nat(), { minLength: 2, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('lateCommit' as const), object, target: fc.nat(), n: fc.nat(99), secondsBack: fc.integer({ min: 0, max: 9 }) }),
);

/** A new record's fields, or a change to one's, numbered `n`. */
function fields(object: CrmObject, n: number, creating: boolean): Record<string, unknown> {
  switch (object) {
    case 'Lead':
      return { ...(creating ? { LastName: `Lead ${n}`, Company: `Company ${n}` } : {}), Title: `Title ${n}`, Status: n % 2 ? 'Working - Contacted' : 'Open - Not Contacted' };
    case 'Contact':
      return { ...(creating ? { LastName: `Contact ${n}` } : {}), Title: `Title ${n}`, Phone: `+1 555 01${String(n).padStart(2, '0')}` };
    case 'Account':
      return { ...(creating ? { Name: `Account ${n}` } : {}), Industry: n % 2 ? 'Banking' : 'Retail', Website: `https://a${n}.example` };
    case 'Opportunity':
      return {
        ...(creating ? { Name: `Deal ${n}`, CloseDate: '2027-03-31' } : {}),
        StageName: n % 2 ? 'Prospecting' : 'Negotiation/Review',
        Amount: 1_000 + n * 10.5,
      };
  }
}

const SECOND = 1_000;
/** Per account and object, the newest SystemModstamp a change has had (see lateCommit). */
const newestStamp = new Map<string, number>();

const model: FidelityModel<Change> = {
  provider: 'salesforce',
  apply(userId, c) {
    const store = app.sandbox.salesforce;
    const ids = store.ids(userId, c.object).sort();
    const pick = (n: number) => pickNth(ids, n);
    switch (c.kind) {
      case 'create':
        store.createRecord(userId, c.object, fields(c.object, c.n, true));
        return;
      case 'edit': {
        const id = pick(c.target);
        if (id) store.updateRecord(userId, c.object, id, fields(c.object, c.n, false));
        return;
      }
      case 'delete': {
        const id = pick(c.target);
        if (id) store.deleteRecord(userId, c.object, id);
        return;
      }
      case 'sameStamp': {
        const targets = [...new Set(c.targets.map(pick).filter((id): id is string => id !== undefined))];
        if (targets.length > 0) store.touchMany(userId, c.object, targets, Math.floor(Date.now() / SECOND) * SECOND);
        return;
      }
      case 'lateCommit': {
        // Committed after the newest change of the object may have been read (the cursor is at most
        // there), stamped in that change's second or up to 9 s before it: within what
        // SALESFORCE_SYNC_LOOKBACK_SECONDS (10) promises to re-read. The newest change ever, not the
        // newest stamp now: a late commit re-stamps its record back in time.
        const id = pick(c.target);
        if (!id) return;
        const newest = Math.max(
          newestStamp.get(`${userId} ${c.object}`) ?? 0,
          ...truth.sandboxRecords(app.sandbox, userId, c.object, true).map((r) => truth.instant(r.SystemModstamp).getTime()),
        );
        newestStamp.set(`${userId} ${c.object}`, newest);
        const stampedAt = (Math.floor(newest / SECOND) - c.secondsBack) * SECOND;
        store.updateRecord(userId, c.object, id, fields(c.object, c.n, false), { stampedAt });
        return;
      }
    }
  },
  truth: (userId) => truth.salesforceTruth(app.sandbox, userId),
  stored: (connectionId) => truth.storedCrm(query, connectionId),
};

it(`salesforce: ${FIDELITY_RUNS} random histories of record changes, sync runs and faults end with the tables equal to the org`, { timeout: 60_000 + FIDELITY_RUNS * 3_000 }, async () => {
  await checkHistories(sync, model, historyArb(fc.array(create, { maxLength: 6 }), change, { staleCursor: false }));
});
