import { writeFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookBody } from '../dev/sandbox/index';
import { discoverRoutes } from '../dev/server';
import { createApiKey, revokeApiKey } from '../lib/http/api-keys';
import { ADMIN_API_KEY, CRON_SECRET } from './helpers/server';
import { PROJECT_ID, SIGNING_KEY, startSandboxedApp, type SandboxedApp } from './helpers/sandbox-app';
import { SyncedData } from './helpers/synced-data';

/**
 * Every endpoint and method of api/ (found by walking it, so a new endpoint is covered the day it is
 * added) under random and hostile input: query strings, JSON and non-JSON bodies, headers, path ids and
 * cursors, with no credentials, with alice's tokens and API keys, and with the operators' secrets.
 * Bob owns data too; alice and strangers must never see it or change it. For every request:
 *   - no 5xx;
 *   - an error answer is the envelope, with the request id of its x-request-id header (every answer
 *     carries one);
 *   - no breach: nothing of bob's in the answer to anyone but an operator, and bob's rows unchanged;
 *   - a refusal (4xx) stores nothing (rate-limit counters, metrics windows and API-key last use aside).
 * The counts are printed (and written to HOSTILE_SUMMARY_FILE when set); HOSTILE_RUNS_PER_ENDPOINT
 * (default 12 per method, fewer for preflights and unexported methods) sets the volume, HOSTILE_SEED
 * replays a run.
 */

const RUNS_PER_ENDPOINT = Number(process.env.HOSTILE_RUNS_PER_ENDPOINT ?? 12);
const SEED = Number(process.env.HOSTILE_SEED ?? Date.now() % 2_147_483_647);
/** In every text of bob's: an answer to anyone else that contains it is a breach. */
const MARK = 'zqbobsecret';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
type Method = (typeof METHODS)[number];

/** Tables whose rows change on requests that are refused by design, or in the background. */
const VOLATILE_TABLES = new Set(['rate_limit_windows', 'ops_metric_windows', 'provider_usage', '__drizzle_migrations']);
/** Columns that record use, not data: they may change on any authenticated request. */
const VOLATILE_COLUMNS: Record<string, string[]> = { api_keys: ['last_used_at'] };

let app: SandboxedApp;
let fingerprintSql: string;
const ids: { alice: number[]; bob: number[] } = { alice: [], bob: [] };
const credentials: Record<string, string | null> = {};

interface Endpoint {
  /** api/connections/[id]/pause */
  file: string;
  segments: string[];
  methods: Method[];
}
let endpoints: { endpoint: Endpoint; method: Method }[] = [];

const stats = { requests: 0, server5xx: 0, withoutEnvelope: 0, breaches: 0, storedOnRefusal: 0, byStatus: {} as Record<string, number> };
const problems: string[] = [];
let lastFingerprint: { bob: string; everything: string } | undefined;

beforeAll(async () => {
  app = await startSandboxedApp({
    RATE_LIMIT_PER_MINUTE: '100000',
    RATE_LIMIT_IP_MAX: '1000000',
    RATE_LIMIT_ORG_PER_HOUR: '1000000',
    WEBHOOK_KICK_RUNNER: 'false',
    ACTIONS_KICK_RUNNER: 'false',
    ACTIONS_WAIT_MS: '0',
    CORS_ORIGINS: 'https://app.example.com',
    METRICS_TOKEN: 'metrics-token-0123456789abcdef',
  });
  app.sandbox.ensureUser('alice');
  await seed();
  fingerprintSql = await buildFingerprintSql();
  endpoints = await discoverEndpoints();
}, 120_000);

afterAll(async () => {
  await app?.close();
});

async function seed() {
  // Ids unique across tables (each identity starts at its own thousand), so an id names one row and
  // the sweep of bob's ids below tries each on every route.
  const { rows: identities } = await app.database.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'id' AND is_identity = 'YES' ORDER BY table_name`,
  );
  for (const [index, { table_name }] of identities.entries()) {
    await app.database.pool.query(`ALTER TABLE "${table_name}" ALTER COLUMN id RESTART WITH ${(index + 1) * 1000 + 1}`);
  }
  const data = new SyncedData(app.database.pool);
  for (const user of ['alice', 'bob'] as const) {
    const text = (what: string) => (user === 'bob' ? `${what} ${MARK}` : `${what} of alice`);
    const gmail = await data.connection({ userId: user, provider: 'gmail', nangoConnectionId: user === 'bob' ? `gmail-${MARK}` : 'gmail-alice' });
    const calendar = await data.connection({ userId: user, provider: 'calendar', nangoConnectionId: user === 'bob' ? `calendar-${MARK}` : 'calendar-alice' });
    const salesforce = await data.connection({ userId: user, provider: 'salesforce', nangoConnectionId: user === 'bob' ? `salesforce-${MARK}` : 'salesforce-alice' });
    for (let i = 0; i < 3; i++) {
      const thread = await data.thread({ userId: user, connectionId: gmail, subject: text(`subject ${i}`), senders: [`${user}${i}@example.com`], lastMessageAt: `2026-03-0${i + 1}T10:00:00Z` });
      await data.message({ threadId: thread, connectionId: gmail, userId: user, fromAddress: `${user}${i}@example.com`, internalDate: `2026-03-0${i + 1}T10:00:00Z`, subject: text('message'), bodyText: text('body') });
      await data.event({ userId: user, connectionId: calendar, summary: text(`event ${i}`), startAt: `2026-03-1${i}T09:00:00Z`, endAt: `2026-03-1${i}T10:00:00Z` });
      await data.crm({ userId: user, connectionId: salesforce, object: (['Lead', 'Contact', 'Opportunity'] as const)[i]!, name: text(`record ${i}`), systemModstamp: `2026-03-0${i + 1}T10:00:00Z` });
      await data.interaction({ userId: user, connectionId: gmail, source: 'email', occurredAt: `2026-03-0${i + 1}T10:00:00Z`, title: text(`interaction ${i}`) });
    }
    // A sync job each: bob's never runnable, so no background work can change his rows.
    await app.database.pool.query(
      `WITH u AS (INSERT INTO job_users (user_id) VALUES ($1) ON CONFLICT DO NOTHING)
       INSERT INTO jobs (kind, user_id, payload, run_at, dedupe_key)
       VALUES ('sync.gmail', $1, $2, now() + interval '1 year', $3)`,
      [user, JSON.stringify({ connectionId: gmail, stream: 'threads', mode: 'incremental', note: text('job') }), `sync:${gmail}:threads`],
    );
  }
  // Bob's own API key and units (through the API as bob, in setup only: bob never calls during the run).
  await createApiKey(app.database.db, { userId: 'bob', orgId: null, name: `key ${MARK}`, scopes: ['read', 'write'] });
  const bobToken = await app.token('bob');
  await fetch(`${app.url}/api/units`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bobToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `unit ${MARK}`, prompt: `when an email arrives from boss@example.com then label it ${MARK}` }),
  }).catch(() => undefined);

  const alice = await app.token('alice');
  const read = await createApiKey(app.database.db, { userId: 'alice', orgId: null, name: 'reader', scopes: ['read'] });
  const write = await createApiKey(app.database.db, { userId: 'alice', orgId: null, name: 'writer', scopes: ['read', 'write'] });
  const revoked = await createApiKey(app.database.db, { userId: 'alice', orgId: null, name: 'revoked', scopes: ['read', 'write'] });
  await revokeApiKey(app.database.db, 'alice', revoked.apiKey.id);
  Object.assign(credentials, {
    none: null,
    aliceToken: `Bearer ${alice}`,
    aliceTokenLowercase: `bearer ${alice}`,
    aliceReadKey: `Bearer ${read.key}`,
    aliceWriteKey: `Bearer ${write.key}`,
    revokedKey: `Bearer ${revoked.key}`,
    expiredToken: `Bearer ${await app.sandbox.mintIdToken('alice', { expiresInSeconds: -60 })}`,
    longLivedToken: `Bearer ${await app.sandbox.mintIdToken('alice', { expiresInSeconds: 7_200 })}`,
    foreignToken: `Bearer ${await app.sandbox.mintIdToken('alice', { audience: `${PROJECT_ID}-other` })}`,
    unknownKeyToken: `Bearer ${await app.sandbox.mintIdToken('alice', { unknownKey: true })}`,
    forgedApiKey: `Bearer sk_${'A'.repeat(43)}`,
    garbage: 'Bearer not-a-token',
    emptyBearer: 'Bearer ',
    basic: 'Basic YWxpY2U6c2VjcmV0',
    // Operators: they may see and change anyone's data, so they are kept out of the breach checks.
    cron: `Bearer ${CRON_SECRET}`,
    admin: `Bearer ${ADMIN_API_KEY}`,
    metrics: 'Bearer metrics-token-0123456789abcdef',
  });
  for (const user of ['alice', 'bob'] as const) {
    const { rows } = await app.database.pool.query<{ id: string }>(await idsQuery(), [user]);
    ids[user] = [...new Set(rows.map((row) => Number(row.id)))];
  }
}

/** Every id of a user's rows, in every table with an id and a user_id. */
async function idsQuery(): Promise<string> {
  const { rows } = await app.database.pool.query<{ table_name: string }>(`
    SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name IN ('id', 'user_id')
    GROUP BY table_name HAVING count(*) = 2`);
  return rows.map((row) => `SELECT id::text FROM "${row.table_name}" WHERE user_id = $1`).join(' UNION ALL ');
}

/**
 * One statement: a fingerprint of bob's rows (every table with a user_id) and one of everything but
 * the volatile tables, each an order-independent sum of row hashes with the row count.
 */
async function buildFingerprintSql(): Promise<string> {
  const { rows } = await app.database.pool.query<{ table_name: string; columns: string[]; has_user: boolean }>(`
    SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS columns, bool_or(column_name = 'user_id') AS has_user
    FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name ORDER BY table_name`);
  const digest = (table: string, columns: string[], where: string) => {
    const kept = columns.filter((column) => !(VOLATILE_COLUMNS[table] ?? []).includes(column)).map((column) => `t."${column}"`);
    return `(SELECT count(*) || ':' || coalesce(sum(hashtextextended(row(${kept.join(', ')})::text, 0)), 0) FROM "${table}" t ${where})`;
  };
  const everything = rows.filter((row) => !VOLATILE_TABLES.has(row.table_name)).map((row) => digest(row.table_name, row.columns, ''));
  const bobs = rows.filter((row) => row.has_user).map((row) => digest(row.table_name, row.columns, `WHERE t.user_id = 'bob'`));
  return `SELECT concat_ws('|', ${bobs.join(', ')}) AS bob, concat_ws('|', ${everything.join(', ')}) AS everything`;
}

async function fingerprint(): Promise<{ bob: string; everything: string }> {
  // Prepared once: planning some seventy subqueries costs more than running them on this little data.
  const { rows } = await app.database.pool.query({ name: 'hostile-fingerprint', text: fingerprintSql });
  return rows[0];
}

async function discoverEndpoints(): Promise<{ endpoint: Endpoint; method: Method }[]> {
  const found: { endpoint: Endpoint; method: Method }[] = [];
  for (const route of discoverRoutes()) {
    const file = relative(process.cwd(), route.file).split(sep).join('/').replace(/\.ts$/, '');
    const module = (await import(pathToFileURL(route.file).href)) as Record<string, unknown>;
    const exported = METHODS.filter((method) => typeof module[method] === 'function');
    const segments = file.replace(/\/index$/, '').split('/');
    const endpoint = { file, segments, methods: exported };
    // Every exported method, and one it does not export (405 must be the envelope too).
    const unexported = METHODS.find((method) => !exported.includes(method));
    for (const method of [...exported, ...(unexported ? [unexported] : [])]) found.push({ endpoint, method });
  }
  // Erasing alice last, so the other endpoints meet her data.
  return found.sort((a, b) => Number(a.endpoint.file === 'api/me/index' && a.method === 'DELETE') - Number(b.endpoint.file === 'api/me/index' && b.method === 'DELETE'));
}

// ---------------------------------------------------------------------------------------------
// Generators

const hostileText = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '', '\u0000', 'a\u0000b', '\ud800', 'x\udc00', '0', '-1', '1e2', '0x10', '+5', ' 5', '5.0', '101', '99999999999999999999',
      'NaN', 'Infinity', 'null', 'true', '[]', '{}', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
      '../../connections', 'x/../y', 'a?provider_config_key=b&', '%00', '%', '%E0%A4%A', '..', '.',
      '0000-01-01', '0001-01-01T00:00:00+01:00', '9999-12-31', '9999-12-31T23:00:00-05:00', '10000-01-01', '+275760-09-13',
      '2026-02-30', '2026-03-01T09:00:00Z', '2026-03-01', '2026-03-01T09:00:00+25:00', "' OR 1=1 --", '<script>alert(1)</script>',
      'gmail', 'calendar', 'salesforce', 'lead', 'opportunity', 'date_range', 'incremental', 'read', 'write', 'active', 'paused',
      'alice', 'bob', 'gmail-alice', `gmail-${MARK}`, 'boss@example.com', 'a'.repeat(5_000),
    ),
  },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()) },
  {
    weight: 2,
    arbitrary: fc
      .record({ t: fc.oneof(fc.string(), fc.constantFrom('0000-01-01T00:00:00.000000Z', '2026-02-30T00:00:00.000000Z', '9999-12-31T23:59:59.999999Z'), fc.constant(null)), i: fc.oneof(fc.integer(), fc.double(), fc.string()) })
      .map((position) => Buffer.from(JSON.stringify(position)).toString('base64url')),
  },
);

const ID_PARAM = fc.oneof(
  { weight: 4, arbitrary: fc.constant('known') },
  { weight: 2, arbitrary: fc.nat({ max: 50 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1e3', '0x10', '9007199254740993', '999999999999999999999', 'constructor', '__proto__', 'toString', 'lead', 'contact', 'account', 'opportunity', 'preview', 'batch') },
  { weight: 2, arbitrary: hostileText },
);

/** A path segment as a client would write it, now and then with broken percent-encoding. */
function pathSegment(value: string, raw: boolean): string {
  // A lone surrogate cannot be percent-encoded (URIError); a client's URL library sends U+FFFD in its place.
  const wellFormed = value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  return raw ? wellFormed.replace(/[/?#]/g, encodeURIComponent) : encodeURIComponent(wellFormed);
}

const QUERY_KEYS = [
  'limit', 'cursor', 'q', 'sender', 'subjectContains', 'category', 'after', 'before', 'from', 'to', 'source', 'email',
  'company', 'status', 'accountId', 'industry', 'stageName', 'minAmount', 'purge', 'id', 'object', 'action', 'userId',
  'unitId', 'tool', '__proto__', 'constructor',
];
const queryArb = fc.array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...QUERY_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }), hostileText), { maxLength: 5 });

const FIELDS = [
  'provider', 'connectionId', 'providers', 'mode', 'startDate', 'endDate', 'name', 'scopes', 'expiresInDays', 'prompt', 'status',
  'to', 'cc', 'bcc', 'subject', 'text', 'html', 'threadId', 'fields', 'records', 'summary', 'description', 'location', 'start',
  'end', 'timeZone', 'attendees', 'event', 'sampleEvent', 'input', 'type', 'operation', 'success', 'endUser', 'providerConfigKey',
  'model', 'syncName', '__proto__', 'constructor',
];
const leafValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 1, arbitrary: fc.constantFrom(['gmail'], ['gmail', 'calendar', 'salesforce'], ['read', 'write'], ['admin'], [], { endUserId: 'bob' }, { Name: 'x' }) },
);
const objectBody = fc.dictionary(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), fc.oneof(leafValue, fc.array(leafValue, { maxLength: 3 }), fc.dictionary(fc.constantFrom(...FIELDS), leafValue, { maxKeys: 3 })), { maxKeys: 6 });
const bodyArb: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 5, arbitrary: objectBody.map((body) => JSON.stringify(body)) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '', 'not json', '{', '[]', 'null', '1e999', '"\\u0000"', '{"name":"a\\u0000b"}', '{"name":"\\ud800"}', '{"__proto__":{"admin":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}', `{"a":${'['.repeat(3000)}${']'.repeat(3000)}}`, `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`,
      '{"provider":"gmail","connectionId":"../../connections"}', '{"provider":"gmail","connectionId":"gmail-alice"}',
      '{"providers":["gmail"],"mode":"date_range","startDate":"2026-01-01","endDate":"9999-12-31T23:00:00-05:00"}',
      '{"providers":["gmail","calendar","salesforce"],"mode":"incremental"}', '{"name":"k","scopes":["read","write"]}',
      '{"type":"auth","connectionId":"gmail-alice","providerConfigKey":"google-mail","operation":"creation","success":true,"endUser":{"endUserId":"alice"}}',
      '{"type":"sync","connectionId":"gmail-alice\\u0000","providerConfigKey":"google-mail","success":true,"model":"GmailThread"}',
    ),
  },
);

const requestArb = (endpoint: Endpoint) =>
  fc.record({
    params: fc.array(fc.tuple(ID_PARAM, fc.boolean()), { minLength: endpoint.segments.length, maxLength: endpoint.segments.length }),
    knownIndex: fc.nat(),
    // Now and then no query at all, so the endpoints' successful paths are walked too.
    query: fc.oneof({ weight: 2, arbitrary: fc.constant([] as [string, string][]) }, { weight: 3, arbitrary: queryArb }),
    body: bodyArb,
    credential: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('aliceToken', 'aliceToken', 'aliceWriteKey', 'aliceReadKey', 'aliceTokenLowercase') },
      { weight: 3, arbitrary: fc.constantFrom(...Object.keys(credentials)) },
    ),
    contentType: fc.constantFrom('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'application/merge-patch+json', null),
    requestId: fc.oneof(fc.constant(null), fc.constantFrom('trace-0123456789', 'short', 'x'.repeat(200), 'bad id with spaces')),
    origin: fc.oneof(fc.constant(null), fc.constantFrom('https://app.example.com', 'https://evil.example', 'null')),
    idempotencyKey: fc.oneof(fc.constant(null), fc.string({ unit: fc.constantFrom(...'abcdefgh0123456789-_:'.split('')), maxLength: 300 })),
    signWebhook: fc.boolean(),
  });

// ---------------------------------------------------------------------------------------------

function urlFor(endpoint: Endpoint, input: { params: [string, boolean][]; knownIndex: number; query: [string, string][] }): string {
  const known = [...ids.alice, ...ids.bob];
  const path = endpoint.segments
    .map((segment, index) => {
      if (!/^\[.+\]$/.test(segment)) return segment;
      const [value, raw] = input.params[index]!;
      const chosen = value === 'known' ? String(known[input.knownIndex % known.length] ?? 1) : value;
      return pathSegment(chosen, raw);
    })
    .join('/');
  const search = new URLSearchParams(input.query).toString();
  return `${app.url}/${path}${search ? `?${search}` : ''}`;
}

const OPERATORS = new Set(['cron', 'admin', 'metrics']);

interface Probe {
  endpoint: Endpoint;
  method: Method;
  url: string;
  credential: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** An operator's secret or Nango's signature: may see and change anyone's data. */
  trusted: boolean;
}

/** Sends one request and checks its answer; counts it. */
async function send(probe: Probe): Promise<void> {
  // Nothing runs between requests (no runner is kicked, no cron fires): the state after the previous
  // request is the state before this one.
  const before = (lastFingerprint ??= await fingerprint());
  let response: Response;
  try {
    response = await fetch(probe.url, { method: probe.method, headers: probe.headers, body: probe.body });
  } catch (error) {
    // fetch itself refused the request (a header it cannot send): not the server's answer.
    if (error instanceof TypeError) return;
    throw error;
  }
  const text = await response.text();
  const after = await fingerprint();
  lastFingerprint = after;
  stats.requests += 1;
  stats.byStatus[response.status] = (stats.byStatus[response.status] ?? 0) + 1;
  const where = `${probe.method} ${probe.url.slice(app.url.length, app.url.length + 200)} [${probe.credential}] -> ${response.status}`;
  const problem = (kind: string, detail: string) => {
    if (problems.length < 40) problems.push(`${kind}: ${where}: ${detail.slice(0, 300)}`);
  };
  if (response.status >= 500) {
    stats.server5xx += 1;
    problem('5xx', text);
  }
  const requestId = response.headers.get('x-request-id');
  let enveloped = Boolean(requestId);
  if (response.status >= 400) {
    try {
      const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; requestId?: unknown } };
      enveloped &&= typeof parsed.error?.code === 'string' && typeof parsed.error.message === 'string' && parsed.error.requestId === requestId;
    } catch {
      enveloped = false;
    }
  }
  if (!enveloped) {
    stats.withoutEnvelope += 1;
    problem('no envelope', `${requestId} ${text}`);
  }
  if (!probe.trusted && (text.includes(MARK) || /"userId":\s*"bob"/.test(text))) {
    stats.breaches += 1;
    problem("breach (bob's data in the answer)", text);
  }
  if (!probe.trusted && before.bob !== after.bob) {
    stats.breaches += 1;
    problem("breach (bob's rows changed)", '');
  }
  if (response.status >= 400 && before.everything !== after.everything) {
    stats.storedOnRefusal += 1;
    problem('stored on refusal', text);
  }
}

function randomProbe(endpoint: Endpoint, method: Method, input: RequestInput): Probe {
  const credential = endpoint.file === 'api/cron/run-jobs' && input.credential === 'cron' ? 'garbage' : input.credential;
  const headers: Record<string, string> = {};
  const authorization = credentials[credential];
  if (authorization) headers.authorization = authorization;
  if (input.contentType && input.body !== undefined) headers['content-type'] = input.contentType;
  if (input.requestId) headers['x-request-id'] = input.requestId;
  if (input.origin) headers.origin = input.origin;
  if (input.idempotencyKey) headers['idempotency-key'] = input.idempotencyKey;
  if (method === 'OPTIONS' && input.origin) headers['access-control-request-method'] = 'POST';
  const body = method === 'GET' || method === 'OPTIONS' ? undefined : input.body;
  // A webhook signed as Nango signs it is Nango speaking: it reaches validation, and is trusted.
  const signed = endpoint.file === 'api/webhooks/nango' && input.signWebhook && body !== undefined;
  if (signed) Object.assign(headers, signWebhookBody(SIGNING_KEY, body!));
  return { endpoint, method, url: urlFor(endpoint, input), credential, headers, body, trusted: OPERATORS.has(credential) || signed };
}

type RequestInput = typeof requestArb extends (endpoint: Endpoint) => fc.Arbitrary<infer T> ? T : never;

describe('hostile input over every endpoint', () => {
  it('never answers 5xx, always with the envelope and a request id, never leaks or changes another tenant\'s data, stores nothing on a refusal', async () => {
    expect(endpoints.length).toBeGreaterThan(20);
    const started = Date.now();
    // First (alice's keys still exist: erasing her is among the random requests), alice against each
    // of bob's resources on every route that takes an id: every one of bob's ids
    // (unique across tables), with her token and her write key in turn, no query, an empty JSON body.
    let turn = 0;
    for (const { endpoint, method } of endpoints) {
      if (!endpoint.methods.includes(method) || method === 'OPTIONS' || !endpoint.segments.some((segment) => segment === '[id]')) continue;
      for (const id of ids.bob) {
        const credential = turn++ % 2 === 0 ? 'aliceToken' : 'aliceWriteKey';
        const path = endpoint.segments.map((segment) => (segment === '[id]' ? String(id) : segment === '[object]' ? 'lead' : segment)).join('/');
        const body = method === 'GET' ? undefined : '{}';
        const headers: Record<string, string> = { authorization: credentials[credential]!, 'idempotency-key': `sweep-${turn}` };
        if (body) headers['content-type'] = 'application/json';
        await send({ endpoint, method, url: `${app.url}/${path}`, credential, headers, body, trusted: false });
      }
    }
    for (const { endpoint, method } of endpoints) {
      await fc.assert(
        fc.asyncProperty(requestArb(endpoint), async (input) => {
          await send(randomProbe(endpoint, method, input));
          return true;
        }),
        // An unexported method (405) or a preflight needs few tries; the endpoint's own methods many.
        { numRuns: method === 'OPTIONS' || !endpoint.methods.includes(method) ? Math.max(2, Math.ceil(RUNS_PER_ENDPOINT / 8)) : RUNS_PER_ENDPOINT, seed: SEED, endOnFailure: true },
      );
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `hostile-input property suite (seed ${SEED}): ${endpoints.length} endpoint-methods, ${stats.requests} requests in ${seconds} s; ` +
        `5xx ${stats.server5xx}, without envelope ${stats.withoutEnvelope}, breaches ${stats.breaches}, stored on refusal ${stats.storedOnRefusal}; ` +
        `statuses ${JSON.stringify(stats.byStatus)}`,
    );
    if (problems.length > 0) console.log(problems.join('\n'));
    if (process.env.HOSTILE_SUMMARY_FILE) {
      writeFileSync(process.env.HOSTILE_SUMMARY_FILE, JSON.stringify({ seed: SEED, endpointMethods: endpoints.length, seconds: Number(seconds), ...stats, problems }, null, 2));
    }
    expect({ server5xx: stats.server5xx, withoutEnvelope: stats.withoutEnvelope, breaches: stats.breaches, storedOnRefusal: stats.storedOnRefusal }).toEqual({
      server5xx: 0,
      withoutEnvelope: 0,
      breaches: 0,
      storedOnRefusal: 0,
    });
  }, 300_000);
});
