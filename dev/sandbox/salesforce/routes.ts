/**
 * Salesforce REST paths (/services/data/vXX.X/...), as jsforce calls them at instanceUrl = the sandbox url.
 *
 * Mounted by the sandbox core after its auth/quota/fault middleware, which sets the Hono variable `account`.
 */
import { Hono, type Context } from 'hono';
import { OBJECTS, OBJECTS_BY_LOWER, OBJECT_BY_PREFIX, SF_ID_PATTERN, describeObject, globalEntry, type SfObjectDef, type SfRecord } from './schema';
import { SoqlError, sfId18 } from './soql';
import { SalesforceApiError, asObject, notFound, sfErr, type SalesforceStore } from './store';
type Env = { Variables: { account: string } };

/** `Sforce-Query-Options: batchSize=500` */
export function parseQueryOptions(header: string | undefined): { batchSize?: number } {
  const m = header ? /batchSize\s*=\s*(\d+)/i.exec(header) : null;
  return m ? { batchSize: Number(m[1]) } : {};
}

export function salesforceRoutes(store: SalesforceStore): Hono<Env> {
  const app = new Hono<Env>();

  const fail = (c: Context<Env>, e: unknown) => {
    if (e instanceof SalesforceApiError) return c.json(e.errors, e.status as 400);
    if (e instanceof SoqlError) return c.json([{ message: e.message, errorCode: e.errorCode }], 400);
    throw e;
  };
  const handle =
    (fn: (c: Context<Env>, version: string) => Response | Promise<Response>) =>
    async (c: Context<Env>): Promise<Response> => {
      const v = c.req.param('version') ?? '';
      const m = /^v(\d{2,3}\.0)$/.exec(v);
      if (!m) return c.json([{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }], 404);
      try {
        return await fn(c, m[1]!);
      } catch (e) {
        return fail(c, e);
      }
    };
  const body = async (c: Context<Env>): Promise<unknown> => {
    const text = await c.req.text();
    try {
      return text ? JSON.parse(text) : {};
    } catch (e) {
      throw sfErr(400, 'JSON_PARSER_ERROR', `Unexpected character: ${(e as Error).message} at [line:1, column:1]`);
    }
  };
  const account = (c: Context<Env>) => {
    const a = c.get('account');
    store.ensureAccount(a);
    return a;
  };
  const dateParam = (c: Context<Env>, name: string): number => {
    const v = c.req.query(name);
    if (!v) throw sfErr(400, 'MISSING_ARGUMENT', `${name} parameter not specified`);
    const ms = Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    if (!Number.isFinite(ms)) throw sfErr(400, 'INVALID_REPLICATION_DATE', `${name} is not a valid dateTime: ${v}`);
    return ms;
  };

  app.get('/services/data', (c) =>
    c.json(['57.0', '58.0', '59.0', '60.0', '61.0', '62.0'].map((v) => ({ label: `API v${v}`, url: `/services/data/v${v}`, version: v }))),
  );
  app.get('/services/data/', (c) => c.redirect('/services/data', 301));
  app.get(
    '/services/data/:version',
    handle((c, v) =>
      c.json({
        sobjects: `/services/data/v${v}/sobjects`,
        query: `/services/data/v${v}/query`,
        queryAll: `/services/data/v${v}/queryAll`,
        composite: `/services/data/v${v}/composite`,
        limits: `/services/data/v${v}/limits`,
      }),
    ),
  );

  // --- SOQL
  const runQuery = (all: boolean) =>
    handle((c, v) => {
      const q = c.req.query('q');
      if (q === undefined) throw sfErr(400, 'MALFORMED_QUERY', 'A query string has to be specified');
      const { batchSize } = parseQueryOptions(c.req.header('Sforce-Query-Options'));
      return c.json(store.query(account(c), q, { all, batchSize, version: v }));
    });
  const more = handle((c, v) => {
    const { batchSize } = parseQueryOptions(c.req.header('Sforce-Query-Options'));
    return c.json(store.queryMore(account(c), c.req.param('locator') ?? '', { batchSize, version: v }));
  });
  for (const p of ['query', 'queryAll']) {
    app.get(`/services/data/:version/${p}`, runQuery(p === 'queryAll'));
    app.get(`/services/data/:version/${p}/`, runQuery(p === 'queryAll'));
    app.get(`/services/data/:version/${p}/:locator`, more);
  }

  // --- sobjects
  app.get(
    '/services/data/:version/sobjects',
    handle((c, v) => c.json({ encoding: 'UTF-8', maxBatchSize: 200, sobjects: [...OBJECTS.values()].map((o) => globalEntry(o, v)) })),
  );
  const objOf = (c: Context<Env>): SfObjectDef => {
    const o = OBJECTS_BY_LOWER.get((c.req.param('object') ?? '').toLowerCase());
    if (!o) throw notFound();
    return o;
  };
  /** The object and record id of a /sobjects/:object/:id path; 404 when the id is not one of that object's. */
  const recordPath = (c: Context<Env>): { o: SfObjectDef; id: string } => {
    const o = objOf(c);
    const id = c.req.param('id') ?? '';
    if (!SF_ID_PATTERN.test(id) || OBJECT_BY_PREFIX.get(sfId18(id).slice(0, 3)) !== o) throw notFound();
    return { o, id };
  };
  const describe = handle((c, v) => c.json(describeObject(objOf(c), v)));
  app.get('/services/data/:version/sobjects/:object/describe', describe);
  app.get('/services/data/:version/sobjects/:object/describe/', describe);
  const deleted = handle((c) => {
    const o = objOf(c);
    return c.json(store.getDeleted(account(c), o.name, dateParam(c, 'start'), dateParam(c, 'end')));
  });
  app.get('/services/data/:version/sobjects/:object/deleted', deleted);
  app.get('/services/data/:version/sobjects/:object/deleted/', deleted);
  const updated = handle((c) => {
    const o = objOf(c);
    return c.json(store.getUpdated(account(c), o.name, dateParam(c, 'start'), dateParam(c, 'end')));
  });
  app.get('/services/data/:version/sobjects/:object/updated', updated);
  app.get('/services/data/:version/sobjects/:object/updated/', updated);

  app.get(
    '/services/data/:version/sobjects/:object',
    handle((c, v) => c.json({ objectDescribe: globalEntry(objOf(c), v), recentItems: [] })),
  );
  app.post(
    '/services/data/:version/sobjects/:object',
    handle(async (c, v) => {
      const o = objOf(c);
      const b = await body(c);
      const rec = store.createRecord(account(c), o.name, asObject(b), { version: v });
      return c.json({ id: rec.Id, success: true, errors: [] }, 201);
    }),
  );
  // --- upsert and read by an External ID field
  const externalPath = (c: Context<Env>) => ({
    o: objOf(c),
    field: c.req.param('field') ?? '',
    value: decodeURIComponent(c.req.param('value') ?? ''),
  });
  app.patch(
    '/services/data/:version/sobjects/:object/:field/:value',
    handle(async (c, v) => {
      const { o, field, value } = externalPath(c);
      const b = asObject(await body(c));
      const { id, created } = store.upsertByExternalId(account(c), o.name, field, value, b, { version: v });
      // Since API v46.0 an update by upsert answers 200 with the body too (before: 204).
      return c.json({ id, success: true, errors: [], created }, created ? 201 : 200);
    }),
  );
  app.get(
    '/services/data/:version/sobjects/:object/:field/:value',
    handle((c, v) => {
      const { o, field, value } = externalPath(c);
      return c.json(store.getByExternalId(account(c), o.name, field, value, v));
    }),
  );
  app.get(
    '/services/data/:version/sobjects/:object/:id',
    handle((c, v) => {
      const { o, id } = recordPath(c);
      const rec = store.getRecord(account(c), o.name, id, { version: v });
      if (!rec) throw notFound();
      const fields = c.req.query('fields');
      if (!fields) return c.json(rec);
      const out: SfRecord = { attributes: rec.attributes };
      for (const name of fields.split(',').map((s) => s.trim()).filter(Boolean)) {
        const f = o.byLower.get(name.toLowerCase());
        if (!f) throw sfErr(400, 'INVALID_FIELD', `No such column '${name}' on entity '${o.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`);
        out[f.name] = rec[f.name];
      }
      return c.json(out);
    }),
  );
  app.patch(
    '/services/data/:version/sobjects/:object/:id',
    handle(async (c, v) => {
      const { o, id } = recordPath(c);
      const b = await body(c);
      store.updateRecord(account(c), o.name, id, asObject(b), { version: v });
      return c.body(null, 204);
    }),
  );
  app.delete(
    '/services/data/:version/sobjects/:object/:id',
    handle((c) => {
      const { o, id } = recordPath(c);
      store.deleteRecord(account(c), o.name, id);
      return c.body(null, 204);
    }),
  );

  // --- composite collections
  const collectionBody = async (c: Context<Env>) => {
    const b = asObject(await body(c));
    if (!Array.isArray(b.records)) throw sfErr(400, 'JSON_PARSER_ERROR', 'records is required and must be an array');
    return { records: b.records as unknown[], allOrNone: b.allOrNone === true };
  };
  app.post(
    '/services/data/:version/composite/sobjects',
    handle(async (c, v) => {
      const { records, allOrNone } = await collectionBody(c);
      return c.json(store.compositeCreate(account(c), records, allOrNone, v));
    }),
  );
  app.patch(
    '/services/data/:version/composite/sobjects',
    handle(async (c, v) => {
      const { records, allOrNone } = await collectionBody(c);
      return c.json(store.compositeUpdate(account(c), records, allOrNone, v));
    }),
  );
  app.delete(
    '/services/data/:version/composite/sobjects',
    handle((c) => {
      const ids = (c.req.query('ids') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      if (!ids.length) throw sfErr(400, 'MISSING_ARGUMENT', 'ids parameter not specified');
      return c.json(store.compositeDelete(account(c), ids, c.req.query('allOrNone') === 'true'));
    }),
  );
  app.patch(
    '/services/data/:version/composite/sobjects/:object/:field',
    handle(async (c, v) => {
      const o = objOf(c);
      const { records, allOrNone } = await collectionBody(c);
      return c.json(store.compositeUpsert(account(c), o.name, c.req.param('field') ?? '', records, allOrNone, v));
    }),
  );
  app.post(
    '/services/data/:version/composite/sobjects/:object',
    handle(async (c, v) => {
      const o = objOf(c);
      const b = asObject(await body(c));
      const ids = Array.isArray(b.ids) ? b.ids.map(String) : [];
      const fields = Array.isArray(b.fields) ? b.fields.map(String) : [];
      if (!ids.length || !fields.length) throw sfErr(400, 'MISSING_ARGUMENT', 'ids and fields are required');
      if (ids.length > 2000) throw sfErr(400, 'EXCEEDED_ID_LIMIT', 'record limit reached. cannot submit more than 2000 records into this call');
      return c.json(store.retrieveMany(account(c), o.name, ids, fields, v));
    }),
  );

  return app;
}
