// Gmail v1 REST paths, as @googleapis/gmail calls them at rootUrl = the sandbox url.
import { Hono, type Context } from 'hono';
import { googleError, googleNotFound } from '../errors';
import { parseMime } from './mime';
import { GmailError, GmailStore, type HistoryType, type MessageFormat } from './store';

type Env = { Variables: { account: string } };

const FORMATS = new Set<MessageFormat>(['full', 'metadata', 'minimal', 'raw']);
const HISTORY_TYPES = new Set<HistoryType>(['messageAdded', 'messageDeleted', 'labelAdded', 'labelRemoved']);

function list(c: Context<Env>, name: string): string[] | undefined {
  const values = c.req.queries(name);
  if (!values || values.length === 0) return undefined;
  return values.flatMap((v) => v.split(',')).filter(Boolean);
}

function intParam(c: Context<Env>, name: string): number | undefined {
  const v = c.req.query(name);
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new GmailError(400, `Invalid value for ${name}`);
  return n;
}

/** The query of threads.list and messages.list. */
function listParams(c: Context<Env>) {
  return {
    q: c.req.query('q'),
    labelIds: list(c, 'labelIds'),
    maxResults: intParam(c, 'maxResults'),
    pageToken: c.req.query('pageToken'),
    includeSpamTrash: bool(c, 'includeSpamTrash'),
  };
}

function format(c: Context<Env>): MessageFormat {
  const f = (c.req.query('format') ?? 'full') as MessageFormat;
  if (!FORMATS.has(f)) throw new GmailError(400, `Invalid value at 'format' (${f})`);
  return f;
}

function bool(c: Context<Env>, name: string): boolean {
  return c.req.query(name) === 'true';
}

/**
 * A message uploaded to /upload/gmail/...: `uploadType=multipart` (the resource's JSON, then the
 * message; a draft's threadId is under `message`) or `media` (the message alone).
 */
/**
 * The message a send or a draft carries: the RFC 822 bytes uploaded to an /upload/ path, or base64url
 * `raw` in the JSON body, where `messageOf` finds it (the body itself for a send, `message` for a draft).
 */
async function postedMessage<Body>(
  c: Context<Env>,
  messageOf: (body: Body) => { raw?: string; threadId?: string } | undefined,
  missing: string,
): Promise<{ raw: Buffer; threadId?: string }> {
  if (c.req.path.startsWith('/upload/')) return uploadedMessage(c);
  const body = (await c.req.json().catch(() => null)) as Body | null;
  const message = body ? messageOf(body) : undefined;
  if (!message?.raw) throw new GmailError(400, missing);
  return { raw: Buffer.from(message.raw, 'base64url'), threadId: message.threadId };
}

async function uploadedMessage(c: Context<Env>): Promise<{ raw: Buffer; threadId?: string }> {
  const uploadType = c.req.query('uploadType');
  const contentType = c.req.header('content-type') ?? '';
  const bytes = Buffer.from(await c.req.arrayBuffer());
  if (uploadType === 'multipart' || contentType.toLowerCase().startsWith('multipart/')) {
    const parsed = parseMime(Buffer.concat([Buffer.from(`Content-Type: ${contentType}\r\n\r\n`, 'latin1'), bytes]));
    const [meta, media] = parsed.children ?? [];
    if (!media?.content) throw new GmailError(400, 'Media is required');
    let json: { threadId?: string; message?: { threadId?: string } } = {};
    try {
      json = meta?.content ? (JSON.parse(meta.content.toString('utf8') || '{}') as typeof json) : {};
    } catch {
      throw new GmailError(400, 'Invalid JSON payload received.');
    }
    const threadId = json.threadId ?? json.message?.threadId;
    return { raw: media.content, ...(threadId ? { threadId } : {}) };
  }
  if (!uploadType || uploadType === 'media') return { raw: bytes };
  throw new GmailError(400, `Unsupported uploadType: ${uploadType}`);
}

export function gmailRoutes(store: GmailStore): Hono<Env> {
  const app = new Hono<Env>();

  app.onError((err, c) => {
    if (err instanceof GmailError) {
      if (err.status === 404) return c.json(googleNotFound(), 404);
      if (err.status === 409) return c.json(googleError(409, err.message, 'failedPrecondition'), 409);
      return c.json(googleError(400, err.message, 'invalidArgument'), 400);
    }
    throw err;
  });

  // users/{userId}: 'me' or the mailbox's own address
  const base = '/gmail/v1/users/:userId';
  const selfOnly = async (c: Context<Env>, next: () => Promise<void>) => {
    const account = c.get('account');
    if (!store.has(account)) store.ensureAccount(account);
    const userId = decodeURIComponent(c.req.param('userId') ?? '');
    if (!store.isSelf(account, userId)) {
      return c.json(googleError(403, `Delegation denied for ${store.owner(account).email}`, 'forbidden'), 403);
    }
    return next();
  };
  app.use(`${base}/*`, selfOnly);
  app.use('/upload/gmail/v1/users/:userId/*', selfOnly);

  app.get(`${base}/profile`, (c) => c.json(store.profile(c.get('account'))));

  app.get(`${base}/labels`, (c) => c.json({ labels: store.listLabels(c.get('account')) }));
  app.post(`${base}/labels`, async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { name?: unknown };
    if (typeof body.name !== 'string') throw new GmailError(400, 'Invalid label name');
    return c.json(store.createLabel(c.get('account'), body.name));
  });

  app.get(`${base}/threads`, (c) => c.json(store.listThreads(c.get('account'), listParams(c))));

  app.get(`${base}/threads/:id`, (c) =>
    c.json(store.getThread(c.get('account'), c.req.param('id'), format(c), list(c, 'metadataHeaders'))),
  );

  app.post(`${base}/threads/:id/modify`, async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { addLabelIds?: string[]; removeLabelIds?: string[] };
    return c.json(store.modifyThread(c.get('account'), c.req.param('id'), body.addLabelIds, body.removeLabelIds));
  });
  app.post(`${base}/threads/:id/trash`, (c) => c.json(store.modifyThread(c.get('account'), c.req.param('id'), ['TRASH'], ['INBOX', 'UNREAD'])));
  app.post(`${base}/threads/:id/untrash`, (c) => c.json(store.modifyThread(c.get('account'), c.req.param('id'), [], ['TRASH'])));

  app.get(`${base}/messages`, (c) => c.json(store.listMessages(c.get('account'), listParams(c))));

  const send = async (c: Context<Env>) => {
    const { raw, threadId } = await postedMessage(
      c,
      (body: { raw?: string; threadId?: string }) => body,
      "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
    );
    return c.json(await store.send(c.get('account'), raw, threadId));
  };
  app.post(`${base}/messages/send`, send);
  app.post('/upload/gmail/v1/users/:userId/messages/send', send);

  // users.drafts: create (JSON `{message: {raw, threadId}}`, or an upload of the message), list, get, send, delete.
  const createDraft = async (c: Context<Env>) => {
    const { raw, threadId } = await postedMessage(c, (body: { message?: { raw?: string; threadId?: string } }) => body.message, 'Missing draft message');
    return c.json(await store.createDraft(c.get('account'), raw, threadId));
  };
  app.post(`${base}/drafts`, createDraft);
  app.post('/upload/gmail/v1/users/:userId/drafts', createDraft);
  app.get(`${base}/drafts`, (c) =>
    c.json(store.listDrafts(c.get('account'), { q: c.req.query('q'), maxResults: intParam(c, 'maxResults'), pageToken: c.req.query('pageToken') })),
  );
  app.post(`${base}/drafts/send`, async (c) => {
    const body = (await c.req.json().catch(() => null)) as { id?: string } | null;
    if (!body?.id) throw new GmailError(400, 'Missing draft id');
    return c.json(store.sendDraft(c.get('account'), body.id));
  });
  app.get(`${base}/drafts/:id`, (c) => c.json(store.getDraft(c.get('account'), c.req.param('id'), format(c))));
  app.delete(`${base}/drafts/:id`, (c) => {
    store.deleteDraft(c.get('account'), c.req.param('id'));
    return c.body(null, 204);
  });

  app.get(`${base}/messages/:id`, (c) =>
    c.json(store.getMessage(c.get('account'), c.req.param('id'), format(c), list(c, 'metadataHeaders'))),
  );
  app.delete(`${base}/messages/:id`, (c) => {
    store.deleteMessage(c.get('account'), c.req.param('id'));
    return c.body(null, 204);
  });
  app.post(`${base}/messages/:id/modify`, async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { addLabelIds?: string[]; removeLabelIds?: string[] };
    return c.json(store.modifyMessage(c.get('account'), c.req.param('id'), body.addLabelIds, body.removeLabelIds));
  });
  app.post(`${base}/messages/:id/trash`, (c) => c.json(store.trashMessage(c.get('account'), c.req.param('id'))));
  app.post(`${base}/messages/:id/untrash`, (c) => c.json(store.untrashMessage(c.get('account'), c.req.param('id'))));
  app.get(`${base}/messages/:messageId/attachments/:id`, (c) =>
    c.json(store.getAttachment(c.get('account'), c.req.param('messageId'), c.req.param('id'))),
  );

  app.get(`${base}/history`, (c) => {
    const start = c.req.query('startHistoryId');
    if (!start) throw new GmailError(400, 'Missing required field: startHistoryId');
    if (!/^\d+$/.test(start)) throw new GmailError(400, 'Invalid startHistoryId');
    const types = list(c, 'historyTypes') as HistoryType[] | undefined;
    for (const t of types ?? []) if (!HISTORY_TYPES.has(t)) throw new GmailError(400, `Invalid value at 'history_types' (${t})`);
    return c.json(
      store.listHistory(c.get('account'), {
        startHistoryId: Number(start),
        historyTypes: types,
        labelId: c.req.query('labelId'),
        maxResults: intParam(c, 'maxResults'),
        pageToken: c.req.query('pageToken'),
      }),
    );
  });

  app.all('/gmail/*', (c) => c.json(googleNotFound(), 404));
  app.all('/upload/gmail/*', (c) => c.json(googleNotFound(), 404));

  return app;
}
