import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOCS_ASSETS, DOCS_DIR, swaggerUiDir } from '../dev/build-docs';
import { discoverRoutes } from '../dev/server';
import { openapiPath } from '../lib/http/openapi/document';
import { ADMIN_API_KEY, CRON_SECRET } from './helpers/server';
import { useSandboxedApp } from './helpers/sandbox-app';

/**
 * The OpenAPI document (GET /api/openapi.json): it names every route file under api/ with every
 * method the file exports, and real answers of the API, successes and errors, validate against it.
 */
const app = useSandboxedApp({ WEBHOOK_KICK_RUNNER: 'false', ACTIONS_KICK_RUNNER: 'false' });
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

type Json = Record<string, any>;
let doc: Json;

beforeAll(async () => {
  // Compiling every schema blocks this process (the server's too) for seconds: the server's idle-socket
  // timer would then close a kept-alive connection just as the next request is written on it (ECONNRESET).
  app.server.server.keepAliveTimeout = 120_000;
  const response = await fetch(`${app.url}/api/openapi.json`);
  expect(response.status).toBe(200);
  doc = await response.json();
  app.sandbox.ensureUser('alice');
});

describe('the document', () => {
  it('is OpenAPI 3.1 with the security schemes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['adminKey', 'apiKey', 'cronSecret', 'firebaseIdToken', 'metricsToken', 'nangoSignature']);
  });

  it('names every route file under api/ and every method it exports, and nothing else', async () => {
    const missing: string[] = [];
    const documented = new Set<string>();
    for (const route of discoverRoutes()) {
      const key = route.file.slice(process.cwd().length + 1).replace(/\.ts$/, '');
      const path = openapiPath(key);
      documented.add(path);
      const module = (await import(route.file)) as Record<string, unknown>;
      for (const method of METHODS.filter((m) => typeof module[m] === 'function')) {
        if (!doc.paths[path]?.[method.toLowerCase()]) missing.push(`${method} ${path} (${key}.ts)`);
      }
      for (const method of Object.keys(doc.paths[path] ?? {}).filter((key) => key !== 'parameters')) {
        if (typeof module[method.toUpperCase()] !== 'function') missing.push(`${method.toUpperCase()} ${path} is documented but ${key}.ts does not export it`);
      }
    }
    expect(missing).toEqual([]);
    expect(Object.keys(doc.paths).filter((path) => !documented.has(path))).toEqual([]);
  });

  it('gives each path parameter, each operation the error envelope, and each schema compiles', () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      for (const name of [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
        expect(item.parameters?.some((p: Json) => p.in === 'path' && p.name === name), `${path} ${name}`).toBe(true);
      }
      for (const [method, operation] of Object.entries<Json>(item)) {
        if (method === 'parameters') continue;
        expect(operation.responses['4XX']).toEqual({ $ref: '#/components/responses/Error' });
        for (const response of Object.values<Json>(operation.responses)) {
          const schema = response.content?.['application/json']?.schema;
          if (schema && !schema.$ref) ajv.compile(schema);
        }
      }
    }
  });
});

describe('the reference page at /docs', () => {
  it('is served with its assets from the deployment, the installed swagger-ui-dist\'s, and loads nothing from another origin', async () => {
    for (const path of ['/docs', '/docs/']) {
      const page = await fetch(app.url + path).catch((error) => { throw new Error(`${path}: ${error.cause}`); });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      const html = await page.text();
      expect(html).toContain('/docs/reference.js');
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    }
    for (const asset of [...DOCS_ASSETS, 'reference.js']) expect((await fetch(`${app.url}/docs/${asset}`)).status).toBe(200);
    expect(readFileSync(join(DOCS_DIR, 'reference.js'), 'utf8')).toMatch(/url: '\/api\/openapi\.json'[\s\S]*validatorUrl: null/);
    // Rebuilt (npm run build:docs) whenever swagger-ui-dist is upgraded.
    for (const asset of DOCS_ASSETS) {
      expect(readFileSync(join(DOCS_DIR, asset)).equals(readFileSync(join(swaggerUiDir(), asset))), asset).toBe(true);
    }
  });
});

describe('real answers validate against it', () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  const checked: string[] = [];
  const problems: string[] = [];

  /** The documented operation of a request path (a static segment wins over a parameter, as on Vercel). */
  function operationOf(method: string, pathname: string): { template: string; operation: Json } | undefined {
    const candidates = Object.keys(doc.paths)
      .filter((template) => new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`).test(pathname))
      .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
    const template = candidates[0];
    const operation = template ? doc.paths[template][method.toLowerCase()] : undefined;
    return template && operation ? { template, operation } : undefined;
  }

  function schemaFor(operation: Json, status: number): Json | undefined {
    let response = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`];
    if (response?.$ref) response = doc.components.responses[response.$ref.split('/').pop()];
    const schema = response?.content?.['application/json']?.schema;
    return schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop()] : schema;
  }

  /** Calls the API and checks the answer against the document: its status documented, its body valid. */
  async function call(method: string, path: string, init: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(app.url + path, { method, headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
    const text = await response.text();
    const body = text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
    const found = operationOf(method, new URL(app.url + path).pathname);
    const label = `${method} ${path} → ${response.status}`;
    if (!found && response.status === 405) {
      // A method the route does not export: the server's own answer, the envelope with Allow.
      const validate = ajv.compile(doc.components.schemas.Error);
      if (!validate(body) || !response.headers.get('allow')) problems.push(`${label}: ${ajv.errorsText(validate.errors)}`);
    } else if (!found) problems.push(`${label}: not documented`);
    else {
      const schema = schemaFor(found.operation, response.status);
      if (!found.operation.responses[String(response.status)] && !found.operation.responses[`${String(response.status)[0]}XX`]) problems.push(`${label}: status not documented`);
      else if (schema) {
        const validate = ajv.compile(schema);
        if (!validate(body)) problems.push(`${label}: ${ajv.errorsText(validate.errors)}`);
      }
      checked.push(`${method} ${found.template} ${response.status}`);
    }
    return { status: response.status, body };
  }

  it('for the frontend API, the operators\' API, crons and errors', async () => {
    const alice = await app.token('alice');
    const admin = ADMIN_API_KEY;
    await call('GET', '/api/health');
    await call('GET', '/api/openapi.json');
    const connected = await call('POST', '/api/connections', { token: alice, body: { provider: 'gmail', connectionId: 'gmail-alice' } });
    expect(connected.status).toBe(201);
    await call('POST', '/api/connections', { token: alice, body: { provider: 'calendar', connectionId: 'calendar-alice' } });
    for (let pass = 0; pass < 10; pass++) {
      const { body } = await call('GET', '/api/cron/run-jobs', { token: CRON_SECRET });
      if (body.claimed === 0) break;
    }
    const connections = await call('GET', '/api/connections?limit=5', { token: alice });
    const gmail = connections.body.data.find((c: Json) => c.provider === 'gmail');
    const syncs = await call('POST', '/api/syncs', { token: alice, body: { providers: ['gmail'], mode: 'incremental' } });
    await call('GET', `/api/syncs/${syncs.body.jobs[0].id}`, { token: alice });
    const threads = await call('GET', '/api/emails?limit=3', { token: alice });
    if (threads.body.data[0]) await call('GET', `/api/emails/${threads.body.data[0].id}`, { token: alice });
    await call('GET', '/api/calendar/events?limit=3', { token: alice });
    await call('GET', '/api/interactions?limit=3', { token: alice });
    await call('GET', '/api/actions', { token: alice });
    const unit = await call('POST', '/api/units', { token: alice, body: { name: 'Invoices', prompt: 'when: email subject:invoice then: label Invoices' } });
    expect(unit.status).toBe(201);
    await call('GET', '/api/units', { token: alice });
    await call('GET', `/api/units/${unit.body.unit.id}`, { token: alice });
    await call('PATCH', `/api/units/${unit.body.unit.id}/status`, { token: alice, body: { status: 'paused' } });
    await call('POST', '/api/units/preview', { token: alice, body: { prompt: 'when: email subject:invoice then: label Invoices', limit: 5 } });
    await call('GET', '/api/runs', { token: alice });
    const key = await call('POST', '/api/api-keys', { token: alice, body: { name: 'script', scopes: ['read'] } });
    await call('GET', '/api/api-keys', { token: alice });
    await call('GET', '/api/connections', { token: key.body.key });
    await call('DELETE', `/api/api-keys/${key.body.apiKey.id}`, { token: alice });
    await call('GET', '/api/audit', { token: alice });

    await call('GET', '/api/admin/summary', { token: admin });
    const jobs = await call('GET', '/api/admin/jobs?limit=5', { token: admin });
    await call('GET', `/api/admin/jobs/${jobs.body.data[0].id}`, { token: admin });
    await call('POST', `/api/admin/jobs/${jobs.body.data[0].id}/retry`, { token: admin });
    await call('POST', '/api/admin/jobs/retry', { token: admin, body: { filter: { status: 'dead' }, limit: 10 } });
    await call('POST', '/api/admin/jobs/cancel', { token: admin, body: { ids: [jobs.body.data[0].id] } });
    await call('GET', '/api/admin/connections', { token: admin });
    await call('GET', `/api/admin/connections/${gmail.id}`, { token: admin });
    await call('POST', `/api/admin/connections/${gmail.id}/pause`, { token: admin });
    await call('POST', `/api/admin/connections/${gmail.id}/sync`, { token: admin });
    await call('POST', `/api/admin/connections/${gmail.id}/resume`, { token: admin });
    await call('POST', `/api/admin/connections/${gmail.id}/sync`, { token: admin });
    await call('GET', '/api/admin/webhooks?status=rejected', { token: admin });
    await call('GET', '/api/admin/units', { token: admin });
    await call('PATCH', `/api/admin/units/${unit.body.unit.id}/status`, { token: admin, body: { status: 'active' } });
    await call('GET', '/api/admin/runs', { token: admin });
    await call('GET', '/api/admin/runs/987654', { token: admin });
    await call('GET', '/api/audit?userId=alice', { token: admin });

    // Errors: each is the envelope, with a status the document lists.
    await call('GET', '/api/connections');
    await call('GET', '/api/connections?limit=0', { token: alice });
    await call('GET', '/api/units/987654', { token: alice });
    await call('PUT', '/api/units', { token: alice });
    await call('POST', '/api/units', { token: alice, body: { name: '' } });
    await call('GET', '/api/admin/jobs', { token: 'wrong' });
    await call('POST', `/api/admin/jobs/${jobs.body.data[0].id}/cancel`, { token: admin });

    expect(problems).toEqual([]);
    // Operations and statuses covered: most of the API, its errors included.
    expect(new Set(checked).size).toBeGreaterThanOrEqual(40);
  });
});
