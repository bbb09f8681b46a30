// The sandbox's own control API (/_sandbox/...): create users, change provider data, set
// faults, read quotas, mint Firebase tokens, and fire the matching signed Nango webhooks.
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { PROVIDERS, type Provider } from './errors';
import type { FaultController } from './faults';
import { GmailError } from './gmail/store';
import { SYNCS, authPayload, salesforceObjectName, syncPayloadFor } from './nango';
import { PROVIDER_CONFIG_KEYS, NANGO_PROVIDERS, CONNECTION_KINDS, type ConnectionKind } from './tokens';
import type { Sandbox } from './types';

const notify = z.object({ url: z.string().url() }).optional();

const usersBody = z.object({
  userId: z.string().min(1).max(200),
  sizes: z
    .object({
      gmailThreads: z.number().int().min(0).max(100_000).optional(),
      calendarEvents: z.number().int().min(0).max(100_000).optional(),
      leads: z.number().int().min(0).max(100_000).optional(),
      contacts: z.number().int().min(0).max(100_000).optional(),
      accounts: z.number().int().min(0).max(100_000).optional(),
      opportunities: z.number().int().min(0).max(100_000).optional(),
    })
    .optional(),
});

const gmailMessageBody = z.object({
  from: z.union([z.string().min(3), z.object({ name: z.string().optional(), email: z.string().min(3) })]),
  subject: z.string().optional(),
  text: z.string(),
  html: z.string().optional(),
  to: z.string().optional(),
  threadId: z.string().optional(),
  labelIds: z.array(z.string()).optional(),
  notify,
});

const gmailLabelsBody = z.object({
  addLabelIds: z.array(z.string()).optional(),
  removeLabelIds: z.array(z.string()).optional(),
  notify,
});

const moveBody = z.object({ minutes: z.number().int(), notify });
const patchBody = z.object({ fields: z.record(z.string(), z.unknown()), notify });
const webhookBody = z.object({ url: z.string().url(), payload: z.record(z.string(), z.unknown()) });
const authWebhookBody = z.object({
  url: z.string().url(),
  kind: z.enum(['gmail', 'calendar', 'salesforce']),
  operation: z.enum(['creation', 'override', 'refresh']).optional(),
  success: z.boolean().optional(),
});
const faultsBody = z.object({
  latencyMs: z.number().min(0).max(120_000).optional(),
  errorRate: z.number().min(0).max(1).optional(),
  rateLimitRate: z.number().min(0).max(1).optional(),
  retryAfterSeconds: z.number().min(0).max(86_400).optional(),
  expireTokens: z.boolean().optional(),
  hangRate: z.number().min(0).max(1).optional(),
  hangMs: z.number().min(0).max(120_000).optional(),
  errorAfterApplyRate: z.number().min(0).max(1).optional(),
  hangAfterApplyRate: z.number().min(0).max(1).optional(),
});
const tokenBody = z.object({
  sub: z.string().min(1),
  email: z.string().optional(),
  expiresInSeconds: z.number().int().optional(),
});

function bad(c: Context, message: string, details?: unknown) {
  return c.json({ error: { code: 'validation_failed', message, ...(details ? { details } : {}) } }, 400);
}

async function parse<T extends z.ZodType>(c: Context, schema: T): Promise<{ ok: true; data: z.infer<T> } | { ok: false; res: Response }> {
  const json = await c.req.json().catch(() => undefined);
  const r = schema.safeParse(json ?? {});
  if (!r.success) return { ok: false, res: bad(c, 'Invalid body', r.error.issues) };
  return { ok: true, data: r.data };
}

export function controlRoutes(sandbox: Sandbox, faults: FaultController): Hono {
  const app = new Hono();

  const deliver = async (url: string | undefined, payload: object) => {
    if (!url) return undefined;
    try {
      const res = await sandbox.sendWebhook(url, payload);
      return { url, status: res.status, payload };
    } catch (err) {
      return { url, status: null, error: err instanceof Error ? err.message : String(err), payload };
    }
  };

  const requireUser = (c: Context, userId: string) => {
    if (!sandbox.connections.get(sandbox.connectionIds(userId).gmail)) {
      return c.json({ error: { code: 'not_found', message: `Unknown sandbox user ${userId}` } }, 404);
    }
    return undefined;
  };

  /**
   * A control route about one sandbox user (`:userId`): 404 for a user the sandbox does not know, 400 for a
   * body the schema refuses; `run` gets the user and the parsed body.
   */
  const userRoute =
    <T extends z.ZodType>(schema: T | null, run: (c: Context, userId: string, body: z.infer<T>) => Response | Promise<Response>) =>
    async (c: Context) => {
      const userId = c.req.param('userId') ?? '';
      const missing = requireUser(c, userId);
      if (missing) return missing;
      if (!schema) return run(c, userId, undefined as z.infer<T>);
      const p = await parse(c, schema);
      if (!p.ok) return p.res;
      return run(c, userId, p.data);
    };
  /** A control answer, with the webhook it delivered when it was asked to notify. */
  const withWebhook = <T extends object>(answer: T, webhook: Awaited<ReturnType<typeof deliver>>) => ({ ...answer, ...(webhook ? { webhook } : {}) });

  app.get('/_sandbox/health', (c) => c.json({ status: 'ok', url: sandbox.url, seed: sandbox.seed }));

  app.post('/_sandbox/users', async (c) => {
    const p = await parse(c, usersBody);
    if (!p.ok) return p.res;
    const user = sandbox.ensureUser(p.data.userId, p.data.sizes);
    return c.json(user, 201);
  });

  app.get(
    '/_sandbox/users/:userId',
    userRoute(null, (c, userId) => c.json({ ...sandbox.ensureUser(userId), gmail: sandbox.gmail.profile(userId) })),
  );

  app.post(
    '/_sandbox/gmail/:userId/messages',
    userRoute(gmailMessageBody, async (c, userId, { notify: n, ...input }) => {
      let message;
      try {
        message = sandbox.gmail.addMessage(userId, input);
      } catch (err) {
        if (err instanceof GmailError) return c.json({ error: { code: 'not_found', message: err.message } }, err.status);
        throw err;
      }
      const newThread = message.id === message.threadId;
      const webhook = await deliver(n?.url, syncPayloadFor(userId, 'gmail', SYNCS.gmail, newThread ? { added: 1 } : { updated: 1 }));
      return c.json(withWebhook({ message }, webhook), 201);
    }),
  );

  app.post(
    '/_sandbox/gmail/:userId/messages/:id/labels',
    userRoute(gmailLabelsBody, async (c, userId, body) => {
      try {
        const message = sandbox.gmail.modifyMessage(userId, c.req.param('id')!, body.addLabelIds, body.removeLabelIds);
        const webhook = await deliver(body.notify?.url, syncPayloadFor(userId, 'gmail', SYNCS.gmail, { updated: 1 }));
        return c.json(withWebhook({ message }, webhook));
      } catch (err) {
        if (err instanceof GmailError) return c.json({ error: { code: err.status === 404 ? 'not_found' : 'invalid', message: err.message } }, err.status);
        throw err;
      }
    }),
  );

  app.delete(
    '/_sandbox/gmail/:userId/messages/:id',
    userRoute(null, async (c, userId) => {
      try {
        sandbox.gmail.deleteMessage(userId, c.req.param('id')!);
      } catch (err) {
        if (err instanceof GmailError) return c.json({ error: { code: 'not_found', message: err.message } }, 404);
        throw err;
      }
      const webhook = await deliver(c.req.query('notify'), syncPayloadFor(userId, 'gmail', SYNCS.gmail, { deleted: 1 }));
      return c.json(withWebhook({ deleted: true }, webhook));
    }),
  );

  app.post(
    '/_sandbox/calendar/:userId/events/:eventId/move',
    userRoute(moveBody, async (c, userId, body) => {
      let event: unknown;
      try {
        event = sandbox.calendar.moveEvent(userId, c.req.param('eventId')!, body.minutes);
      } catch (err) {
        return c.json({ error: { code: 'not_found', message: err instanceof Error ? err.message : String(err) } }, 404);
      }
      if (event === undefined || event === null) return c.json({ error: { code: 'not_found', message: 'Unknown event' } }, 404);
      const webhook = await deliver(body.notify?.url, syncPayloadFor(userId, 'calendar', SYNCS.calendar, { updated: 1 }));
      return c.json(withWebhook({ event }, webhook));
    }),
  );

  app.patch(
    '/_sandbox/salesforce/:userId/:object/:id',
    userRoute(patchBody, async (c, userId, body) => {
      const objectName = salesforceObjectName(c.req.param('object')!);
      if (!objectName) return bad(c, `Unknown Salesforce object ${c.req.param('object')}`);
      let record: unknown;
      try {
        record = sandbox.salesforce.updateRecord(userId, objectName, c.req.param('id')!, body.fields);
      } catch (err) {
        return c.json({ error: { code: 'not_found', message: err instanceof Error ? err.message : String(err) } }, 404);
      }
      const webhook = await deliver(body.notify?.url, syncPayloadFor(userId, 'salesforce', SYNCS.salesforce[objectName], { updated: 1 }));
      return c.json(withWebhook({ record }, webhook));
    }),
  );

  app.post('/_sandbox/webhooks', async (c) => {
    const p = await parse(c, webhookBody);
    if (!p.ok) return p.res;
    const result = await deliver(p.data.url, p.data.payload);
    return c.json(result ?? {});
  });

  app.post(
    '/_sandbox/nango/:userId/auth',
    userRoute(authWebhookBody, async (c, userId, body) => {
      const kind = body.kind as ConnectionKind;
      const user = sandbox.ensureUser(userId);
      const payload = authPayload({
        connectionId: sandbox.connectionIds(userId)[kind],
        providerConfigKey: PROVIDER_CONFIG_KEYS[kind],
        provider: NANGO_PROVIDERS[kind],
        operation: body.operation ?? 'creation',
        success: body.success ?? true,
        endUser: { endUserId: userId, endUserEmail: user.email, tags: {} },
      });
      return c.json(await deliver(body.url, payload));
    }),
  );

  app.get('/_sandbox/faults', (c) => {
    const out: Record<string, unknown> = {};
    for (const provider of PROVIDERS) out[provider] = { faults: sandbox.getFaults(provider), stats: sandbox.faultStats(provider) };
    return c.json(out);
  });

  app.post('/_sandbox/faults/:provider', async (c) => {
    const provider = c.req.param('provider') as Provider;
    if (!PROVIDERS.includes(provider)) return bad(c, `Unknown provider ${provider}`);
    const p = await parse(c, faultsBody);
    if (!p.ok) return p.res;
    sandbox.setFaults(provider, p.data);
    return c.json({ provider, faults: faults.get(provider) });
  });

  app.get('/_sandbox/quotas', (c) => {
    const userId = c.req.query('userId');
    return c.json(userId ? { [userId]: sandbox.quotaUsage(userId) } : sandbox.quotaUsage());
  });

  app.post('/_sandbox/firebase/token', async (c) => {
    const p = await parse(c, tokenBody);
    if (!p.ok) return p.res;
    const idToken = await sandbox.mintIdToken(p.data.sub, {
      ...(p.data.email ? { email: p.data.email } : {}),
      ...(p.data.expiresInSeconds !== undefined ? { expiresInSeconds: p.data.expiresInSeconds } : {}),
    });
    return c.json({ idToken, expiresIn: String(p.data.expiresInSeconds ?? 3600) });
  });

  app.get('/_sandbox/connections', (c) =>
    c.json({
      kinds: CONNECTION_KINDS,
      connections: sandbox.connections.list().map((r) => ({ connectionId: r.connectionId, providerConfigKey: r.providerConfigKey, userId: r.userId })),
    }),
  );

  return app;
}
