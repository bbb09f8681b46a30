// The provider sandbox: one local HTTP server that speaks Nango's, Gmail's, Google
// Calendar's, Salesforce's and Firebase's wire formats, so switchyard's real clients can
// run against it in tests and in the local demo.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type Context, type Next } from 'hono';
import { calendarRoutes } from './calendar/routes';
import { CalendarStore } from './calendar/store';
import { controlRoutes } from './control';
import {
  backendErrorBody,
  gmailQuotaExceeded,
  googleError,
  googleRateLimited,
  rateLimitedBody,
  salesforceError,
  unauthenticatedBody,
  type Provider,
} from './errors';
import { FaultController } from './faults';
import { FirebaseIssuer, firebaseRoutes } from './firebase';
import { gmailRoutes } from './gmail/routes';
import { llmRoutes } from './llm';
import { GmailStore } from './gmail/store';
import { makeOwner } from './gmail/generate';
import { nangoRoutes, signWebhookBody, stableStringify, type TriggeredSync } from './nango';
import { gmailCost, QuotaLedger, SALESFORCE_DAILY_API_REQUESTS, type UserUsage } from './quotas';
import { salesforceRoutes } from './salesforce/routes';
import { SalesforceStore } from './salesforce/store';
import { ConnectionRegistry, connectionIdsFor, type ConnectionKind } from './tokens';
import type { Sandbox, SandboxOptions, SandboxSizes, SandboxUser, WebhookDelivery } from './types';

type SandboxEnv = { Variables: { account: string } };

const KIND_OF: Partial<Record<Provider, ConnectionKind>> = { gmail: 'gmail', calendar: 'calendar', salesforce: 'salesforce' };
const DEFAULT_GMAIL_THREADS = 200;

/** Which provider a path belongs to; undefined for control, Firebase and unknown paths. */
export function providerOfPath(path: string): Provider | undefined {
  if (path.startsWith('/gmail/') || path.startsWith('/upload/gmail/')) return 'gmail';
  if (path.startsWith('/calendar/')) return 'calendar';
  if (path.startsWith('/services/')) return 'salesforce';
  if (/^\/(connections|connection|records|sync|integrations|providers|proxy|action|connect|environment-variables|scripts)(\/|$)/.test(path)) return 'nango';
  return undefined;
}

export async function startSandbox(opts: SandboxOptions): Promise<Sandbox> {
  const seed = opts.seed ?? 1;
  const clock = opts.clock ?? Date.now;
  const anchorTime = opts.anchorTime ?? clock();
  let baseUrl = '';
  const instanceUrl = () => baseUrl;

  const registry = new ConnectionRegistry(clock, instanceUrl);
  const quotas = new QuotaLedger(clock);
  const firebase = await FirebaseIssuer.create(opts.firebaseProjectId, clock);
  const gmail = new GmailStore(seed, { anchorTime, historyKeep: opts.historyKeep ?? 1000, clock });
  const calendar = new CalendarStore(seed);
  const salesforce = new SalesforceStore(seed);
  const users = new Map<string, SandboxUser>();
  const webhookLog: WebhookDelivery[] = [];
  const triggeredSyncs: TriggeredSync[] = [];

  const expireTokens = (provider?: Provider) => {
    const kind = provider ? KIND_OF[provider] : undefined;
    registry.expire(kind ? [kind] : undefined);
  };
  const faults = new FaultController(seed, (p) => expireTokens(p));

  const app = new Hono<SandboxEnv>();

  /**
   * A write the provider has applied may still be answered with a 5xx, or not at all (the faults'
   * after-apply rates): the change is made, the client cannot know it.
   */
  const afterApply = async (c: Context<SandboxEnv>, provider: Provider): Promise<void> => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.res.status >= 300) return;
    const outcome = faults.decideAfterApply(provider);
    if (outcome === 'pass') return;
    if (outcome === 'hang') await faults.wait(faults.hangMs(provider), c.req.raw.signal);
    const status = outcome === 'error500' ? 500 : 503;
    c.res = new Response(JSON.stringify(backendErrorBody(provider, status)), { status, headers: { 'content-type': 'application/json' } });
  };

  // Faults, then auth, then quotas, for every provider path.
  app.use('*', async (c: Context<SandboxEnv>, next: Next) => {
    const provider = providerOfPath(c.req.path);
    if (!provider) return next();
    const signal = c.req.raw.signal;
    await faults.wait(faults.latency(provider), signal);
    const outcome = faults.decide(provider);
    if (outcome === 'hang') {
      await faults.wait(faults.hangMs(provider), signal);
      return c.json(backendErrorBody(provider, 503) as object, 503);
    }
    if (outcome === 'error500' || outcome === 'error503') {
      const status = outcome === 'error500' ? 500 : 503;
      return c.json(backendErrorBody(provider, status) as object, status);
    }
    if (outcome === 'rateLimit') {
      c.header('Retry-After', String(faults.retryAfter(provider)));
      return c.json(rateLimitedBody(provider) as object, 429);
    }
    if (provider === 'nango') return next();

    const kind = KIND_OF[provider] as ConnectionKind;
    const header = c.req.header('authorization') ?? '';
    const bearer = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(header)?.[1]?.trim();
    const record = bearer ? registry.resolve(bearer) : undefined;
    if (!record) {
      if (provider !== 'salesforce') c.header('WWW-Authenticate', 'Bearer realm="https://accounts.google.com/", error="invalid_token"');
      return c.json(unauthenticatedBody(provider) as object, 401);
    }
    if (record.kind !== kind) {
      if (provider === 'salesforce') return c.json(unauthenticatedBody(provider) as object, 401);
      return c.json(
        googleError(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', 'global', {}, 'Insufficient Permission'),
        403,
      );
    }
    const account = record.userId;
    c.set('account', account);

    if (provider === 'gmail') {
      const r = quotas.consume(account, 'gmail', gmailCost(c.req.method, c.req.path));
      if (!r.ok) return c.json(gmailQuotaExceeded(), 429);
      await next();
      return afterApply(c, provider);
    }
    if (provider === 'calendar') {
      const r = quotas.consume(account, 'calendar', 1);
      if (!r.ok) return c.json(googleRateLimited(403), 403);
      await next();
      return afterApply(c, provider);
    }
    // salesforce
    const r = quotas.consume(account, 'salesforce', 1);
    const usage = `api-usage=${r.used}/${SALESFORCE_DAILY_API_REQUESTS}`;
    if (!r.ok) {
      c.header('Sforce-Limit-Info', usage);
      return c.json(salesforceError('REQUEST_LIMIT_EXCEEDED', 'TotalRequests Limit exceeded.'), 403);
    }
    await next();
    await afterApply(c, provider);
    try {
      c.res.headers.set('Sforce-Limit-Info', usage);
    } catch {
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('Sforce-Limit-Info', usage);
    }
  });

  app.route('/', firebaseRoutes(firebase));
  app.route('/', nangoRoutes({ registry, secretKey: opts.nangoSecretKey, instanceUrl, triggered: triggeredSyncs }));
  app.route('/', gmailRoutes(gmail));
  app.route('/', calendarRoutes(calendar));
  app.route('/', salesforceRoutes(salesforce));
  app.route('/', llmRoutes());

  const ensureUser = (userId: string, sizes: SandboxSizes = {}): SandboxUser => {
    const existing = users.get(userId);
    if (existing) return existing;
    const owner = makeOwner(seed, userId);
    const ids = registry.ensure(userId, owner.email, owner.name);
    gmail.ensureAccount(userId, { threads: sizes.gmailThreads ?? DEFAULT_GMAIL_THREADS });
    calendar.ensureAccount(userId, sizes.calendarEvents !== undefined ? { events: sizes.calendarEvents } : undefined);
    const sf: { leads?: number; contacts?: number; accounts?: number; opportunities?: number } = {};
    if (sizes.leads !== undefined) sf.leads = sizes.leads;
    if (sizes.contacts !== undefined) sf.contacts = sizes.contacts;
    if (sizes.accounts !== undefined) sf.accounts = sizes.accounts;
    if (sizes.opportunities !== undefined) sf.opportunities = sizes.opportunities;
    salesforce.ensureAccount(userId, sf);
    const user: SandboxUser = { userId, email: owner.email, displayName: owner.name, connectionIds: ids };
    users.set(userId, user);
    return user;
  };

  const signWebhook = (rawBody: string) => signWebhookBody(opts.webhookSigningKey, rawBody);

  const sendWebhook = async (targetUrl: string, payload: object): Promise<Response> => {
    const body = stableStringify(payload);
    const delivery: WebhookDelivery = { url: targetUrl, body, status: null, at: new Date().toISOString() };
    webhookLog.push(delivery);
    if (webhookLog.length > 1000) webhookLog.shift();
    try {
      const res = await fetch(targetUrl, {
        method: 'POST',
        headers: { ...signWebhook(body), 'content-type': 'application/json', 'user-agent': 'nango-sandbox' },
        body,
        signal: AbortSignal.timeout(20_000),
      });
      delivery.status = res.status;
      return res;
    } catch (err) {
      delivery.error = err instanceof Error ? err.message : String(err);
      throw err;
    }
  };

  function quotaUsage(): Record<string, UserUsage>;
  function quotaUsage(userId: string): UserUsage;
  function quotaUsage(userId?: string): UserUsage | Record<string, UserUsage> {
    if (userId !== undefined) return quotas.usageOf(userId);
    const out: Record<string, UserUsage> = {};
    for (const u of new Set([...users.keys(), ...quotas.users()])) out[u] = quotas.usageOf(u);
    return out;
  }

  const sandbox: Sandbox = {
    get url() {
      return baseUrl;
    },
    seed,
    async close() {
      faults.releaseAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    ensureUser,
    connectionIds: (userId: string) => connectionIdsFor(userId),
    mintIdToken: (sub, o) => firebase.mint(sub, o),
    signWebhook,
    sendWebhook,
    setFaults: (provider, f) => faults.set(provider, f),
    getFaults: (provider) => faults.get(provider),
    faultStats: (provider) => ({ ...faults.stats(provider) }),
    expireTokens,
    accessToken(userId, kind) {
      const record = registry.get(connectionIdsFor(userId)[kind]);
      if (!record) throw new Error(`No ${kind} connection for ${userId}`);
      return registry.currentToken(record, false).accessToken;
    },
    quotaUsage,
    gmail,
    calendar,
    salesforce,
    connections: registry,
    quotas,
    firebase,
    webhookLog,
    triggeredSyncs,
    app,
  };

  // Control routes last: they need the sandbox object.
  app.route('/', controlRoutes(sandbox, faults));
  app.onError((err, c) => {
    const provider = providerOfPath(c.req.path);
    console.error(`[sandbox] ${c.req.method} ${c.req.path} failed:`, err);
    if (provider) return c.json(backendErrorBody(provider, 500) as object, 500);
    return c.json({ error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `No sandbox route for ${c.req.method} ${c.req.path}` } }, 404));

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: opts.port ?? 0, hostname: opts.hostname ?? '127.0.0.1' }, () => resolve(s as Server));
    (s as Server).once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  baseUrl = `http://${host}:${address.port}`;
  return sandbox;
}
