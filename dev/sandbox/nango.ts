// The Nango part of the sandbox: the REST paths @nangohq/node calls, webhook payload
// builders and webhook signing exactly as Nango signs them.
import { createHash, createHmac } from 'node:crypto';
import { Hono } from 'hono';
import type {
  NangoAuthWebhookBody,
  NangoSyncWebhookBodyError,
  NangoSyncWebhookBodySuccess,
} from '@nangohq/node';
import { nangoError } from './errors';
import {
  CONNECTION_KINDS,
  PROVIDER_CONFIG_KEYS,
  type ConnectionKind,
  type ConnectionRecord,
  type ConnectionRegistry,
} from './tokens';

// ---------------------------------------------------------------------------
// Serialisation and signatures

/**
 * JSON with object keys sorted at every depth, as Nango serialises webhook bodies
 * (safe-stable-stringify's stableStringify): arrays keep their order, `undefined`
 * members are dropped, `toJSON` (Dates) is honoured.
 */
export function stableStringify(value: unknown): string {
  const out = serialise(value);
  return out === undefined ? 'null' : out;
}

function serialise(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return String(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => serialise(v) ?? 'null').join(',')}]`;
  }
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const v = serialise(obj[key]);
    if (v !== undefined) parts.push(`${JSON.stringify(key)}:${v}`);
  }
  return `{${parts.join(',')}}`;
}

export interface WebhookSignatureHeaders {
  'X-Nango-Hmac-Sha256': string;
  'X-Nango-Signature': string;
}

/**
 * Nango's two signature headers over the exact raw body: `X-Nango-Hmac-Sha256` is the hex
 * HMAC-SHA256 keyed with the signing key; the legacy `X-Nango-Signature` is the hex
 * SHA-256 of (key + body).
 */
export function signWebhookBody(signingKey: string, rawBody: string): WebhookSignatureHeaders {
  return {
    'X-Nango-Hmac-Sha256': createHmac('sha256', signingKey).update(rawBody).digest('hex'),
    'X-Nango-Signature': createHash('sha256').update(`${signingKey}${rawBody}`).digest('hex'),
  };
}

// ---------------------------------------------------------------------------
// Webhook payloads

/** The syncs (names and models) the sandbox reports, per connection kind. */
export const SYNCS = {
  gmail: { syncName: 'gmail-threads', model: 'GmailThread' },
  calendar: { syncName: 'calendar-events', model: 'CalendarEvent' },
  salesforce: {
    Lead: { syncName: 'salesforce-leads', model: 'SalesforceLead' },
    Contact: { syncName: 'salesforce-contacts', model: 'SalesforceContact' },
    Account: { syncName: 'salesforce-accounts', model: 'SalesforceAccount' },
    Opportunity: { syncName: 'salesforce-opportunities', model: 'SalesforceOpportunity' },
  },
} as const;

export type SalesforceObject = keyof typeof SYNCS.salesforce;

/** 'lead', 'Leads', 'LEAD' -> 'Lead'; undefined when it is none of the four. */
export function salesforceObjectName(name: string): SalesforceObject | undefined {
  const n = name.toLowerCase();
  for (const key of Object.keys(SYNCS.salesforce) as SalesforceObject[]) {
    const k = key.toLowerCase();
    if (n === k || n === `${k}s` || (k === 'opportunity' && n === 'opportunities')) return key;
  }
  return undefined;
}

export interface SyncWebhookBase {
  connectionId: string;
  providerConfigKey: string;
  syncName: string;
  model: string;
  syncVariant?: string;
  syncType?: 'INCREMENTAL' | 'INITIAL' | 'WEBHOOK';
}

/** What a sync webhook says whether the sync succeeded or failed: which connection, sync and model. */
function syncWebhookHead(input: SyncWebhookBase) {
  return {
    from: 'nango' as const,
    type: 'sync' as const,
    connectionId: input.connectionId,
    providerConfigKey: input.providerConfigKey,
    syncName: input.syncName,
    syncVariant: input.syncVariant ?? 'base',
    model: input.model,
  };
}

export function syncSuccessPayload(
  input: SyncWebhookBase & {
    responseResults?: Partial<{ added: number; updated: number; deleted: number }>;
    modifiedAfter?: string | Date;
  },
): NangoSyncWebhookBodySuccess {
  const syncType = input.syncType ?? 'INCREMENTAL';
  const modifiedAfter = new Date(input.modifiedAfter ?? Date.now()).toISOString();
  return {
    ...syncWebhookHead(input),
    syncType,
    success: true,
    modifiedAfter,
    responseResults: {
      added: input.responseResults?.added ?? 0,
      updated: input.responseResults?.updated ?? 0,
      deleted: input.responseResults?.deleted ?? 0,
    },
    queryTimeStamp: syncType === 'INITIAL' ? null : modifiedAfter,
  };
}

export function syncFailurePayload(
  input: SyncWebhookBase & {
    error?: { type: string; description: string };
    startedAt?: string | Date;
    failedAt?: string | Date;
  },
): NangoSyncWebhookBodyError {
  const failedAt = new Date(input.failedAt ?? Date.now());
  const startedAt = new Date(input.startedAt ?? failedAt.getTime() - 30_000);
  return {
    ...syncWebhookHead(input),
    syncType: input.syncType ?? 'INCREMENTAL',
    success: false,
    error: input.error ?? { type: 'script_http_error', description: 'The external API returned an error' },
    startedAt: startedAt.toISOString(),
    failedAt: failedAt.toISOString(),
  };
}

export function authPayload(input: {
  connectionId: string;
  providerConfigKey: string;
  provider?: string;
  operation?: 'creation' | 'override' | 'refresh';
  environment?: string;
  success?: boolean;
  endUser?: { endUserId: string; endUserEmail?: string | null; organizationId?: string; tags?: Record<string, string> };
  error?: { type: string; description: string };
}): NangoAuthWebhookBody {
  const base = {
    from: 'nango',
    type: 'auth' as const,
    connectionId: input.connectionId,
    authMode: 'OAUTH2' as const,
    providerConfigKey: input.providerConfigKey,
    provider: input.provider ?? input.providerConfigKey,
    environment: input.environment ?? 'dev',
    operation: input.operation ?? 'creation',
    ...(input.endUser
      ? {
          endUser: {
            endUserId: input.endUser.endUserId,
            ...(input.endUser.endUserEmail !== undefined ? { endUserEmail: input.endUser.endUserEmail } : {}),
            ...(input.endUser.organizationId !== undefined ? { organizationId: input.endUser.organizationId } : {}),
            tags: input.endUser.tags ?? {},
          },
        }
      : {}),
  };
  if (input.success === false) {
    return {
      ...base,
      success: false,
      error: input.error ?? { type: 'refresh_token_external_error', description: 'The external API returned an error when trying to refresh the access token' },
    };
  }
  return { ...base, success: true };
}

/** A sync-success payload for one of a sandbox user's connections. */
export function syncPayloadFor(
  userId: string,
  kind: ConnectionKind,
  sync: { syncName: string; model: string },
  responseResults: Partial<{ added: number; updated: number; deleted: number }>,
  modifiedAfter: Date = new Date(),
): NangoSyncWebhookBodySuccess {
  return syncSuccessPayload({
    connectionId: `${kind}-${userId}`,
    providerConfigKey: PROVIDER_CONFIG_KEYS[kind],
    syncName: sync.syncName,
    model: sync.model,
    responseResults,
    modifiedAfter,
  });
}

// ---------------------------------------------------------------------------
// REST routes

export interface TriggeredSync {
  providerConfigKey: string;
  connectionId: string | undefined;
  syncs: unknown[];
  at: string;
}

export interface NangoRoutesOptions {
  registry: ConnectionRegistry;
  secretKey?: string;
  instanceUrl: () => string;
  /** Every POST /sync/trigger lands here. */
  triggered: TriggeredSync[];
}

const KNOWN_CONFIG_KEYS = new Set<string>(CONNECTION_KINDS.map((k) => PROVIDER_CONFIG_KEYS[k]));

function endUserOf(record: ConnectionRecord) {
  return {
    id: record.userId,
    display_name: record.displayName,
    email: record.email,
    tags: null,
    organization: null,
  };
}

function tagsOf(record: ConnectionRecord): Record<string, string> {
  return {
    end_user_display_name: record.displayName,
    end_user_email: record.email,
    end_user_id: record.userId,
  };
}

export function nangoRoutes(opts: NangoRoutesOptions): Hono {
  const app = new Hono();
  const { registry } = opts;

  const guarded = ['/connections', '/connections/*', '/records', '/records/*', '/sync/*', '/integrations', '/integrations/*'];
  for (const path of guarded) {
    app.use(path, async (c, next) => {
      if (!opts.secretKey) return next();
      const header = c.req.header('authorization');
      if (!header) {
        return c.json(
          nangoError('missing_auth_header', 'Authentication failed. The request is missing the Authorization header.', { payload: {} }),
          401,
        );
      }
      const match = /^Bearer\s+(.+)$/i.exec(header);
      if (!match || match[1] !== opts.secretKey) {
        return c.json(nangoError('unknown_account', 'The secret key is invalid'), 401);
      }
      return next();
    });
  }

  app.get('/connections', (c) => {
    const connectionId = c.req.query('connectionId');
    const endUserId = c.req.query('endUserId');
    const integrationIds = c.req.query('integrationId')?.split(',').filter(Boolean);
    const search = c.req.query('search');
    const limit = Math.min(Math.max(Number(c.req.query('limit') ?? 1000) || 1000, 1), 10_000);
    const page = Math.max(Number(c.req.query('page') ?? 0) || 0, 0);
    const tagFilters: Array<[string, string]> = [];
    for (const [key, value] of Object.entries(c.req.query())) {
      const m = /^tags\[(.+)\]$/.exec(key);
      if (m && m[1]) tagFilters.push([m[1], value]);
    }
    const rows = registry
      .list()
      .filter((r) => !connectionId || r.connectionId === connectionId)
      .filter((r) => !endUserId || r.userId === endUserId)
      .filter((r) => !integrationIds || integrationIds.includes(r.providerConfigKey))
      .filter((r) => !search || r.connectionId.includes(search))
      .filter((r) => tagFilters.every(([k, v]) => tagsOf(r)[k] === v))
      .slice(page * limit, page * limit + limit);
    return c.json({
      connections: rows.map((r) => ({
        id: r.id,
        connection_id: r.connectionId,
        provider_config_key: r.providerConfigKey,
        provider: r.provider,
        created: r.createdAt,
        metadata: null,
        errors: [],
        end_user: endUserOf(r),
        tags: tagsOf(r),
      })),
    });
  });

  app.get('/connections/:connectionId', (c) => {
    const providerConfigKey = c.req.query('provider_config_key');
    if (!providerConfigKey) {
      return c.json(
        nangoError('invalid_query_params', undefined, {
          errors: [{ code: 'invalid_type', message: 'Required', path: ['provider_config_key'] }],
        }),
        400,
      );
    }
    if (!KNOWN_CONFIG_KEYS.has(providerConfigKey)) {
      return c.json(nangoError('unknown_provider_config', 'Provider does not exists'), 400);
    }
    const record = registry.get(c.req.param('connectionId'));
    if (!record || record.providerConfigKey !== providerConfigKey) {
      return c.json(nangoError('not_found', 'Failed to find connection'), 404);
    }
    const forceRefresh = c.req.query('force_refresh') === 'true';
    const token = registry.currentToken(record, forceRefresh);
    const credentials = registry.credentials(record, token);
    if (c.req.query('refresh_token') === 'true') credentials['refresh_token'] = `sandbox-refresh-${record.connectionId}`;
    return c.json({
      id: record.id,
      connection_id: record.connectionId,
      provider_config_key: record.providerConfigKey,
      provider: record.provider,
      created_at: record.createdAt,
      updated_at: record.updatedAt,
      last_fetched_at: record.lastFetchedAt,
      metadata: null,
      connection_config: record.kind === 'salesforce' ? { instance_url: opts.instanceUrl() } : {},
      errors: [],
      end_user: endUserOf(record),
      tags: tagsOf(record),
      credentials,
    });
  });

  app.delete('/connections/:connectionId', (c) => {
    const providerConfigKey = c.req.query('provider_config_key');
    const record = registry.get(c.req.param('connectionId'));
    if (!record || (providerConfigKey && record.providerConfigKey !== providerConfigKey)) {
      return c.json(nangoError('unknown_connection', 'Failed to find connection'), 404);
    }
    registry.delete(record.connectionId);
    return c.json({ success: true });
  });

  app.get('/records', (c) => recordsHandler(c.req.header('connection-id'), c.req.header('provider-config-key'), c.req.query('model')));
  app.get('/records/', (c) => recordsHandler(c.req.header('connection-id'), c.req.header('provider-config-key'), c.req.query('model')));

  function recordsHandler(connectionId: string | undefined, providerConfigKey: string | undefined, model: string | undefined): Response {
    if (!model) {
      return Response.json(
        nangoError('invalid_query_params', undefined, { errors: [{ code: 'invalid_type', message: 'Required', path: ['model'] }] }),
        { status: 400 },
      );
    }
    const record = connectionId ? registry.get(connectionId) : undefined;
    if (!record || record.providerConfigKey !== providerConfigKey) {
      return Response.json(nangoError('unknown_connection', 'Provided ConnectionId and ProviderConfigKey do not match a valid connection'), {
        status: 404,
      });
    }
    // The sandbox keeps no Nango-side record cache: switchyard reads the providers directly.
    return Response.json({ records: [], next_cursor: null });
  }

  app.post('/sync/trigger', async (c) => {
    const body = (await c.req.json().catch(() => null)) as
      | { syncs?: unknown[]; provider_config_key?: string; connection_id?: string }
      | null;
    if (!body || typeof body.provider_config_key !== 'string') {
      return c.json(nangoError('invalid_body', 'provider_config_key is required'), 400);
    }
    if (!KNOWN_CONFIG_KEYS.has(body.provider_config_key)) {
      return c.json(nangoError('unknown_provider_config', 'Provider does not exists'), 400);
    }
    if (body.connection_id && !registry.get(body.connection_id)) {
      return c.json(nangoError('unknown_connection', 'Failed to find connection'), 404);
    }
    opts.triggered.push({
      providerConfigKey: body.provider_config_key,
      connectionId: body.connection_id,
      syncs: Array.isArray(body.syncs) ? body.syncs : [],
      at: new Date().toISOString(),
    });
    return c.json({ success: true });
  });

  return app;
}
