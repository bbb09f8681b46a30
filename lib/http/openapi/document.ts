import { z } from 'zod';
import { apiRoutes, type Auth, type OperationSpec, type RouteSpec } from './routes';
import { errorEnvelope } from './schemas';

/**
 * The OpenAPI 3.1 document of api/, generated from the routes' own zod schemas with zod 4's
 * z.toJSONSchema (draft 2020-12, which OpenAPI 3.1 uses as is): no generator library to keep in step
 * with zod, and request schemas read as the client sends them (`io: 'input'`), answers as the server
 * writes them (`io: 'output'`).
 */

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** The object a query schema validates (through a refinement or a transform), or null. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | null {
  if (schema instanceof z.ZodObject) return schema.shape as Record<string, z.ZodType>;
  if (schema instanceof z.ZodPipe) return objectShape(schema.in as z.ZodType);
  return null;
}

const SECURITY: Record<Auth, Record<string, string[]>[]> = {
  public: [],
  user: [{ firebaseIdToken: [] }, { apiKey: [] }],
  firebase: [{ firebaseIdToken: [] }],
  admin: [{ adminKey: [] }],
  userOrAdmin: [{ firebaseIdToken: [] }, { apiKey: [] }, { adminKey: [] }],
  cron: [{ cronSecret: [] }],
  metrics: [{ metricsToken: [] }],
  nango: [{ nangoSignature: [] }],
};

const ERROR = { $ref: '#/components/responses/Error' };

/** `api/units/[id]` → `/api/units/{id}` (an index file is its folder's path, as on Vercel). */
export function openapiPath(routeKey: string): string {
  return `/${routeKey.replace(/\/index$/, '').replace(/\[(\w+)\]/g, '{$1}')}`;
}

/** The route's `[name]` segments, given to every operation of its path (a positive integer id unless said). */
function pathParameters(routeKey: string, route: RouteSpec): JsonSchema[] {
  return [...routeKey.matchAll(/\[(\w+)\]/g)].map((match) => {
    const schema = route.params?.[match[1]!];
    return {
      name: match[1],
      in: 'path',
      required: true,
      schema: schema ? jsonSchema(schema, 'input') : { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
    };
  });
}

function operation(routeKey: string, method: string, spec: OperationSpec): JsonSchema {
  const parameters: JsonSchema[] = [];
  const shape = spec.query ? objectShape(spec.query) : null;
  for (const [name, field] of Object.entries(shape ?? {})) {
    const schema = jsonSchema(field, 'input');
    parameters.push({
      name,
      in: 'query',
      required: !field.safeParse(undefined).success,
      schema: spec.repeatable?.includes(name) ? { type: 'array', items: schema } : schema,
      ...(spec.repeatable?.includes(name) ? { style: 'form', explode: true } : {}),
    });
  }
  if (spec.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: true,
      description: 'A unique key per request (e.g. a UUID): the same key with the same request answers the first outcome again.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  const responses: JsonSchema = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    responses[status] = {
      description: response.description,
      ...(response.schema ? { content: { [response.contentType ?? 'application/json']: { schema: jsonSchema(response.schema, 'output') } } } : {}),
    };
  }
  responses['4XX'] = ERROR;
  responses['5XX'] = ERROR;
  return {
    operationId: `${method.toLowerCase()}${openapiPath(routeKey).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: [tagOf(routeKey)],
    security: SECURITY[spec.auth],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(spec.body
      ? { requestBody: { required: !spec.bodyOptional, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } } }
      : {}),
    responses,
  };
}

function tagOf(routeKey: string): string {
  const [, first, second] = routeKey.split('/');
  if (first === 'admin' || first === 'cron' || first === 'webhooks') return first;
  if (first === 'emails' || first === 'calendar' || first === 'crm' || first === 'interactions') return 'data';
  if (first === 'units' || first === 'runs') return 'automations';
  if (first === 'connections' || first === 'syncs') return 'connections';
  return second === undefined ? 'service' : first!;
}

function preflightOperation(routeKey: string): JsonSchema {
  return {
    operationId: `options${openapiPath(routeKey).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: 'CORS preflight (origins of CORS_ORIGINS), or the allowed methods',
    tags: [tagOf(routeKey)],
    security: [],
    responses: { 204: { description: 'The methods and headers allowed (Allow, Access-Control-Allow-*)' }, '4XX': ERROR, '5XX': ERROR },
  };
}

let built: JsonSchema | undefined;

/** The document (built once per instance: the routes do not change while it runs). */
export function openapiDocument(): JsonSchema {
  if (built) return built;
  const paths: JsonSchema = {};
  for (const [routeKey, route] of Object.entries(apiRoutes)) {
    const parameters = pathParameters(routeKey, route);
    const item: JsonSchema = parameters.length > 0 ? { parameters } : {};
    for (const [method, spec] of Object.entries(route.methods)) item[method.toLowerCase()] = operation(routeKey, method, spec!);
    if (route.cors) item.options = preflightOperation(routeKey);
    paths[openapiPath(routeKey)] = item;
  }
  built = {
    openapi: '3.1.0',
    info: {
      title: 'switchyard',
      version: '0.1.0',
      description:
        'Gmail, Google Calendar and Salesforce kept in sync in Postgres, automations on what arrives, and actions on the providers. ' +
        'Errors are always the envelope below; lists take ?limit= (1..100) and an opaque ?cursor= and answer {data, nextCursor}, newest first. ' +
        'Every response carries x-request-id.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'connections', description: 'Nango connections and their syncs' },
      { name: 'data', description: 'Synced mail, calendar, CRM records and the timeline; actions on them' },
      { name: 'automations', description: 'Units (prompts compiled to conditions and steps) and their runs' },
      { name: 'actions', description: 'Actions taken on a provider, exactly once per Idempotency-Key' },
      { name: 'admin', description: 'Operators (ADMIN_API_KEY): the queue, syncs, webhooks, automations' },
      { name: 'cron', description: 'Vercel Cron (CRON_SECRET)' },
      { name: 'webhooks', description: "Nango's webhooks" },
    ],
    paths,
    components: {
      schemas: { Error: jsonSchema(errorEnvelope, 'output') },
      responses: {
        Error: {
          description: 'The error envelope, with the status of its code (400, 401 with WWW-Authenticate, 403, 404, 405 with Allow, 409, 413, 415, 422, 429 with Retry-After, 503)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      securitySchemes: {
        firebaseIdToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "A Firebase ID token of the project (FIREBASE_PROJECT_ID); its sub is the caller's user id." },
        apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'sk_…', description: 'An API key (POST /api/api-keys): acts as its user within its scopes (read, write).' },
        adminKey: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_KEY: the operators.' },
        cronSecret: { type: 'http', scheme: 'bearer', description: 'CRON_SECRET: Vercel Cron.' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN: the Prometheus scraper.' },
        nangoSignature: { type: 'apiKey', in: 'header', name: 'X-Nango-Hmac-Sha256', description: 'Hex HMAC-SHA256 of the raw body with NANGO_WEBHOOK_SIGNING_KEY.' },
      },
    },
  };
  return built;
}
