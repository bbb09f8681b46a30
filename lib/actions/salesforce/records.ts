import type { Connection as SalesforceConnection } from 'jsforce';
import { z } from 'zod';
import { crmObjects, type Connection, type CrmObject } from '../../../db/schema';
import { config } from '../../config';
import { salesforceConnection, salesforceError } from '../../providers/salesforce';
import { selectedFields, toCrmRow, type CrmRow } from '../../sync/salesforce/objects';
import { storePage } from '../../sync/salesforce/store';
import { keyDigest } from '../idempotency';
import { ActionFailure, defineTool, type ActionContext, type ActionOutcome } from '../types';
import { answerFor, refusalOf, type SalesforceErrorItem } from './errors';

/**
 * Salesforce's `crm.create`, `crm.update` and `crm.batch_create` on Lead, Contact, Account and
 * Opportunity. Records are Salesforce's own fields (`{"LastName": .., "Company": .., "Email": ..}`);
 * Salesforce decides what is required and valid, and its refusals are answered as ./errors.ts says.
 *
 * Exactly once, two ways:
 * - an External ID field configured for the object (SALESFORCE_EXTERNAL_ID_FIELDS): creates are upserts
 *   by that field, its value derived from the action's key, so Salesforce itself makes a repeat an
 *   update of the same record (sObject Collections upsert for batches);
 * - otherwise: the attempt's start is recorded before the create, the created id the moment Salesforce
 *   answers; an attempt that finds a start but no id (the answer was lost: a timeout, a 5xx, a runner
 *   killed) first looks the record up by its marker, the fields that identify it (a Lead's LastName,
 *   Company and Email...) created since that start, and creates it only if it is not there.
 */

const value = z.union([z.string().max(131_072), z.number(), z.boolean(), z.null()]);
const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,79}$/, 'expected a Salesforce field name');
const fields = z.record(fieldName, value).refine((record) => Object.keys(record).length > 0, 'give at least one field');
const object = z.enum(crmObjects);
const salesforceId = z.string().regex(/^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/, 'expected a 15- or 18-character Salesforce id');

export const crmCreateInput = z.strictObject({ object, fields });
export const crmUpdateInput = z.strictObject({ object, id: salesforceId, fields });
export const crmBatchInput = z.strictObject({
  object,
  records: z.array(fields).min(1).max(200, 'sObject Collections take at most 200 records a call'),
  /** Salesforce's allOrNone: one refused record rolls back the others. */
  allOrNone: z.boolean().default(false),
});
export type CrmCreateInput = z.infer<typeof crmCreateInput>;
export type CrmUpdateInput = z.infer<typeof crmUpdateInput>;
export type CrmBatchInput = z.infer<typeof crmBatchInput>;

/** The fields that identify a new record of each object: its marker when no External ID field is configured. */
const MARKER_FIELDS: Record<CrmObject, readonly string[]> = {
  Lead: ['LastName', 'FirstName', 'Company', 'Email'],
  Contact: ['LastName', 'FirstName', 'Email', 'AccountId'],
  Account: ['Name', 'Website'],
  Opportunity: ['Name', 'AccountId', 'CloseDate', 'StageName'],
};

/** Salesforce's clock and ours may differ; a lost create is looked for from this long before the attempt. */
const CLOCK_SKEW_MS = 5 * 60_000;

function refuseIdFields(record: Record<string, unknown>, path: string) {
  const bad = Object.keys(record).filter((k) => k.toLowerCase() === 'id' || k.toLowerCase() === 'attributes');
  if (bad.length) {
    throw new ActionFailure({
      status: 422,
      code: 'unprocessable',
      message: `${bad.join(', ')} cannot be set on a new record`,
      details: bad.map((field) => ({ path: `${path}${field}`, message: 'set by Salesforce' })),
    });
  }
}

/** SALESFORCE_EXTERNAL_ID_FIELDS as a map: the object's External ID field, if one is configured. */
export function externalIdField(object: CrmObject): string | undefined {
  const configured = config().SALESFORCE_EXTERNAL_ID_FIELDS;
  if (!configured) return undefined;
  for (const pair of configured.split(',')) {
    const [name, field] = pair.split('=');
    if (name === object) return field;
  }
  return undefined;
}

/** The External ID value of an action's record (of a batch's `index`th): hex of the digest of the user's key. */
export function externalIdValue(userId: string, idempotencyKey: string, index?: number): string {
  const base = keyDigest(userId, idempotencyKey).subarray(0, 16).toString('hex');
  return index === undefined ? base : `${base}-${index}`;
}

interface RecordState {
  /** When the first create was sent (ms): a lost one is looked for from then. */
  since: number;
  /** crm.create: the created record. */
  recordId: string;
  /** crm.batch_create: each record's outcome, recorded the moment Salesforce answered. */
  results: BatchResult[];
}

export interface BatchResult {
  index: number;
  success: boolean;
  id: string | null;
  created?: boolean;
  errors?: ReturnType<typeof answerFor>[];
}

type Context<I> = ActionContext<I, RecordState>;

/** One Salesforce REST request through the action's policy (1 request of the user's budget). */
async function sfRequest<T, I>(context: Context<I>, method: string, path: string, body?: unknown): Promise<T> {
  return context.request(1, async (accessToken) => {
    const instanceUrl = await context.instanceUrl();
    const connection: SalesforceConnection = salesforceConnection({ instanceUrl, accessToken });
    try {
      return await connection.request<T>({
        method: method as 'GET',
        url: `/services/data/v${config().SALESFORCE_API_VERSION}${path}`,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
      });
    } catch (error) {
      throw salesforceError(error, connection);
    }
  });
}

async function refusing<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw refusalOf(error);
  }
}

const soqlLiteral = (v: unknown): string | null => {
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v !== 'string') return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v; // a date field (CloseDate): an unquoted literal
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
};

/** The records created since `since` whose marker fields are these values (the newest first). */
async function findByMarker<I>(context: Context<I>, object: CrmObject, record: Record<string, unknown>, since: number): Promise<string[]> {
  const conditions = MARKER_FIELDS[object]
    .filter((field) => field in record)
    .map((field) => {
      const literal = soqlLiteral(record[field]);
      return literal === null ? null : `${field} = ${literal}`;
    })
    .filter((c): c is string => c !== null);
  if (conditions.length === 0) return [];
  const from = new Date(since - CLOCK_SKEW_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const soql = `SELECT Id FROM ${object} WHERE CreatedDate >= ${from} AND ${conditions.join(' AND ')} ORDER BY CreatedDate DESC LIMIT 200`;
  const answer = await sfRequest<{ records: { Id: string }[] }, I>(context, 'GET', `/query?q=${encodeURIComponent(soql)}`);
  return answer.records.map((r) => r.Id);
}

/** Reads records back with the fields the sync stores, to write them as the sync would. */
async function readBack<I>(context: Context<I>, object: CrmObject, ids: string[]): Promise<CrmRow[]> {
  if (ids.length === 0) return [];
  const fieldList = selectedFields(object);
  const records =
    ids.length === 1
      ? [await sfRequest<Record<string, unknown>, I>(context, 'GET', `/sobjects/${object}/${ids[0]}?fields=${fieldList.join(',')}`)]
      : await sfRequest<(Record<string, unknown> | null)[], I>(context, 'POST', `/composite/sobjects/${object}`, { ids, fields: fieldList });
  return records.filter((r): r is Record<string, unknown> => !!r).map((r) => toCrmRow(object, r));
}

function storeRows(connection: Connection, object: CrmObject, rows: CrmRow[]): ActionOutcome['store'] {
  return async (tx) => {
    if (rows.length > 0) await storePage(tx, { connection, object, rows });
  };
}

export const crmCreate = defineTool<CrmCreateInput, RecordState>({
  name: 'crm.create',
  provider: 'salesforce',
  input: crmCreateInput,
  async run(context): Promise<ActionOutcome> {
    const { object, fields } = context.input;
    refuseIdFields(fields, '');
    let id = context.state.recordId;
    const externalField = externalIdField(object);
    if (!id && externalField) {
      const key = externalIdValue(context.action.userId, context.action.idempotencyKey);
      const answer = await refusing(
        sfRequest<{ id: string } | undefined, CrmCreateInput>(
          context,
          'PATCH',
          `/sobjects/${object}/${externalField}/${encodeURIComponent(key)}`,
          fields,
        ),
      );
      // Salesforce answers 201 with the id (200 when the key existed: a repeat); an old API version 204.
      id = answer?.id ?? (await findByExternalId(context, object, externalField, key));
      await context.record({ recordId: id });
    } else if (!id) {
      const since = context.state.since;
      if (since !== undefined) [id] = await findByMarker(context, object, fields, since);
      if (!id) {
        if (since === undefined) await context.record({ since: Date.now() });
        const answer = await refusing(sfRequest<{ id: string }, CrmCreateInput>(context, 'POST', `/sobjects/${object}`, fields));
        id = answer.id;
      }
      await context.record({ recordId: id });
    }
    const rows = await readBack(context, object, [id!]);
    return { result: { id, object, record: rows[0]?.fields ?? null }, store: storeRows(context.connection, object, rows) };
  },
});

async function findByExternalId<I>(context: Context<I>, object: CrmObject, field: string, key: string): Promise<string> {
  const record = await sfRequest<{ Id: string }, I>(context, 'GET', `/sobjects/${object}/${field}/${encodeURIComponent(key)}?fields=Id`);
  return record.Id;
}

export const crmUpdate = defineTool<CrmUpdateInput, RecordState>({
  name: 'crm.update',
  provider: 'salesforce',
  input: crmUpdateInput,
  /** A PATCH sets values: sent twice, it changes nothing more. */
  async run(context): Promise<ActionOutcome> {
    const { object, id, fields } = context.input;
    if (Object.keys(fields).some((k) => k.toLowerCase() === 'attributes')) {
      throw new ActionFailure({ status: 422, code: 'unprocessable', message: 'attributes cannot be set', details: [{ path: 'attributes', message: 'not a field' }] });
    }
    await refusing(sfRequest<undefined, CrmUpdateInput>(context, 'PATCH', `/sobjects/${object}/${id}`, fields));
    const rows = await readBack(context, object, [id]);
    return { result: { id: rows[0]?.providerId ?? id, object, record: rows[0]?.fields ?? null }, store: storeRows(context.connection, object, rows) };
  },
});

interface CollectionAnswer {
  id?: string | null;
  success: boolean;
  created?: boolean;
  errors?: SalesforceErrorItem[];
}

export const crmBatchCreate = defineTool<CrmBatchInput, RecordState>({
  name: 'crm.batch_create',
  provider: 'salesforce',
  input: crmBatchInput,
  /** One sObject Collections call (at most 200 records); the answer reports each record's outcome. */
  async run(context): Promise<ActionOutcome> {
    const { object, records, allOrNone } = context.input;
    records.forEach((record, i) => refuseIdFields(record, `records.${i}.`));
    let results = context.state.results;
    if (!results) {
      const externalField = externalIdField(object);
      if (externalField) {
        const body = {
          allOrNone,
          records: records.map((record, i) => ({
            attributes: { type: object },
            ...record,
            [externalField]: externalIdValue(context.action.userId, context.action.idempotencyKey, i),
          })),
        };
        const answers = await refusing(sfRequest<CollectionAnswer[], CrmBatchInput>(context, 'PATCH', `/composite/sobjects/${object}/${externalField}`, body));
        results = answers.map((answer, index) => toResult(answer, index));
      } else {
        results = await createByMarker(context, object, records, allOrNone);
      }
      await context.record({ results });
    }
    const rows = await readBack(context, object, results.filter((r) => r.success && r.id).map((r) => r.id!));
    const succeeded = results.filter((r) => r.success).length;
    return {
      result: { object, total: results.length, succeeded, failed: results.length - succeeded, results },
      store: storeRows(context.connection, object, rows),
    };
  },
});

function toResult(answer: CollectionAnswer, index: number): BatchResult {
  return answer.success
    ? { index, success: true, id: answer.id ?? null, created: answer.created ?? true }
    : { index, success: false, id: answer.id ?? null, errors: [answerFor(answer.errors ?? [])] };
}

/**
 * Without an External ID field: records a lost attempt created are found by their markers; the rest
 * are created in one call, whose answer is recorded at once.
 */
async function createByMarker(
  context: Context<CrmBatchInput>,
  object: CrmObject,
  records: CrmBatchInput['records'],
  allOrNone: boolean,
): Promise<BatchResult[]> {
  const found = new Map<number, string>();
  const since = context.state.since;
  if (since !== undefined) {
    const taken = new Set<string>();
    for (const [index, record] of records.entries()) {
      const match = (await findByMarker(context, object, record, since)).find((id) => !taken.has(id));
      if (match) {
        found.set(index, match);
        taken.add(match);
      }
    }
  } else {
    await context.record({ since: Date.now() });
  }
  const missing = records.map((record, index) => ({ record, index })).filter(({ index }) => !found.has(index));
  const answers =
    missing.length === 0
      ? []
      : await refusing(
          sfRequest<CollectionAnswer[], CrmBatchInput>(context, 'POST', '/composite/sobjects', {
            allOrNone,
            records: missing.map(({ record }) => ({ attributes: { type: object }, ...record })),
          }),
        );
  const results: BatchResult[] = records.map((_, index) => ({ index, success: true, id: found.get(index) ?? null, created: true }));
  missing.forEach(({ index }, i) => {
    results[index] = toResult(answers[i] ?? { success: false, errors: [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'no answer for this record' }] }, index);
  });
  return results;
}

export const salesforceActions = {
  [crmCreate.name]: crmCreate,
  [crmUpdate.name]: crmUpdate,
  [crmBatchCreate.name]: crmBatchCreate,
} as const;
