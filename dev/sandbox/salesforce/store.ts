/**
 * Salesforce REST sandbox store: an in-memory, per-account org with Lead / Contact / Account / Opportunity,
 * a SOQL subset (query, queryAll, nextRecordsUrl paging), sobject CRUD, composite collections,
 * getDeleted / getUpdated, describe, and Salesforce's error bodies ([{message, errorCode, fields}]).
 */
import { generateData, newGenContext, nextId, type GenContext } from './generator';
import {
  OBJECTS,
  OBJECTS_BY_LOWER,
  OBJECT_BY_PREFIX,
  SF_ID_PATTERN,
  applyDerived,
  describeObject,
  makeSfId,
  stageProbability,
  type SfFieldDef,
  type SfObjectDef,
  type SfRecord,
} from './schema';
import {
  SoqlError,
  compileQuery,
  formatSfDatetime,
  orderComparator,
  parseSoql,
  positionedError,
  sfId18,
  type FieldRef,
  type ResolvedField,
} from './soql';

export const SF_DEFAULT_VERSION = '59.0';
const CURSOR_IDLE_MS = 15 * 60_000;

/** One Salesforce REST error: what the API sends (as a JSON array of these). */
export interface SalesforceError {
  message: string;
  errorCode: string;
  fields?: string[];
  [k: string]: unknown;
}

export class SalesforceApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: SalesforceError[],
  ) {
    super(errors[0]?.message ?? 'Salesforce error');
    this.name = 'SalesforceApiError';
  }
  get errorCode(): string {
    return this.errors[0]?.errorCode ?? 'UNKNOWN_EXCEPTION';
  }
}

export const sfErr = (status: number, errorCode: string, message: string, fields?: string[], extra: Record<string, unknown> = {}) =>
  new SalesforceApiError(status, [{ message, errorCode, ...(fields ? { fields } : {}), ...extra }]);
export const notFound = () => sfErr(404, 'NOT_FOUND', 'The requested resource does not exist');

export interface SalesforceAccountOptions {
  leads?: number;
  contacts?: number;
  accounts?: number;
  opportunities?: number;
}

export interface SalesforceStoreOptions {
  /** clock (epoch ms); defaults to Date.now */
  now?: () => number;
  /** open query cursors kept per store (oldest evicted -> INVALID_QUERY_LOCATOR) */
  maxCursors?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Sorted index over (datetime field, Id)

const INDEXED_FIELDS = ['SystemModstamp', 'LastModifiedDate'] as const;

function keyCmp(av: number, aid: string, bv: number, bid: string): number {
  if (av !== bv) return av < bv ? -1 : 1;
  return aid < bid ? -1 : aid > bid ? 1 : 0;
}

/** First position whose (value, id) >= (v, id). */
function lowerBoundIdx(arr: SfRecord[], field: string, v: number, id = ''): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const r = arr[mid]!;
    if (keyCmp(r[field] as number, r.Id as string, v, id) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position whose value > v. */
function upperBoundIdx(arr: SfRecord[], field: string, v: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid]![field] as number) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Table {
  obj: SfObjectDef;
  /** insertion order == Id order (ids are generated monotonically) */
  byId: Map<string, SfRecord>;
  indexes: Map<string, SfRecord[]>;
  /** Lead only: lower-cased Email -> ids of live leads */
  emails?: Map<string, Set<string>>;
  deletedAt: Map<string, number>;
}

function indexInsert(t: Table, rec: SfRecord): void {
  for (const [f, arr] of t.indexes) {
    const pos = lowerBoundIdx(arr, f, rec[f] as number, rec.Id as string);
    if (pos === arr.length) arr.push(rec);
    else arr.splice(pos, 0, rec);
  }
  if (t.emails && !rec.IsDeleted && typeof rec.Email === 'string' && rec.Email) {
    const k = rec.Email.toLowerCase();
    let s = t.emails.get(k);
    if (!s) t.emails.set(k, (s = new Set()));
    s.add(rec.Id as string);
  }
}

function indexRemove(t: Table, rec: SfRecord): void {
  for (const [f, arr] of t.indexes) {
    const pos = lowerBoundIdx(arr, f, rec[f] as number, rec.Id as string);
    if (arr[pos] === rec) arr.splice(pos, 1);
    else {
      const at = arr.indexOf(rec); // defensive; should not happen
      if (at >= 0) arr.splice(at, 1);
    }
  }
  if (t.emails && typeof rec.Email === 'string' && rec.Email) {
    const s = t.emails.get(rec.Email.toLowerCase());
    s?.delete(rec.Id as string);
    if (s && s.size === 0) t.emails.delete(rec.Email.toLowerCase());
  }
}

/** Replaces (or inserts) a record; records are immutable so open query cursors keep their snapshot. */
function put(t: Table, rec: SfRecord): void {
  const old = t.byId.get(rec.Id as string);
  if (old) indexRemove(t, old);
  t.byId.set(rec.Id as string, rec);
  indexInsert(t, rec);
}

function unput(t: Table, id: string): void {
  const old = t.byId.get(id);
  if (!old) return;
  indexRemove(t, old);
  t.byId.delete(id);
}

interface Org {
  account: string;
  gen: GenContext;
  tables: Map<string, Table>;
  createdAt: number;
}

interface Cursor {
  id: string;
  account: string;
  rows: SfRecord[];
  project: (r: SfRecord, version: string) => SfRecord;
  totalSize: number;
  batchSize: number;
  lastUsed: number;
}

type Undo = { t: Table; id: string; prev: SfRecord | undefined; prevDeletedAt: number | undefined };

export interface QueryResult {
  totalSize: number;
  done: boolean;
  records: SfRecord[];
  nextRecordsUrl?: string;
}

export interface SaveResult {
  id?: string;
  success: boolean;
  /** Upserts: whether the record was created (true) or the key matched one that was updated (false). */
  created?: boolean;
  errors: { statusCode: string; message: string; fields: string[]; [k: string]: unknown }[];
}

// ---------------------------------------------------------------------------------------------------------

export class SalesforceStore {
  private readonly orgs = new Map<string, Org>();
  private readonly cursors = new Map<string, Cursor>();
  private cursorCounter = 0;
  private readonly clock: () => number;
  /** A change's time, set by `stampedAt` for the one change being made (see createRecord). */
  private stamp: number | undefined;
  private readonly maxCursors: number;

  constructor(
    readonly seed: number,
    opts: SalesforceStoreOptions = {},
  ) {
    this.clock = opts.now ?? Date.now;
    this.maxCursors = opts.maxCursors ?? 100;
  }

  /** Creates the account's org with deterministic data from (seed, account); later calls are no-ops. */
  ensureAccount(account: string, opts: SalesforceAccountOptions = {}): void {
    if (this.orgs.has(account)) return;
    const now = this.now();
    const gen = newGenContext(this.seed, account, now);
    const data = generateData(gen, {
      leads: opts.leads ?? 200,
      contacts: opts.contacts ?? 150,
      accounts: opts.accounts ?? 40,
      opportunities: opts.opportunities ?? 80,
    });
    const tables = new Map<string, Table>();
    for (const obj of OBJECTS.values()) {
      const recs = data.records.get(obj.name) ?? [];
      const t: Table = {
        obj,
        byId: new Map(recs.map((r) => [r.Id as string, r])),
        indexes: new Map(),
        deletedAt: data.deletedAt.get(obj.name) ?? new Map(),
      };
      for (const f of INDEXED_FIELDS) {
        const arr = recs.slice();
        arr.sort((a, b) => keyCmp(a[f] as number, a.Id as string, b[f] as number, b.Id as string));
        t.indexes.set(f, arr);
      }
      if (obj.name === 'Lead') {
        t.emails = new Map();
        for (const r of recs) {
          if (r.IsDeleted || typeof r.Email !== 'string') continue;
          const k = r.Email.toLowerCase();
          let s = t.emails.get(k);
          if (!s) t.emails.set(k, (s = new Set()));
          s.add(r.Id as string);
        }
      }
      tables.set(obj.name, t);
    }
    this.orgs.set(account, { account, gen, tables, createdAt: now });
  }

  hasAccount(account: string): boolean {
    return this.orgs.has(account);
  }

  /** The org's (only) user id, used as OwnerId / CreatedById. */
  ownerId(account: string): string {
    return this.org(account).gen.ownerId;
  }

  private org(account: string): Org {
    const o = this.orgs.get(account);
    if (o) return o;
    this.ensureAccount(account);
    return this.orgs.get(account)!;
  }

  private table(account: string, object: string): Table {
    const obj = OBJECTS_BY_LOWER.get(object.toLowerCase());
    if (!obj) throw notFound();
    return this.org(account).tables.get(obj.name)!;
  }

  // ------------------------------------------------------------------------------------------------------
  // Reads

  /** API-shaped record (attributes + all fields), or undefined; deleted ones only with includeDeleted. */
  getRecord(account: string, object: string, id: string, opts: { includeDeleted?: boolean; version?: string } = {}): SfRecord | undefined {
    const t = this.table(account, object);
    const rec = t.byId.get(sfId18(id));
    if (!rec || (rec.IsDeleted && !opts.includeDeleted)) return undefined;
    return toApi(t.obj, rec, opts.version ?? SF_DEFAULT_VERSION);
  }

  /** Ids in creation order (live ones unless includeDeleted). */
  ids(account: string, object: string, opts: { includeDeleted?: boolean } = {}): string[] {
    const t = this.table(account, object);
    const out: string[] = [];
    for (const r of t.byId.values()) if (opts.includeDeleted || !r.IsDeleted) out.push(r.Id as string);
    return out;
  }

  count(account: string, object: string, opts: { includeDeleted?: boolean } = {}): number {
    const t = this.table(account, object);
    if (opts.includeDeleted) return t.byId.size;
    let n = 0;
    for (const r of t.byId.values()) if (!r.IsDeleted) n++;
    return n;
  }

  // ------------------------------------------------------------------------------------------------------
  // Writes (all validate like Salesforce and throw SalesforceApiError)

  now(): number {
    return this.stamp ?? this.clock();
  }

  /**
   * `stampedAt` gives the change this SystemModstamp (and CreatedDate/LastModifiedDate) instead of the
   * clock's: a transaction that took its timestamp then and commits only now (Salesforce stamps at the
   * start, so a late commit appears behind rows already read), or a second change within the same
   * second as another (SystemModstamp has one-second resolution).
   */
  createRecord(account: string, object: string, fields: Record<string, unknown>, opts: { version?: string; stampedAt?: Date | number | string } = {}): SfRecord {
    const t = this.table(account, object);
    const id = this.stamped(opts.stampedAt, () => this.insert(account, t, fields, opts.version ?? SF_DEFAULT_VERSION));
    return toApi(t.obj, t.byId.get(id)!, opts.version ?? SF_DEFAULT_VERSION);
  }

  updateRecord(account: string, object: string, id: string, fields: Record<string, unknown>, opts: { version?: string; stampedAt?: Date | number | string } = {}): SfRecord {
    const t = this.table(account, object);
    const rid = this.stamped(opts.stampedAt, () => this.update(account, t, id, fields, opts.version ?? SF_DEFAULT_VERSION));
    return toApi(t.obj, t.byId.get(rid)!, opts.version ?? SF_DEFAULT_VERSION);
  }

  private stamped<T>(at: Date | number | string | undefined, change: () => T): T {
    if (at === undefined) return change();
    const ms = typeof at === 'number' ? at : new Date(at).getTime();
    if (!Number.isFinite(ms)) throw new Error(`stampedAt: invalid date ${String(at)}`);
    this.stamp = ms;
    try {
      return change();
    } finally {
      this.stamp = undefined;
    }
  }

  /** Soft-deletes (recycle bin: IsDeleted, visible to queryAll and /deleted). Accounts cascade to contacts and opportunities. */
  deleteRecord(account: string, object: string, id: string): void {
    const t = this.table(account, object);
    this.remove(account, t, id);
  }

  /**
   * Test helper: gives the records exactly this SystemModstamp (and LastModifiedDate), as when a bulk job
   * touches many rows in the same millisecond, so pagers can be tested on ties across page boundaries.
   */
  touchMany(account: string, object: string, ids: string[], at: Date | number | string): void {
    const t = this.table(account, object);
    const ms = typeof at === 'number' ? at : new Date(at).getTime();
    if (!Number.isFinite(ms)) throw new Error(`touchMany: invalid date ${String(at)}`);
    for (const raw of ids) {
      const id = sfId18(raw);
      const old = t.byId.get(id);
      if (!old) throw new Error(`touchMany: no ${t.obj.name} ${id}`);
      put(t, { ...old, SystemModstamp: ms, LastModifiedDate: ms });
    }
  }

  private insert(account: string, t: Table, body: Record<string, unknown>, version: string, undo?: Undo[]): string {
    const org = this.org(account);
    const values = this.validate(org, t, body, 'create', version);
    const now = this.now();
    const rec: SfRecord = {};
    for (const f of t.obj.fields) rec[f.name] = null;
    Object.assign(rec, values);
    rec.Id = nextId(org.gen, t.obj);
    rec.IsDeleted = false;
    rec.CreatedDate = now;
    rec.CreatedById = org.gen.ownerId;
    rec.LastModifiedDate = now;
    rec.LastModifiedById = org.gen.ownerId;
    rec.SystemModstamp = now;
    if (rec.OwnerId == null) rec.OwnerId = org.gen.ownerId;
    if (t.obj.name === 'Lead') {
      rec.Status ??= 'Open - Not Contacted';
      rec.IsConverted ??= false;
    }
    if (t.obj.name === 'Opportunity' && !('Probability' in values)) rec.Probability = stageProbability(rec.StageName);
    applyDerived(t.obj, rec);
    this.checkExternalIds(t, rec);
    this.checkDuplicates(t, rec, version);
    undo?.push({ t, id: rec.Id as string, prev: undefined, prevDeletedAt: undefined });
    put(t, rec);
    return rec.Id as string;
  }

  private live(t: Table, rawId: string): SfRecord {
    const id = SF_ID_PATTERN.test(rawId) ? sfId18(rawId) : '';
    const rec = id ? t.byId.get(id) : undefined;
    if (!rec) throw notFound();
    if (rec.IsDeleted) throw sfErr(404, 'ENTITY_IS_DELETED', 'entity is deleted', []);
    return rec;
  }

  private update(account: string, t: Table, rawId: string, body: Record<string, unknown>, version: string, undo?: Undo[]): string {
    const org = this.org(account);
    const old = this.live(t, rawId);
    const values = this.validate(org, t, body, 'update', version);
    const now = this.now();
    const rec: SfRecord = { ...old, ...values, LastModifiedDate: now, LastModifiedById: org.gen.ownerId, SystemModstamp: now };
    if (t.obj.name === 'Opportunity' && 'StageName' in values && !('Probability' in values)) rec.Probability = stageProbability(rec.StageName);
    applyDerived(t.obj, rec);
    this.checkExternalIds(t, rec);
    if ('Email' in values) this.checkDuplicates(t, rec, version);
    undo?.push({ t, id: old.Id as string, prev: old, prevDeletedAt: undefined });
    put(t, rec);
    return old.Id as string;
  }

  private remove(account: string, t: Table, rawId: string, undo?: Undo[]): string {
    const org = this.org(account);
    const old = this.live(t, rawId);
    const now = this.now();
    const del = (tab: Table, r: SfRecord) => {
      undo?.push({ t: tab, id: r.Id as string, prev: r, prevDeletedAt: tab.deletedAt.get(r.Id as string) });
      put(tab, { ...r, IsDeleted: true, LastModifiedDate: now, LastModifiedById: org.gen.ownerId, SystemModstamp: now });
      tab.deletedAt.set(r.Id as string, now);
    };
    del(t, old);
    if (t.obj.name === 'Account') {
      for (const child of ['Contact', 'Opportunity']) {
        const ct = org.tables.get(child)!;
        for (const r of [...ct.byId.values()]) if (!r.IsDeleted && r.AccountId === old.Id) del(ct, r);
      }
    }
    return old.Id as string;
  }

  private rollback(undo: Undo[]): void {
    for (let i = undo.length - 1; i >= 0; i--) {
      const u = undo[i]!;
      if (u.prev) put(u.t, u.prev);
      else unput(u.t, u.id);
      if (u.prevDeletedAt === undefined) u.t.deletedAt.delete(u.id);
      else u.t.deletedAt.set(u.id, u.prevDeletedAt);
    }
  }

  private checkDuplicates(t: Table, rec: SfRecord, version: string): void {
    if (!t.emails || typeof rec.Email !== 'string' || !rec.Email) return;
    const ids = [...(t.emails.get(rec.Email.toLowerCase()) ?? [])].filter((id) => id !== rec.Id);
    if (!ids.length) return;
    throw new SalesforceApiError(400, [
      {
        duplicateResult: {
          allowSave: false,
          duplicateRule: 'Standard_Rule_for_Leads_with_Duplicate_Leads',
          duplicateRuleEntityType: 'Lead',
          errorMessage: 'Use one of these records?',
          matchResults: [
            {
              entityType: 'Lead',
              errors: [],
              matchEngine: 'FuzzyMatchEngine',
              matchRecords: ids.map((id) => ({
                additionalInformation: [],
                fieldDiffs: [],
                matchConfidence: 100.0,
                record: { attributes: { type: 'Lead', url: `/services/data/v${version}/sobjects/Lead/${id}` }, Id: id },
              })),
              rule: 'Standard_Lead_Match_Rule_v1_0',
              size: ids.length,
              success: true,
            },
          ],
        },
        errorCode: 'DUPLICATES_DETECTED',
        fields: [],
        message: 'Use one of these records?',
      },
    ]);
  }

  /** External ID fields are unique: another live record with the value is DUPLICATE_VALUE, as Salesforce answers. */
  private checkExternalIds(t: Table, rec: SfRecord): void {
    for (const f of t.obj.fields) {
      const value = rec[f.name];
      if (!f.externalId || value == null || value === '') continue;
      const other = this.byExternalId(t, f.name, String(value)).find((r) => r.Id !== rec.Id);
      if (other) {
        throw sfErr(400, 'DUPLICATE_VALUE', `duplicate value found: ${f.name} duplicates value on record with id: ${other.Id as string}`, [f.name]);
      }
    }
  }

  private byExternalId(t: Table, field: string, value: string): SfRecord[] {
    const out: SfRecord[] = [];
    for (const r of t.byId.values()) if (!r.IsDeleted && r[field] === value) out.push(r);
    return out;
  }

  private externalField(t: Table, field: string) {
    const f = t.obj.byLower.get(field.toLowerCase());
    if (!f || !f.externalId) {
      throw sfErr(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${field}`);
    }
    return f;
  }

  /**
   * Upsert by an External ID (PATCH sobjects/{object}/{field}/{value}): creates the record with the
   * value when no record has it, updates the one that has it; two with it are a 300 (MULTIPLE_CHOICES).
   */
  upsertByExternalId(
    account: string,
    object: string,
    field: string,
    value: string,
    body: Record<string, unknown>,
    opts: { version?: string; undo?: Undo[] } = {},
  ): { id: string; created: boolean } {
    const t = this.table(account, object);
    const f = this.externalField(t, field);
    const version = opts.version ?? SF_DEFAULT_VERSION;
    const { [f.name]: given, ...fields } = Object.fromEntries(Object.entries(body).map(([k, v]) => [t.obj.byLower.get(k.toLowerCase())?.name ?? k, v]));
    if (given !== undefined && given !== value) {
      throw sfErr(400, 'INVALID_FIELD', `The value of ${f.name} in the body does not match the one in the URL`, [f.name]);
    }
    const matches = this.byExternalId(t, f.name, value);
    if (matches.length > 1) {
      throw new SalesforceApiError(300, [{ errorCode: 'MULTIPLE_CHOICES', message: `More than one record has ${f.name} = ${value}`, fields: [f.name] }]);
    }
    if (matches.length === 1) return { id: this.update(account, t, matches[0]!.Id as string, fields, version, opts.undo), created: false };
    return { id: this.insert(account, t, { ...fields, [f.name]: value }, version, opts.undo), created: true };
  }

  /** GET sobjects/{object}/{field}/{value}. */
  getByExternalId(account: string, object: string, field: string, value: string, version = SF_DEFAULT_VERSION): SfRecord {
    const t = this.table(account, object);
    const f = this.externalField(t, field);
    const matches = this.byExternalId(t, f.name, value);
    if (matches.length === 0) throw notFound();
    if (matches.length > 1) throw new SalesforceApiError(300, [{ errorCode: 'MULTIPLE_CHOICES', message: `More than one record has ${f.name} = ${value}`, fields: [f.name] }]);
    return toApi(t.obj, matches[0]!, version);
  }

  /** sObject Collections upsert (PATCH composite/sobjects/{object}/{field}): each record carries its External ID value. */
  compositeUpsert(account: string, object: string, field: string, records: unknown[], allOrNone: boolean, version = SF_DEFAULT_VERSION): SaveResult[] {
    const t = this.table(account, object);
    const f = this.externalField(t, field);
    const created = new Map<number, boolean>();
    let index = 0;
    const results = this.collection(records, allOrNone, (item, undo) => {
      const at = index++;
      const { attributes, ...fields } = asObject(item);
      if (typeName(attributes) !== t.obj.name) throw sfErr(400, 'INVALID_TYPE', `record type ${typeName(attributes)} is not ${t.obj.name}`, []);
      const key = Object.entries(fields).find(([k]) => k.toLowerCase() === f.name.toLowerCase())?.[1];
      if (key == null || key === '') throw sfErr(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${f.name}]`, [f.name]);
      const outcome = this.upsertByExternalId(account, t.obj.name, f.name, String(key), fields, { version, undo });
      created.set(at, outcome.created);
      return outcome.id;
    });
    return results.map((r, i) => (r.success ? { ...r, created: created.get(i) ?? false } : r));
  }

  /** Salesforce-like field validation: unknown/read-only fields, types, lengths, required, picklists, emails, references. */
  private validate(org: Org, t: Table, body: Record<string, unknown>, mode: 'create' | 'update', version: string): SfRecord {
    void version;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw sfErr(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of SObject from non-object value');
    }
    const obj = t.obj;
    const out: SfRecord = {};
    const readOnly: string[] = [];
    for (const [k, v] of Object.entries(body)) {
      if (k === 'attributes') continue;
      const f = obj.byLower.get(k.toLowerCase());
      if (!f) throw sfErr(400, 'INVALID_FIELD', `No such column '${k}' on sobject of type ${obj.name}`, []);
      if (f.name === 'Id' && mode === 'update') continue; // Salesforce tolerates the Id in a PATCH body
      if (mode === 'create' ? !f.createable : !f.updateable) {
        readOnly.push(f.name);
        continue;
      }
      out[f.name] = coerce(f, v);
    }
    if (readOnly.length) {
      throw sfErr(
        400,
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        readOnly,
      );
    }
    const missing = obj.fields
      .filter((f) => f.required)
      .filter((f) => (mode === 'create' ? !(f.name in out) || isBlank(out[f.name]) : f.name in out && isBlank(out[f.name])))
      .map((f) => f.name);
    if (missing.length) throw sfErr(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
    // The org's validation rule (Setup > Validation Rules), answered as FIELD_CUSTOM_VALIDATION_EXCEPTION.
    if (obj.name === 'Opportunity' && typeof out.Amount === 'number' && out.Amount < 0) {
      throw sfErr(400, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', 'Amount cannot be negative.', ['Amount']);
    }
    for (const [name, v] of Object.entries(out)) {
      const f = obj.byLower.get(name.toLowerCase())!;
      if (v == null) continue;
      if (typeof v === 'string' && f.length && v.length > f.length && f.type !== 'picklist') {
        throw sfErr(400, 'STRING_TOO_LONG', `${f.label}: data value too large: ${v.slice(0, 40)}${v.length > 40 ? '...' : ''} (max length=${f.length})`, [f.name]);
      }
      if (f.type === 'picklist' && f.restricted && !f.picklist!.includes(String(v))) {
        throw sfErr(400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${f.label}: bad value for restricted picklist field: ${String(v)}`, [f.name]);
      }
      if (f.type === 'email' && typeof v === 'string' && v !== '' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) {
        throw sfErr(400, 'INVALID_EMAIL_ADDRESS', `${f.label}: invalid email address: ${v}`, [f.name]);
      }
      if (f.type === 'reference') {
        const id = String(v);
        if (!SF_ID_PATTERN.test(id)) {
          throw sfErr(400, 'MALFORMED_ID', `${f.label}: id value of incorrect type: ${id}`, [f.name]);
        }
        const id18 = sfId18(id);
        out[f.name] = id18;
        if (f.referenceTo === 'User') {
          if (id18 !== org.gen.ownerId) throw sfErr(400, 'INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, []);
          continue;
        }
        const target = OBJECT_BY_PREFIX.get(id18.slice(0, 3));
        if (!target || target.name !== f.referenceTo) {
          throw sfErr(400, 'FIELD_INTEGRITY_EXCEPTION', `${f.label}: id value of incorrect type: ${id}`, [f.name]);
        }
        const parent = org.tables.get(target.name)!.byId.get(id18);
        if (!parent || parent.IsDeleted) throw sfErr(400, 'ENTITY_IS_DELETED', 'entity is deleted', [f.name]);
      }
    }
    for (const [k, v] of Object.entries(out)) if (v === '') out[k] = null; // Salesforce stores blank strings as null
    return out;
  }

  // ------------------------------------------------------------------------------------------------------
  // SOQL

  query(account: string, soql: string, opts: { all?: boolean; batchSize?: number; version?: string } = {}): QueryResult {
    const org = this.org(account);
    const version = opts.version ?? SF_DEFAULT_VERSION;
    const q = parseSoql(soql);
    const obj = OBJECTS_BY_LOWER.get(q.object.toLowerCase());
    if (!obj) {
      throw positionedError(
        soql,
        q.objectPos,
        'INVALID_TYPE',
        `sObject type '${q.object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
      );
    }
    const t = org.tables.get(obj.name)!;
    const resolve = makeResolver(org, obj, soql);
    const now = this.now();
    const compiled = compileQuery(q, resolve, now);

    // projection
    let selected: ResolvedField[] = [];
    if (q.select.kind === 'fields') selected = q.select.fields.map(resolve);
    else if (q.select.kind === 'fieldsFn') {
      if (q.select.which !== 'STANDARD' && (q.limit === undefined || q.limit > 200)) {
        throw new SoqlError('MALFORMED_QUERY', `The SOQL FIELDS function must have a LIMIT of at most 200`);
      }
      selected = q.select.which === 'CUSTOM' ? [] : obj.fields.map((f) => resolve({ path: [f.name], pos: 0 }));
    }
    const seen = new Set<string>();
    for (const f of selected) {
      const k = f.path.join('.').toLowerCase();
      if (seen.has(k)) throw new SoqlError('MALFORMED_QUERY', `duplicate field selected: ${f.path.join('.')}`);
      seen.add(k);
    }
    const order = q.orderBy.map((o) => {
      const f = resolve(o.field);
      if (f.sortable === false) {
        throw positionedError(soql, o.field.pos, 'INVALID_FIELD', `field '${f.path.join('.')}' can not be sorted in a query call`);
      }
      return { field: f, desc: o.desc, nullsFirst: o.nullsFirst };
    });

    // plan: use a (field, Id) index when ORDER BY is that index, or when WHERE bounds an indexed field
    const includeDeleted = !!opts.all;
    const accept = (r: SfRecord) => (includeDeleted || !r.IsDeleted) && compiled.test(r);
    const want = q.limit === undefined ? Infinity : (q.offset ?? 0) + q.limit;
    let rows: SfRecord[] = [];
    const idxOrder = indexOrder(order);
    const scan = (arr: SfRecord[], field: string, desc: boolean, stopAt: number) => {
      const range = compiled.rangeOf(field);
      const lo = range ? lowerBoundIdx(arr, field, range.lo) : 0;
      const hi = range ? upperBoundIdx(arr, field, range.hi) : arr.length;
      if (!desc) {
        for (let i = lo; i < hi && rows.length < stopAt; i++) if (accept(arr[i]!)) rows.push(arr[i]!);
      } else {
        for (let i = hi - 1; i >= lo && rows.length < stopAt; i--) if (accept(arr[i]!)) rows.push(arr[i]!);
      }
    };
    if (idxOrder) {
      scan(t.indexes.get(idxOrder.field)!, idxOrder.field, idxOrder.desc, want);
    } else {
      const bounded = INDEXED_FIELDS.find((f) => compiled.rangeOf(f));
      if (bounded) scan(t.indexes.get(bounded)!, bounded, false, Infinity);
      else for (const r of t.byId.values()) if (accept(r)) rows.push(r);
      if (order.length) rows.sort(orderComparator(order));
      else if (bounded) rows.sort((a, b) => ((a.Id as string) < (b.Id as string) ? -1 : 1));
    }
    if (q.offset || q.limit !== undefined) rows = rows.slice(q.offset ?? 0, q.limit === undefined ? undefined : (q.offset ?? 0) + q.limit);

    if (q.select.kind === 'count') return { totalSize: rows.length, done: true, records: [] };

    const project = makeProjector(org, obj, selected);
    const batchSize = clampBatch(opts.batchSize);
    const cursor: Cursor = { id: '', account, rows, project, totalSize: rows.length, batchSize, lastUsed: now };
    return this.page(cursor, 0, batchSize, version);
  }

  queryMore(account: string, locator: string, opts: { batchSize?: number; version?: string } = {}): QueryResult {
    const m = /^(01g[A-Za-z0-9]{15})-(\d+)$/.exec(locator);
    const cur = m ? this.cursors.get(m[1]!) : undefined;
    if (!m || !cur || cur.account !== account || Number(m[2]) > cur.totalSize || this.now() - cur.lastUsed > CURSOR_IDLE_MS) {
      throw sfErr(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    cur.lastUsed = this.now();
    return this.page(cur, Number(m[2]), opts.batchSize ? clampBatch(opts.batchSize) : cur.batchSize, opts.version ?? SF_DEFAULT_VERSION);
  }

  private page(cur: Cursor, offset: number, batch: number, version: string): QueryResult {
    const end = Math.min(offset + batch, cur.rows.length);
    const records = cur.rows.slice(offset, end).map((r) => cur.project(r, version));
    // the last page is not a reason to close the cursor: a client may retry it (cursors expire after 15 idle minutes)
    if (end >= cur.rows.length) return { totalSize: cur.totalSize, done: true, records };
    if (!cur.id) {
      const now = this.now();
      for (const [id, c] of this.cursors) if (now - c.lastUsed > CURSOR_IDLE_MS) this.cursors.delete(id);
      cur.id = makeSfId('01g', '8X', ++this.cursorCounter + 62 ** 5);
      this.cursors.set(cur.id, cur);
      while (this.cursors.size > this.maxCursors) this.cursors.delete(this.cursors.keys().next().value!);
    }
    return { totalSize: cur.totalSize, done: false, records, nextRecordsUrl: `/services/data/v${version}/query/${cur.id}-${end}` };
  }

  // ------------------------------------------------------------------------------------------------------
  // Composite collections, getDeleted, getUpdated

  compositeCreate(account: string, records: unknown[], allOrNone: boolean, version = SF_DEFAULT_VERSION): SaveResult[] {
    return this.collection(records, allOrNone, (rec, undo) => {
      const { attributes, ...fields } = asObject(rec);
      const type = typeName(attributes);
      if ('id' in fields || 'Id' in fields) throw sfErr(400, 'INVALID_FIELD', 'cannot specify Id in an insert call', ['Id']);
      return this.insert(account, this.table(account, type), fields, version, undo);
    });
  }

  compositeUpdate(account: string, records: unknown[], allOrNone: boolean, version = SF_DEFAULT_VERSION): SaveResult[] {
    return this.collection(
      records,
      allOrNone,
      (rec, undo) => {
        const { attributes, id, Id, ...fields } = asObject(rec);
        const rid = String(id ?? Id ?? '');
        if (!rid) throw sfErr(400, 'MISSING_ARGUMENT', 'Id not specified in an update call', []);
        return this.update(account, this.table(account, typeName(attributes)), rid, fields, version, undo);
      },
      (rec) => {
        const o = rec && typeof rec === 'object' ? (rec as Record<string, unknown>) : {};
        const id = o.id ?? o.Id;
        return typeof id === 'string' ? id : undefined;
      },
    );
  }

  compositeDelete(account: string, ids: string[], allOrNone: boolean): SaveResult[] {
    return this.collection(
      ids,
      allOrNone,
      (id, undo) => {
        const obj = OBJECT_BY_PREFIX.get(String(id).slice(0, 3));
        if (!obj) throw sfErr(400, 'MALFORMED_ID', `malformed id ${String(id)}`, []);
        return this.remove(account, this.table(account, obj.name), String(id), undo);
      },
      (id) => String(id),
    );
  }

  private collection(items: unknown[], allOrNone: boolean, apply: (item: unknown, undo: Undo[]) => string, idOf?: (item: unknown) => string | undefined): SaveResult[] {
    if (items.length > 200) {
      throw sfErr(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 200 records into this call', []);
    }
    const undo: Undo[] = [];
    const results: SaveResult[] = [];
    let failed = false;
    for (const item of items) {
      const mark = undo.length;
      try {
        const id = apply(item, undo);
        results.push({ id, success: true, errors: [] });
      } catch (e) {
        if (!(e instanceof SalesforceApiError)) throw e;
        this.rollback(undo.splice(mark));
        failed = true;
        const id = idOf?.(item);
        results.push({
          ...(id ? { id } : {}),
          success: false,
          errors: e.errors.map(({ errorCode, message, fields, ...rest }) => ({ statusCode: errorCode, message, fields: fields ?? [], ...rest })),
        });
      }
    }
    if (allOrNone && failed) {
      this.rollback(undo);
      return results.map((r) =>
        r.success
          ? {
              ...(idOf ? { id: r.id } : {}),
              success: false,
              errors: [
                {
                  statusCode: 'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                  message: 'Record rolled back because not all records were valid and the request was using AllOrNone header',
                  fields: [],
                },
              ],
            }
          : r,
      );
    }
    return results;
  }

  retrieveMany(account: string, object: string, ids: string[], fields: string[], version = SF_DEFAULT_VERSION): (SfRecord | null)[] {
    const t = this.table(account, object);
    const org = this.org(account);
    const resolve = makeResolver(org, t.obj, fields.join(', '));
    const project = makeProjector(org, t.obj, fields.map((f) => resolve({ path: f.split('.'), pos: 0 })));
    return ids.map((id) => {
      const rec = SF_ID_PATTERN.test(id) ? t.byId.get(sfId18(id)) : undefined;
      return rec && !rec.IsDeleted ? project(rec, version) : null;
    });
  }

  getDeleted(account: string, object: string, start: number, end: number): { deletedRecords: { id: string; deletedDate: string }[]; earliestDateAvailable: string; latestDateCovered: string } {
    const t = this.table(account, object);
    const org = this.org(account);
    const now = this.now();
    checkReplicationWindow(start, end, now);
    const latest = Math.min(end, now);
    const deletedRecords: { id: string; deletedDate: string }[] = [];
    let earliest = org.createdAt;
    for (const [id, at] of t.deletedAt) {
      earliest = Math.min(earliest, at);
      if (at >= start && at <= latest && t.byId.get(id)?.IsDeleted) deletedRecords.push({ id, deletedDate: formatSfDatetime(at) });
    }
    deletedRecords.sort((a, b) => (a.deletedDate < b.deletedDate ? -1 : a.deletedDate > b.deletedDate ? 1 : a.id < b.id ? -1 : 1));
    return { deletedRecords, earliestDateAvailable: formatSfDatetime(Math.floor(earliest / 60_000) * 60_000), latestDateCovered: formatSfDatetime(latest) };
  }

  getUpdated(account: string, object: string, start: number, end: number): { ids: string[]; latestDateCovered: string } {
    const t = this.table(account, object);
    const now = this.now();
    checkReplicationWindow(start, end, now);
    const latest = Math.min(end, now);
    const arr = t.indexes.get('SystemModstamp')!;
    const ids: string[] = [];
    for (let i = lowerBoundIdx(arr, 'SystemModstamp', start); i < arr.length && (arr[i]!.SystemModstamp as number) <= latest; i++) {
      if (!arr[i]!.IsDeleted) ids.push(arr[i]!.Id as string);
    }
    return { ids, latestDateCovered: formatSfDatetime(latest) };
  }

  describe(object: string): Record<string, unknown> {
    const obj = OBJECTS_BY_LOWER.get(object.toLowerCase());
    if (!obj) throw notFound();
    return describeObject(obj, SF_DEFAULT_VERSION);
  }
}

// ---------------------------------------------------------------------------------------------------------
// helpers

function isBlank(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === 'string' && v.trim() === '');
}

export function asObject(v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw sfErr(400, 'JSON_PARSER_ERROR', 'Cannot deserialize instance of SObject from non-object value', []);
  return v as Record<string, unknown>;
}

function typeName(attributes: unknown): string {
  const t = attributes && typeof attributes === 'object' ? (attributes as Record<string, unknown>).type : undefined;
  if (typeof t !== 'string' || !t) throw sfErr(400, 'INVALID_TYPE', 'Must send a concrete entity type.', []);
  if (!OBJECTS_BY_LOWER.has(t.toLowerCase())) throw sfErr(400, 'INVALID_TYPE', `sObject type '${t}' is not supported.`, []);
  return t;
}

function checkReplicationWindow(start: number, end: number, now: number): void {
  if (!Number.isFinite(start) || !Number.isFinite(end)) throw sfErr(400, 'INVALID_REPLICATION_DATE', 'start and end must be valid dateTime values');
  if (start < now - 30 * 86_400_000) throw sfErr(400, 'INVALID_REPLICATION_DATE', 'startDate cannot be more than 30 days ago');
  if (end - start < 60_000) throw sfErr(400, 'INVALID_REPLICATION_DATE', 'startDate must chronologically precede endDate by more than one minute');
}

function clampBatch(n: number | undefined): number {
  if (n === undefined || !Number.isFinite(n)) return 2000;
  return Math.max(200, Math.min(2000, Math.floor(n)));
}

function coerce(f: SfFieldDef, v: unknown): unknown {
  const bad = (what: string, token: string): never => {
    throw sfErr(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of ${what} from ${token} value ${typeof v === 'object' ? JSON.stringify(v) : String(v)} or request may be missing a required field`);
  };
  const token = typeof v === 'string' ? 'VALUE_STRING' : typeof v === 'number' ? 'VALUE_NUMBER_INT' : typeof v === 'boolean' ? 'VALUE_TRUE' : Array.isArray(v) ? 'START_ARRAY' : 'START_OBJECT';
  if (v === null || v === undefined) return f.type === 'boolean' ? false : null;
  switch (f.type) {
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (v === 'true' || v === 'false') return v === 'true';
      return bad('boolean', token);
    case 'double':
    case 'currency':
    case 'percent':
    case 'int': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) return bad(f.type === 'int' ? 'int' : 'double', token);
      if (f.type === 'int' && !Number.isInteger(n)) return bad('int', 'VALUE_NUMBER_FLOAT');
      return n;
    }
    case 'date': {
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(Date.parse(v.slice(0, 10)))) return bad('date', token);
      return v.slice(0, 10);
    }
    case 'datetime': {
      const ms = typeof v === 'string' ? Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : NaN;
      if (!Number.isFinite(ms)) return bad('datetime', token);
      return ms;
    }
    default:
      if (typeof v === 'string') return v;
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      return bad('String', token);
  }
}

function formatValue(f: SfFieldDef | undefined, v: unknown): unknown {
  if (v == null) return null;
  if (f?.type === 'datetime' && typeof v === 'number') return formatSfDatetime(v);
  return v;
}

const recordUrl = (obj: string, id: string, version: string) => `/services/data/v${version}/sobjects/${obj}/${id}`;

function toApi(obj: SfObjectDef, rec: SfRecord, version: string): SfRecord {
  const out: SfRecord = { attributes: { type: obj.name, url: recordUrl(obj.name, rec.Id as string, version) } };
  for (const f of obj.fields) out[f.name] = formatValue(f, rec[f.name]);
  return out;
}

function makeResolver(org: Org, obj: SfObjectDef, soql: string): (ref: FieldRef) => ResolvedField {
  const invalidField = (ref: FieldRef, name: string, entity: string) =>
    positionedError(
      soql,
      ref.pos,
      'INVALID_FIELD',
      `No such column '${name}' on entity '${entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
    );
  return (ref) => {
    let path = ref.path;
    // a leading "Lead." qualifier is allowed in SOQL
    if (path.length > 1 && path[0]!.toLowerCase() === obj.name.toLowerCase() && !obj.relationships.has(path[0]!.toLowerCase())) path = path.slice(1);
    if (path.length === 1) {
      const f = obj.byLower.get(path[0]!.toLowerCase());
      if (!f) throw invalidField(ref, path[0]!, obj.name);
      const name = f.name;
      return { path: [name], type: f.type, get: (r) => r[name], filterable: f.filterable, sortable: f.sortable };
    }
    if (path.length === 2) {
      const rel = obj.relationships.get(path[0]!.toLowerCase());
      const target = rel?.referenceTo ? OBJECTS.get(rel.referenceTo) : undefined;
      if (!rel || !target) {
        throw positionedError(
          soql,
          ref.pos,
          'INVALID_FIELD',
          `Didn't understand relationship '${path[0]}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names.`,
        );
      }
      const f = target.byLower.get(path[1]!.toLowerCase());
      if (!f) throw invalidField(ref, path[1]!, target.name);
      const tab = org.tables.get(target.name)!;
      const refName = rel.name;
      const name = f.name;
      return {
        path: [rel.relationshipName!, name],
        type: f.type,
        get: (r) => {
          const pid = r[refName];
          const p = typeof pid === 'string' ? tab.byId.get(pid) : undefined;
          return p && !p.IsDeleted ? p[name] : null;
        },
        filterable: f.filterable,
        sortable: f.sortable,
      };
    }
    throw invalidField(ref, path.join('.'), obj.name);
  };
}

function makeProjector(org: Org, obj: SfObjectDef, fields: ResolvedField[]): (r: SfRecord, version: string) => SfRecord {
  return (r, version) => {
    const out: SfRecord = { attributes: { type: obj.name, url: recordUrl(obj.name, r.Id as string, version) } };
    for (const f of fields) {
      if (f.path.length === 1) {
        out[f.path[0]!] = formatValue(obj.byLower.get(f.path[0]!.toLowerCase()), r[f.path[0]!]);
        continue;
      }
      const relName = f.path[0]!;
      const rel = obj.relationships.get(relName.toLowerCase())!;
      const target = OBJECTS.get(rel.referenceTo!)!;
      if (out[relName] === undefined) {
        const pid = r[rel.name];
        const p = typeof pid === 'string' && target ? org.tables.get(target.name)?.byId.get(pid) : undefined;
        out[relName] = p && !p.IsDeleted ? { attributes: { type: target.name, url: recordUrl(target.name, pid as string, version) } } : null;
      }
      const nested = out[relName] as SfRecord | null;
      if (nested) nested[f.path[1]!] = formatValue(target.byLower.get(f.path[1]!.toLowerCase()), f.get(r));
    }
    return out;
  };
}

/** An ORDER BY that one of the (field, Id) indexes already satisfies. */
function indexOrder(order: { field: ResolvedField; desc: boolean; nullsFirst: boolean }[]): { field: string; desc: boolean } | null {
  if (!order.length || order.length > 2) return null;
  const [a, b] = order;
  if (a!.field.path.length !== 1 || !(INDEXED_FIELDS as readonly string[]).includes(a!.field.path[0]!)) return null;
  if (b && (b.field.path.length !== 1 || b.field.path[0] !== 'Id' || b.desc !== a!.desc)) return null;
  return { field: a!.field.path[0]!, desc: a!.desc };
}
