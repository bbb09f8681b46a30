import type { Connection as SalesforceConnection } from 'jsforce';
import { z } from 'zod';
import { crmObjects, type Connection, type CrmObject } from '../../../db/schema';
import { config } from '../../config';
import { salesforceConnection, salesforceError } from '../../providers/salesforce';
import { salesforceIdSchema } from '../../providers/salesforce-id';
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

export const crmCreateInput = z.strictObject({ object, fields });
export const crmUpdateInput = z.strictObject({ object, id: salesforceIdSchema, fields });
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

/** A request on the connection of the try under way. */
type Send = <U>(method: string, path: string, body?: unknown) => Promise<U>;

/**
 * Runs `work` through the action's policy (paced as 1 request of the user's budget; timeout, retries,
 * breaker, one token refresh), with `send` on a connection for the current token. `work` is told which
 * try this is: the policy retries a request that timed out or failed with a 5xx, which Salesforce may
 * have applied all the same.
 */
function onSalesforce<T, I>(context: Context<I>, work: (send: Send, tryNumber: number) => Promise<T>): Promise<T> {
  let tries = 0;
  return context.request(1, async (accessToken) => {
    const instanceUrl = await context.instanceUrl();
    const connection: SalesforceConnection = salesforceConnection({ instanceUrl, accessToken });
    const send: Send = (method, path, body) =>
      connection.request({
        method: method as 'GET',
        url: `/services/data/v${config().SALESFORCE_API_VERSION}${path}`,
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
      });
    try {
      return await work(send, ++tries);
    } catch (error) {
      throw salesforceError(error, connection);
    }
  });
}

/** One Salesforce REST request (safe to repeat: a read, an update, an upsert). */
function sfRequest<T, I>(context: Context<I>, method: string, path: string, body?: unknown): Promise<T> {
  return onSalesforce(context, (send) => send<T>(method, path, body));
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

/** A record's marker: its identifying fields that it sets, as SOQL conditions. */
function markerConditions(object: CrmObject, record: Record<string, unknown>): string[] {
  return MARKER_FIELDS[object]
    .filter((field) => field in record)
    .map((field) => {
      const literal = soqlLiteral(record[field]);
      return literal === null ? null : `${field} = ${literal}`;
    })
    .filter((c): c is string => c !== null);
}

/**
 * For each record, the id of one created since `since` with its marker (each id used once), or
 * undefined: what an earlier try that went unanswered created. One SOQL query for all of them.
 */
async function findByMarkers(send: Send, object: CrmObject, records: Record<string, unknown>[], since: number): Promise<(string | undefined)[]> {
  const markers = records.map((record) => markerConditions(object, record));
  const wanted = markers.filter((conditions) => conditions.length > 0);
  if (wanted.length === 0) return records.map(() => undefined);
  const from = new Date(since - CLOCK_SKEW_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const fields = MARKER_FIELDS[object];
  const soql =
    `SELECT Id, ${fields.join(', ')} FROM ${object} WHERE CreatedDate >= ${from} AND ` +
    `(${[...new Set(wanted.map((conditions) => `(${conditions.join(' AND ')})`))].join(' OR ')}) ORDER BY CreatedDate, Id LIMIT 2000`;
  const { records: created } = await send<{ records: Record<string, unknown>[] }>('GET', `/query?q=${encodeURIComponent(soql)}`);
  const taken = new Set<string>();
  return records.map((record, index) => {
    if (markers[index]!.length === 0) return undefined;
    const match = created.find(
      (row) =>
        !taken.has(row.Id as string) &&
        fields.filter((field) => field in record).every((field) => String(row[field] ?? '').toLowerCase() === String(record[field] ?? '').toLowerCase()),
    );
    if (!match) return undefined;
    taken.add(match.Id as string);
    return match.Id as string;
  });
}

/**
 * Creates the records (one POST, or one sObject Collections call) exactly once: when an earlier try
 * may have created some without the answer arriving (`lookFirst` for a new attempt after one that
 * started creating; always for the policy's retries), those are found by their markers and only the
 * others are sent. A record an applied try refused is sent again and refused again, as it should be.
 */
function createOnce<I>(
  context: Context<I>,
  object: CrmObject,
  records: Record<string, unknown>[],
  since: number,
  options: { single: boolean; allOrNone: boolean; lookFirst: boolean },
): Promise<CollectionAnswer[]> {
  return refusing(
    onSalesforce(context, async (send, tryNumber) => {
      const found = options.lookFirst || tryNumber > 1 ? await findByMarkers(send, object, records, since) : records.map(() => undefined);
      const missing = records.map((record, index) => ({ record, index })).filter(({ index }) => !found[index]);
      let answers: CollectionAnswer[] = [];
      if (missing.length > 0 && options.single) {
        const created = await send<{ id: string }>('POST', `/sobjects/${object}`, missing[0]!.record);
        answers = [{ id: created.id, success: true, created: true }];
      } else if (missing.length > 0) {
        answers = await send<CollectionAnswer[]>('POST', '/composite/sobjects', {
          allOrNone: options.allOrNone,
          records: missing.map(({ record }) => ({ attributes: { type: object }, ...record })),
        });
      }
      const byIndex = new Map(missing.map(({ index }, i) => [index, answers[i]]));
      return records.map(
        (_, index): CollectionAnswer =>
          found[index]
            ? { id: found[index]!, success: true, created: true }
            : (byIndex.get(index) ?? { success: false, errors: [{ statusCode: 'UNKNOWN_EXCEPTION', message: 'no answer for this record' }] }),
      );
    }),
  );
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
      const started = context.state.since;
      const since = started ?? Date.now();
      if (started === undefined) await context.record({ since });
      const [answer] = await createOnce(context, object, [fields], since, { single: true, allOrNone: true, lookFirst: started !== undefined });
      id = answer!.id ?? undefined;
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
 * Without an External ID field: the attempt's start is recorded, then the records are created once
 * (createOnce), and their outcomes are recorded as soon as Salesforce answers.
 */
async function createByMarker(
  context: Context<CrmBatchInput>,
  object: CrmObject,
  records: CrmBatchInput['records'],
  allOrNone: boolean,
): Promise<BatchResult[]> {
  const started = context.state.since;
  const since = started ?? Date.now();
  if (started === undefined) await context.record({ since });
  const answers = await createOnce(context, object, records, since, { single: false, allOrNone, lookFirst: started !== undefined });
  return answers.map((answer, index) => toResult(answer, index));
}

export const salesforceActions = {
  [crmCreate.name]: crmCreate,
  [crmUpdate.name]: crmUpdate,
  [crmBatchCreate.name]: crmBatchCreate,
} as const;
