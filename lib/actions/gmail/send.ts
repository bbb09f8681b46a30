import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { gmail_v1 } from '@googleapis/gmail';
import { convert as convertHtml } from 'html-to-text';
import { z } from 'zod';
import { config } from '../../config';
import { ProviderError } from '../../providers/errors';
import { gmailApi, googleError, googleRequestOptions } from '../../providers/google';
import { writeOptions } from '../google';
import { classifyMessage, classifyThread } from '../../sync/gmail/classify';
import { normalizeMessage } from '../../sync/gmail/message';
import { storeThreads, type FetchedThread } from '../../sync/gmail/store';
import { unprocessableInput } from '../input';
import { defineTool, failure, type ActionContext, type ActionErrorDetail } from '../types';
import { buildMessage, formatAddress, MimeInputError, type MailAddress } from './mime';

/**
 * Vercel refuses a function request body over 4.5 MB (its platform limit, not ours), so that is the
 * largest email, attachments included (base64 in JSON: about 3.3 MB of files). Beyond it: 413.
 */
export const EMAIL_BODY_LIMIT_BYTES = 4_500_000;

/** Gmail's quota cost of each call, in units (developers.google.com/gmail/api/reference/quota). */
const UNITS = { draftsCreate: 10, draftsGet: 5, draftsList: 5, draftsSend: 100, threadsGet: 10 } as const;

/** The Message-ID switchyard gives the action's message: the same on every attempt. */
const messageIdOf = (context: ActionContext<EmailSendInput, SendState>) =>
  `action-${context.action.id}.${context.action.createdAt.getTime()}@switchyard`;

/** Set on every message switchyard sends: after an ambiguous failure, the sent copy is found by it. */
export const ACTION_HEADER = 'X-Switchyard-Action';

const recipients = z.array(z.string().min(1).max(400)).max(100);
const base64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const emailSendInput = z
  .object({
    to: recipients.min(1),
    cc: recipients.optional(),
    bcc: recipients.optional(),
    subject: z.string().max(900),
    text: z.string().max(EMAIL_BODY_LIMIT_BYTES).optional(),
    html: z.string().max(EMAIL_BODY_LIMIT_BYTES).optional(),
    attachments: z
      .array(
        z.strictObject({
          filename: z.string().min(1).max(255),
          contentType: z.string().min(3).max(255),
          /** base64 (standard alphabet, padded). */
          content: z.string(),
        }),
      )
      .max(100)
      .optional(),
    /** Gmail's thread id: the message is a reply in that thread. */
    threadId: z.string().regex(/^[0-9a-f]{1,32}$/, 'expected a Gmail thread id').optional(),
    /** The Message-ID replied to; taken from the thread's last message when threadId is given without it. */
    inReplyTo: z.string().min(3).max(998).optional(),
    references: z.array(z.string().min(3).max(998)).max(100).optional(),
  })
  .strict();
export type EmailSendInput = z.infer<typeof emailSendInput>;

interface SendState {
  /** drafts.create was sent (its answer may have been lost: the draft is then found by its Message-ID). */
  draftRequested: boolean;
  draftId: string;
  draftMessageId: string;
  threadId: string;
  messageId: string;
}

/** `Ada <ada@example.com>` or `ada@example.com`. */
export function parseAddress(value: string): MailAddress | null {
  const match = /^\s*(?:"?([^"<>]*?)"?\s*<([^<>\s]+)>|([^<>\s]+))\s*$/.exec(value);
  if (!match) return null;
  const address = (match[2] ?? match[3])!;
  if (address.length > 254 || !/^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/.test(address)) {
    return null;
  }
  const name = match[1]?.trim();
  return name ? { name, address } : { address };
}

/** What cannot be sent, each field named: invalid addresses, no body, attachments that are not base64. */
function prepare(input: EmailSendInput): EmailSendInput {
  const problems: ActionErrorDetail[] = [];
  for (const field of ['to', 'cc', 'bcc'] as const) {
    (input[field] ?? []).forEach((value, i) => {
      const parsed = parseAddress(value);
      if (!parsed) problems.push({ path: `${field}.${i}`, message: `not an email address: ${JSON.stringify(value.slice(0, 100))}` });
      else {
        try {
          formatAddress(parsed, `${field}.${i}`);
        } catch (error) {
          if (error instanceof MimeInputError) problems.push({ path: error.field, message: error.message });
          else throw error;
        }
      }
    });
  }
  if (/[\r\n\u0000]/.test(input.subject)) problems.push({ path: 'subject', message: 'must not contain line breaks' });
  if (input.text === undefined && input.html === undefined) problems.push({ path: 'text', message: 'give text, html or both' });
  (input.attachments ?? []).forEach((attachment, i) => {
    if (!base64.test(attachment.content.replace(/\s+/g, '')) || attachment.content.replace(/\s+/g, '').length % 4 !== 0) {
      problems.push({ path: `attachments.${i}.content`, message: 'expected base64 content' });
    }
    if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(attachment.contentType)) {
      problems.push({ path: `attachments.${i}.contentType`, message: 'expected a MIME type such as application/pdf' });
    }
    if (/[\r\n\u0000]/.test(attachment.filename)) problems.push({ path: `attachments.${i}.filename`, message: 'must not contain line breaks' });
  });
  const messageIds = [
    ...(input.inReplyTo ? [{ path: 'inReplyTo', value: input.inReplyTo }] : []),
    ...(input.references ?? []).map((value, i) => ({ path: `references.${i}`, value })),
  ];
  for (const { path, value } of messageIds) {
    if (!/^<?[^\s<>@]+@[^\s<>@]+>?$/.test(value)) problems.push({ path, message: 'expected a Message-ID such as <abc@example.com>' });
  }
  if (problems.length > 0) throw unprocessableInput(`the email cannot be sent: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
  return input;
}

/** Once sent, attachment contents are not kept: their size and digest say what they were. */
function retained(input: EmailSendInput): unknown {
  if (!input.attachments?.length) return input;
  return {
    ...input,
    attachments: input.attachments.map(({ content, ...rest }) => {
      const bytes = Buffer.from(content, 'base64');
      return { ...rest, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }),
  };
}

export async function gmailCall<T>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Gmail tool's context
  context: ActionContext<any, any>,
  units: number,
  run: (options: ReturnType<typeof googleRequestOptions>) => Promise<{ data: T }>,
): Promise<T> {
  return context.request(units, async (accessToken, signal) => {
    try {
      return (await run(writeOptions(accessToken, signal))).data;
    } catch (error) {
      throw googleError('gmail', error);
    }
  });
}

/**
 * googleapis builds an upload's URL from the request's own rootUrl, not the client's: pass the
 * configured one (GOOGLE_API_ROOT_URL) so uploads go where every other call goes.
 */
function withUploadRoot<O extends object>(options: O): O & { rootUrl?: string } {
  const root = config().GOOGLE_API_ROOT_URL;
  return root ? { ...options, rootUrl: root.endsWith('/') ? root : `${root}/` } : options;
}

export const isNotFound = (error: unknown) => error instanceof ProviderError && error.status === 404;
const headerOf = (message: gmail_v1.Schema$Message, name: string) =>
  message.payload?.headers?.find((h) => h.name?.toLowerCase() === name.toLowerCase())?.value ?? undefined;

/**
 * Gmail `email.send`, exactly once: the message is created as a draft whose id is recorded, then the
 * draft is sent. Gmail sends a draft at most once (a sent draft is no longer a draft), and after an
 * ambiguous failure (a timeout, a 5xx, a runner killed after Gmail's answer) the draft says what
 * happened: drafts.get still finds it, so it was not sent; otherwise its thread holds the sent copy
 * (found by the X-Switchyard-Action header Gmail keeps, since Gmail may replace the Message-ID), or it
 * was deleted unsent and nothing is sent. The sent thread is then stored as the sync stores it.
 */
export const emailSend = defineTool<EmailSendInput, SendState>({
  name: 'email.send',
  provider: 'gmail',
  input: emailSendInput,
  prepare,
  retained,
  async run(context) {
    const { input, state } = context;
    if (!state.messageId) {
      let sendable = false;
      if (!state.draftId) {
        await createDraft(context, input);
        sendable = true;
      } else {
        sendable = await draftStillExists(context);
        if (!sendable && !(await findSentCopy(context))) {
          throw failure.conflict('the draft of this email was deleted before it was sent; nothing was sent', [
            { path: '', message: `draft ${state.draftId} no longer exists and its thread holds no sent copy` },
          ]);
        }
      }
      if (sendable) await sendDraft(context);
    }
    const messageId = context.state.messageId!;
    const threadId = context.state.threadId!;
    const thread = await fetchThread(context, threadId);
    const sent = thread.gone ? undefined : thread.messages.find((m) => m.providerMessageId === messageId);
    return {
      result: { id: messageId, threadId, labelIds: sent?.labelIds ?? ['SENT'] },
      store: async (tx) => {
        await storeThreads(tx, context.connection, [thread], { syncedBy: 'history' });
      },
    };
  },
});

async function createDraft(context: ActionContext<EmailSendInput, SendState>, input: EmailSendInput): Promise<void> {
  // A draft an earlier attempt created without learning its id: it keeps the Message-ID it was given
  // (only sending may replace it), so it is found, not made again.
  if (context.state.draftRequested && (await findDraft(context))) return;
  let inReplyTo = input.inReplyTo;
  let references = input.references;
  let subject = input.subject;
  if (input.threadId && !inReplyTo) {
    // A reply must carry In-Reply-To and References to thread for its recipients too; Gmail threads it
    // for the sender by threadId (and a matching subject).
    let thread: gmail_v1.Schema$Thread;
    try {
      thread = await gmailCall(context, UNITS.threadsGet, (options) =>
        gmailApi().users.threads.get(
          { userId: 'me', id: input.threadId!, format: 'metadata', metadataHeaders: ['Message-ID', 'References', 'Subject'] },
          options,
        ),
      );
    } catch (error) {
      if (isNotFound(error)) throw failure.notFound(`no Gmail thread ${input.threadId}`, [{ path: 'threadId', message: 'no such thread' }]);
      throw error;
    }
    const last = thread.messages?.filter((m) => !(m.labelIds ?? []).includes('DRAFT')).at(-1);
    const lastId = last ? headerOf(last, 'Message-ID') : undefined;
    if (lastId) {
      inReplyTo = lastId;
      references ??= [...(headerOf(last!, 'References')?.split(/\s+/).filter(Boolean) ?? []), lastId];
    }
    const lastSubject = last ? headerOf(last, 'Subject') : undefined;
    if (!subject && lastSubject) subject = /^re:/i.test(lastSubject) ? lastSubject : `Re: ${lastSubject}`;
  }
  const addresses = (values: string[] | undefined) => (values ?? []).map((value) => parseAddress(value)!);
  let raw: Buffer;
  try {
    raw = buildMessage({
      to: addresses(input.to),
      cc: addresses(input.cc),
      bcc: addresses(input.bcc),
      subject,
      text: input.text ?? htmlToPlainText(input.html ?? ''),
      ...(input.html !== undefined ? { html: input.html } : {}),
      attachments: (input.attachments ?? []).map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'base64') })),
      messageId: messageIdOf(context),
      ...(inReplyTo ? { inReplyTo: inReplyTo.replace(/^<|>$/g, '') } : {}),
      ...(references?.length ? { references: references.map((r) => r.replace(/^<|>$/g, '')) } : {}),
      date: new Date(),
      extraHeaders: [[ACTION_HEADER, String(context.action.id)]],
    });
  } catch (error) {
    if (error instanceof MimeInputError) throw failure.unprocessable(error.message, [{ path: error.field, message: error.message }]);
    throw error;
  }
  if (!context.state.draftRequested) await context.record({ draftRequested: true });
  let draft: gmail_v1.Schema$Draft;
  let tries = 0;
  try {
    draft = await gmailCall(context, UNITS.draftsCreate, async (options) => {
      // The resilience layer retries a request that timed out or failed with a 5xx, and Gmail may have
      // made the draft all the same: a retry looks for it before making another.
      if (tries++ > 0) {
        const found = await listOwnDrafts(context, options);
        if (found) return { data: found };
      }
      // A stream per attempt (googleapis pipes it into the upload; a retry needs a fresh one). An aborted
      // upload (the request's timeout) makes it emit 'error', which the request's own rejection reports:
      // unheard, that event would end the process.
      const body = Readable.from([raw]);
      body.on('error', () => undefined);
      return gmailApi().users.drafts.create(
        {
          userId: 'me',
          requestBody: { message: input.threadId ? { threadId: input.threadId } : {} },
          media: { mimeType: 'message/rfc822', body },
        },
        withUploadRoot(options),
      );
    });
  } catch (error) {
    if (isNotFound(error) && input.threadId) {
      throw failure.notFound(`no Gmail thread ${input.threadId}`, [{ path: 'threadId', message: 'no such thread' }]);
    }
    if (error instanceof ProviderError && error.status === 400) {
      throw failure.unprocessable(`Gmail refused the message: ${error.message}`, [{ path: '', message: error.message }]);
    }
    throw error;
  }
  if (!draft.id || !draft.message?.id || !draft.message.threadId) throw new ProviderError('gmail', 200, 'gmail drafts.create returned no ids');
  await context.record({ draftId: draft.id, draftMessageId: draft.message.id, threadId: draft.message.threadId });
}

/** The draft of this action, by the Message-ID it was created with; recorded when found. */
async function findDraft(context: ActionContext<EmailSendInput, SendState>): Promise<boolean> {
  const draft = await gmailCall(context, UNITS.draftsList, async (options) => ({ data: await listOwnDrafts(context, options) }));
  if (!draft) return false;
  await context.record({ draftId: draft.id!, draftMessageId: draft.message!.id!, threadId: draft.message!.threadId! });
  return true;
}

/** The action's draft, found by its Message-ID (drafts keep the one they were created with). */
async function listOwnDrafts(
  context: ActionContext<EmailSendInput, SendState>,
  options: ReturnType<typeof googleRequestOptions>,
): Promise<gmail_v1.Schema$Draft | null> {
  const listed = await gmailApi().users.drafts.list({ userId: 'me', q: `rfc822msgid:${messageIdOf(context)}`, maxResults: 10 }, options);
  return listed.data.drafts?.find((d) => d.id && d.message?.id && d.message.threadId) ?? null;
}

async function draftStillExists(context: ActionContext<EmailSendInput, SendState>): Promise<boolean> {
  try {
    await gmailCall(context, UNITS.draftsGet, (options) =>
      gmailApi().users.drafts.get({ userId: 'me', id: context.state.draftId!, format: 'minimal' }, options),
    );
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** The sent copy of the draft, by the action's header, in the draft's thread; recorded when found. */
async function findSentCopy(context: ActionContext<EmailSendInput, SendState>): Promise<boolean> {
  let thread: gmail_v1.Schema$Thread;
  try {
    thread = await gmailCall(context, UNITS.threadsGet, (options) =>
      gmailApi().users.threads.get(
        { userId: 'me', id: context.state.threadId!, format: 'metadata', metadataHeaders: [ACTION_HEADER] },
        options,
      ),
    );
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const sent = thread.messages?.find(
    (m) => (m.labelIds ?? []).includes('SENT') && !(m.labelIds ?? []).includes('DRAFT') && headerOf(m, ACTION_HEADER) === String(context.action.id),
  );
  if (!sent?.id) return false;
  await context.record({ messageId: sent.id, threadId: sent.threadId ?? context.state.threadId! });
  return true;
}

async function sendDraft(context: ActionContext<EmailSendInput, SendState>): Promise<void> {
  let sent: gmail_v1.Schema$Message;
  try {
    sent = await gmailCall(context, UNITS.draftsSend, (options) =>
      gmailApi().users.drafts.send({ userId: 'me', requestBody: { id: context.state.draftId! } }, options),
    );
  } catch (error) {
    // A retried send whose first try Gmail applied: the draft is gone because it was sent.
    if (isNotFound(error) && (await findSentCopy(context))) return;
    if (isNotFound(error)) throw failure.conflict('the draft of this email was deleted before it was sent; nothing was sent');
    if (error instanceof ProviderError && error.status === 400) {
      throw failure.unprocessable(`Gmail refused to send the message: ${error.message}`, [{ path: '', message: error.message }]);
    }
    throw error;
  }
  if (!sent.id) throw new ProviderError('gmail', 200, 'gmail drafts.send returned no message id');
  await context.record({ messageId: sent.id, threadId: sent.threadId ?? context.state.threadId! });
}

/** The thread as the sync fetches and stores it (drafts left out: they are not mail yet). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Gmail tool's context
export async function fetchThread(context: ActionContext<any, any>, threadId: string): Promise<FetchedThread> {
  let thread: gmail_v1.Schema$Thread;
  try {
    thread = await gmailCall(context, UNITS.threadsGet, (options) =>
      gmailApi().users.threads.get({ userId: 'me', id: threadId, format: 'full' }, options),
    );
  } catch (error) {
    if (isNotFound(error)) return { id: threadId, gone: true };
    throw error;
  }
  const messages = (thread.messages ?? [])
    .filter((m) => !(m.labelIds ?? []).includes('DRAFT'))
    .map((m) => normalizeMessage(m))
    .filter((m) => m.providerMessageId !== '')
    .sort((a, b) => a.internalDate.getTime() - b.internalDate.getTime());
  if (messages.length === 0) return { id: threadId, gone: true };
  return {
    id: threadId,
    gone: false,
    historyId: thread.historyId ?? null,
    messages,
    classification: classifyThread(messages),
    categories: messages.map((m) => classifyMessage(m)),
  };
}

/** The text alternative of an HTML-only email. */
function htmlToPlainText(html: string): string {
  return convertHtml(html, { wordwrap: 78, selectors: [{ selector: 'img', format: 'skip' }] });
}

export const gmailActions = { [emailSend.name]: emailSend } as const;
