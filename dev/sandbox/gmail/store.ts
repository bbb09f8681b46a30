// Per-user Gmail mailboxes: threads, messages, labels and the history log, with the
// semantics of the Gmail v1 API (ids, historyIds, formats, paging, history expiry).
import PostalMime from 'postal-mime';
import { Prng, seedFrom } from '../prng';
import { makeOwner, planThread, renderThread, type Person, type ThreadPlan } from './generate';
import {
  decodeCharset,
  displayAddress,
  encodeHeaderText,
  formatAddress,
  parseMime,
  rfc2822Date,
  serializeMessage,
  textPart,
  type MimeNode,
  type ParsedPart,
} from './mime';

export interface GmailHeader {
  name: string;
  value: string;
}
export interface GmailMessagePart {
  partId: string;
  mimeType: string;
  filename: string;
  headers: GmailHeader[];
  body: { size: number; data?: string; attachmentId?: string };
  parts?: GmailMessagePart[];
}
export interface GmailMessage {
  id: string;
  threadId: string;
  labelIds: string[];
  snippet: string;
  historyId: string;
  internalDate: string;
  sizeEstimate: number;
  payload?: GmailMessagePart;
  raw?: string;
}
export type MessageFormat = 'full' | 'metadata' | 'minimal' | 'raw';

interface HistoryMessageRef {
  id: string;
  threadId: string;
  labelIds: string[];
}
export interface HistoryRecord {
  id: number;
  messagesAdded?: HistoryMessageRef[];
  messagesDeleted?: HistoryMessageRef[];
  labelsAdded?: Array<{ message: HistoryMessageRef; labelIds: string[] }>;
  labelsRemoved?: Array<{ message: HistoryMessageRef; labelIds: string[] }>;
}
export type HistoryType = 'messageAdded' | 'messageDeleted' | 'labelAdded' | 'labelRemoved';

interface Built {
  raw: Buffer;
  payload: GmailMessagePart;
  attachments: Map<string, Buffer>;
  snippet: string;
}

interface MessageState {
  id: string;
  threadId: string;
  internalDate: number;
  historyId: number;
  labels: Set<string>;
  messageIdHeader: string;
  from: string;
  to: string;
  subject: string;
  hasAttachment: boolean;
  deleted: boolean;
  /** Index in the thread plan, for generated messages. */
  planIndex?: number;
  /** Stored bytes, for messages that were sent or added (generated ones render on demand). */
  raw?: Buffer;
  /** Cached once computed. */
  snippet?: string;
}

interface ThreadState {
  id: string;
  plan?: ThreadPlan;
  messages: MessageState[];
}

interface MailboxState {
  account: string;
  owner: Person;
  threads: Map<string, ThreadState>;
  messages: Map<string, MessageState>;
  byMessageIdHeader: Map<string, string>;
  historyId: number;
  history: HistoryRecord[];
  /** users.drafts: draft id -> the id of its message (labelled DRAFT until it is sent). */
  drafts: Map<string, string>;
  /** users.labels of type user: id (Label_N) -> name. */
  userLabels: Map<string, string>;
  /** The oldest startHistoryId history.list still accepts. */
  historyFloor: number;
  order: ThreadState[] | null;
  prng: Prng;
}

export const SYSTEM_LABELS = [
  'INBOX', 'SENT', 'UNREAD', 'IMPORTANT', 'STARRED', 'TRASH', 'SPAM', 'DRAFT', 'CHAT',
  'CATEGORY_PERSONAL', 'CATEGORY_SOCIAL', 'CATEGORY_PROMOTIONS', 'CATEGORY_UPDATES', 'CATEGORY_FORUMS',
] as const;

export class GmailError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface GmailStoreOptions {
  /** "Now" for generated mail: the newest message is just before it. */
  anchorTime: number;
  /** History records kept per mailbox (default 1000). */
  historyKeep?: number;
  /** How far back generated mail goes, in days (default 365). */
  spanDays?: number;
  /** Rendered threads kept in memory (default 5000). */
  cacheThreads?: number;
  clock?: () => number;
}

export interface AddMessageInput {
  from: string | { name?: string; email: string };
  subject?: string;
  text: string;
  html?: string;
  threadId?: string;
  to?: string;
  labelIds?: string[];
  date?: number;
  attachments?: Array<{ filename: string; mimeType: string; content: Buffer | string }>;
}

const b64url = (buf: Buffer) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

function escapeSnippet(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function htmlToText(html: string): string {
  return html
    .replace(/<(style|script|title)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function parseAddress(value: string | { name?: string; email: string }): { name?: string; email: string } {
  if (typeof value !== 'string') return value;
  const m = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(value);
  if (m) return m[1] ? { name: m[1], email: m[2] as string } : { email: m[2] as string };
  return { email: value.trim() };
}

function encodeToken(n: number): string {
  return Buffer.from(`o:${n}`).toString('base64url');
}
function decodeToken(token: string | undefined): number {
  if (!token) return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!m) throw new GmailError(400, 'Invalid pageToken');
  return Number(m[1]);
}

/** Gmail-like message id: the time in the high bits, so ids sort roughly by date. */
function messageIdFor(ms: number, prng: Prng, taken: Map<string, unknown>): string {
  let n = (BigInt(ms) << 20n) | BigInt(prng.int(0, 0xfffff));
  let id = n.toString(16);
  while (taken.has(id)) {
    n += 1n;
    id = n.toString(16);
  }
  return id;
}

interface SearchTerm {
  negate: boolean;
  key: string;
  value: string;
}

function parseQuery(q: string | undefined): SearchTerm[] {
  if (!q) return [];
  const terms: SearchTerm[] = [];
  const re = /(-?)(?:([a-z][a-z0-9_]*):)?("([^"]*)"|\S+)/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(q))) {
    const negate = m[1] === '-';
    const key = (m[2] ?? '').toLowerCase();
    const value = (m[4] ?? m[3] ?? '').replace(/^"|"$/g, '');
    terms.push({ negate, key, value });
  }
  return terms;
}

function parseDateTerm(value: string): number | undefined {
  if (/^\d{9,}$/.test(value)) return Number(value) * 1000;
  const m = /^(\d{4})[/-](\d{1,2})[/-](\d{1,2})$/.exec(value);
  if (m) return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return undefined;
}

function parseRelative(value: string): number | undefined {
  const m = /^(\d+)([dmyh])$/i.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] as string).toLowerCase();
  const day = 86_400_000;
  return n * (unit === 'h' ? 3_600_000 : unit === 'd' ? day : unit === 'm' ? 30 * day : 365 * day);
}

export class GmailStore {
  private readonly mailboxes = new Map<string, MailboxState>();
  /** Rendered raw bytes of generated threads, least recently used evicted. */
  private readonly cache = new Map<string, Buffer[]>();
  private readonly historyKeep: number;
  private readonly spanDays: number;
  private readonly cacheThreads: number;
  private readonly clock: () => number;

  constructor(
    private readonly seed: number,
    private readonly options: GmailStoreOptions,
  ) {
    this.historyKeep = Math.max(1, options.historyKeep ?? 1000);
    this.spanDays = options.spanDays ?? 365;
    this.cacheThreads = options.cacheThreads ?? 5000;
    this.clock = options.clock ?? Date.now;
  }

  // -------------------------------------------------------------------------
  // Accounts

  /** Creates the user's mailbox (deterministic from seed + account); idempotent. */
  ensureAccount(account: string, opts: { threads?: number } = {}): void {
    if (this.mailboxes.has(account)) return;
    const count = Math.max(0, Math.floor(opts.threads ?? 200));
    const owner = makeOwner(this.seed, account);
    const prng = new Prng(seedFrom(this.seed, 'gmail', account));
    const mb: MailboxState = {
      account,
      owner,
      threads: new Map(),
      messages: new Map(),
      byMessageIdHeader: new Map(),
      drafts: new Map(),
      userLabels: new Map(),
      historyId: 0,
      history: [],
      historyFloor: 0,
      order: null,
      prng: new Prng(seedFrom(this.seed, 'gmail-live', account)),
    };
    const anchor = this.options.anchorTime;
    const span = this.spanDays * 86_400_000;
    const all: MessageState[] = [];
    for (let t = 0; t < count; t++) {
      const threadSeed = seedFrom(this.seed, 'thread', account, t);
      // denser towards now, newest just before the anchor
      const lastAt = anchor - 60_000 - Math.floor(span * Math.pow(prng.next(), 1.7));
      const plan = planThread(threadSeed, owner, lastAt);
      const thread: ThreadState = { id: '', plan, messages: [] };
      const photo = plan.kind === 'personal' && new Prng(seedFrom(plan.seed, 'photo')).bool(0.25);
      for (let i = 0; i < plan.dates.length; i++) {
        const date = plan.dates[i] as number;
        // ids sort by date but depend only on seed + account, not on the anchor time
        const id = messageIdFor(1_600_000_000_000 + span - (anchor - date), prng, mb.messages);
        if (i === 0) thread.id = id;
        const own = plan.fromOwner[i] as boolean;
        const labels = new Set<string>();
        if (own) labels.add('SENT');
        else {
          const archived = prng.bool(0.15);
          if (!archived) labels.add('INBOX');
          labels.add(plan.category);
          const newest = i === plan.dates.length - 1;
          if (newest && prng.bool(anchor - date < 7 * 86_400_000 ? 0.6 : 0.15)) labels.add('UNREAD');
        }
        if (plan.important) labels.add('IMPORTANT');
        if (prng.bool(0.03)) labels.add('STARRED');
        if (prng.bool(0.01)) labels.add('TRASH');
        const from = own ? owner : plan.counterpart;
        const to = own ? plan.counterpart : owner;
        const msg: MessageState = {
          id,
          threadId: thread.id,
          internalDate: date,
          historyId: 0,
          labels,
          messageIdHeader: plan.messageIds[i] as string,
          from: displayAddress(from),
          to: displayAddress(to),
          subject: i === 0 || plan.kind === 'receipt' ? plan.subject : `Re: ${plan.subject}`,
          hasAttachment: (plan.kind === 'receipt' && i === 0) || plan.kind === 'invite' || (photo && i === 0),
          deleted: false,
          planIndex: i,
        };
        thread.messages.push(msg);
        mb.messages.set(id, msg);
        mb.byMessageIdHeader.set(msg.messageIdHeader, id);
        all.push(msg);
      }
      mb.threads.set(thread.id, thread);
    }
    // historyIds grow with time, like Gmail's
    all.sort((a, b) => a.internalDate - b.internalDate);
    let h = 100_000 + prng.int(0, 900_000);
    for (const msg of all) {
      h += prng.int(1, 4);
      msg.historyId = h;
    }
    mb.historyId = h + 1;
    // Gmail keeps about a week of history: mail of the last 7 days has its messagesAdded
    // records, so a client may start from any historyId since then (e.g. the newest
    // thread's historyId after a full sync). Older starts are answered 404.
    const recentFrom = anchor - 7 * 86_400_000;
    const recent = all.filter((m) => m.internalDate >= recentFrom);
    mb.historyFloor = recent.length > 0 ? (recent[0] as MessageState).historyId - 1 : mb.historyId;
    for (const msg of recent) mb.history.push({ id: msg.historyId, messagesAdded: [this.ref(msg)] });
    while (mb.history.length > this.historyKeep) mb.historyFloor = (mb.history.shift() as HistoryRecord).id;
    this.mailboxes.set(account, mb);
  }

  has(account: string): boolean {
    return this.mailboxes.has(account);
  }

  owner(account: string): Person {
    return this.mailbox(account).owner;
  }

  private mailbox(account: string): MailboxState {
    const mb = this.mailboxes.get(account);
    if (!mb) throw new GmailError(404, `No mailbox for ${account}`);
    return mb;
  }

  /** True if `userId` (the path segment) names this account: 'me' or its address. */
  isSelf(account: string, userId: string): boolean {
    const mb = this.mailboxes.get(account);
    return userId === 'me' || (!!mb && userId.toLowerCase() === mb.owner.email.toLowerCase());
  }

  profile(account: string): { emailAddress: string; messagesTotal: number; threadsTotal: number; historyId: string } {
    const mb = this.mailbox(account);
    let messages = 0;
    let threads = 0;
    for (const t of mb.threads.values()) {
      const live = t.messages.filter((m) => !m.deleted);
      if (live.length > 0) threads++;
      messages += live.length;
    }
    return { emailAddress: mb.owner.email, messagesTotal: messages, threadsTotal: threads, historyId: String(mb.historyId) };
  }

  // -------------------------------------------------------------------------
  // Rendering

  private rawOf(mb: MailboxState, msg: MessageState): Buffer {
    if (msg.raw) return msg.raw;
    const thread = mb.threads.get(msg.threadId);
    if (!thread?.plan || msg.planIndex === undefined) throw new GmailError(404, 'Requested entity was not found.');
    let raws = this.cache.get(thread.id);
    if (raws) {
      this.cache.delete(thread.id);
      this.cache.set(thread.id, raws);
    } else {
      raws = renderThread(thread.plan, mb.owner);
      this.cache.set(thread.id, raws);
      if (this.cache.size > this.cacheThreads) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
    }
    return raws[msg.planIndex] as Buffer;
  }

  private built(mb: MailboxState, msg: MessageState): Built {
    const built = buildFromRaw(this.rawOf(mb, msg), msg.id);
    msg.snippet ??= built.snippet;
    return built;
  }

  private snippetOf(mb: MailboxState, msg: MessageState): string {
    if (msg.snippet === undefined) msg.snippet = buildFromRaw(this.rawOf(mb, msg), msg.id).snippet;
    return msg.snippet;
  }

  private toResource(mb: MailboxState, msg: MessageState, format: MessageFormat, metadataHeaders?: string[]): GmailMessage {
    const built = this.built(mb, msg);
    const out: GmailMessage = {
      id: msg.id,
      threadId: msg.threadId,
      labelIds: [...msg.labels],
      snippet: built.snippet,
      sizeEstimate: built.raw.length,
      historyId: String(msg.historyId),
      internalDate: String(msg.internalDate),
    };
    if (format === 'raw') out.raw = b64url(built.raw);
    else if (format === 'full') out.payload = built.payload;
    else if (format === 'metadata') {
      const wanted = metadataHeaders?.map((h) => h.toLowerCase()).filter(Boolean);
      out.payload = {
        partId: '',
        mimeType: built.payload.mimeType,
        filename: '',
        headers: wanted && wanted.length > 0 ? built.payload.headers.filter((h) => wanted.includes(h.name.toLowerCase())) : built.payload.headers,
        body: { size: 0 },
      };
    }
    return out;
  }

  // -------------------------------------------------------------------------
  // Reads

  private sortedThreads(mb: MailboxState): ThreadState[] {
    if (!mb.order) {
      const latest = (t: ThreadState) => {
        let max = 0;
        for (const m of t.messages) if (!m.deleted && m.internalDate > max) max = m.internalDate;
        return max;
      };
      mb.order = [...mb.threads.values()]
        .filter((t) => t.messages.some((m) => !m.deleted))
        .map((t) => ({ t, at: latest(t) }))
        .sort((a, b) => b.at - a.at || (a.t.id < b.t.id ? 1 : -1))
        .map((x) => x.t);
    }
    return mb.order;
  }

  private matcher(q: string | undefined, labelIds: string[] | undefined, includeSpamTrash: boolean): (m: MessageState) => boolean {
    const terms = parseQuery(q);
    const now = this.clock();
    let anywhere = includeSpamTrash;
    const explicitTrash = terms.some((t) => !t.negate && ((t.key === 'in' || t.key === 'label') && ['trash', 'spam'].includes(t.value.toLowerCase())));
    if (terms.some((t) => t.key === 'in' && t.value.toLowerCase() === 'anywhere')) anywhere = true;
    const labelOf = (v: string): string => {
      const u = v.toUpperCase().replace(/-/g, '_');
      if (['PROMOTIONS', 'SOCIAL', 'UPDATES', 'FORUMS', 'PERSONAL', 'PRIMARY'].includes(u)) return u === 'PRIMARY' ? 'CATEGORY_PERSONAL' : `CATEGORY_${u}`;
      return u;
    };
    const test = (m: MessageState, t: SearchTerm): boolean => {
      const v = t.value.toLowerCase();
      switch (t.key) {
        case 'in':
        case 'label':
          return v === 'anywhere' ? true : m.labels.has(labelOf(t.value));
        case 'category':
          return m.labels.has(labelOf(t.value));
        case 'is':
          if (v === 'read') return !m.labels.has('UNREAD');
          return m.labels.has(labelOf(t.value));
        case 'from':
          return m.from.toLowerCase().includes(v);
        case 'to':
          return m.to.toLowerCase().includes(v);
        case 'subject':
          return m.subject.toLowerCase().includes(v);
        case 'has':
          return v === 'attachment' ? m.hasAttachment : false;
        case 'after': {
          const d = parseDateTerm(t.value);
          return d === undefined ? true : m.internalDate >= d;
        }
        case 'before': {
          const d = parseDateTerm(t.value);
          return d === undefined ? true : m.internalDate < d;
        }
        case 'newer_than': {
          const r = parseRelative(t.value);
          return r === undefined ? true : m.internalDate >= now - r;
        }
        case 'older_than': {
          const r = parseRelative(t.value);
          return r === undefined ? true : m.internalDate < now - r;
        }
        case 'rfc822msgid':
          return m.messageIdHeader === t.value.replace(/^<|>$/g, '');
        case '':
          return m.subject.toLowerCase().includes(v) || m.from.toLowerCase().includes(v);
        default:
          return false;
      }
    };
    return (m: MessageState) => {
      if (m.deleted) return false;
      if (!anywhere && !explicitTrash && (m.labels.has('TRASH') || m.labels.has('SPAM'))) return false;
      if (labelIds) for (const l of labelIds) if (!m.labels.has(l)) return false;
      for (const t of terms) if (test(m, t) === t.negate) return false;
      return true;
    };
  }

  listThreads(
    account: string,
    opts: { q?: string; labelIds?: string[]; maxResults?: number; pageToken?: string; includeSpamTrash?: boolean },
  ): { threads?: Array<{ id: string; snippet: string; historyId: string }>; nextPageToken?: string; resultSizeEstimate: number } {
    const mb = this.mailbox(account);
    const max = Math.min(Math.max(opts.maxResults ?? 100, 1), 500);
    const offset = decodeToken(opts.pageToken);
    const match = this.matcher(opts.q, opts.labelIds, opts.includeSpamTrash ?? false);
    const hits = this.sortedThreads(mb).filter((t) => t.messages.some(match));
    const page = hits.slice(offset, offset + max);
    const result: ReturnType<GmailStore['listThreads']> = { resultSizeEstimate: hits.length };
    if (page.length > 0) {
      result.threads = page.map((t) => {
        const live = t.messages.filter((m) => !m.deleted);
        const last = live[live.length - 1] as MessageState;
        return {
          id: t.id,
          snippet: this.snippetOf(mb, last),
          historyId: String(Math.max(...live.map((m) => m.historyId))),
        };
      });
    }
    if (offset + max < hits.length) result.nextPageToken = encodeToken(offset + max);
    return result;
  }

  listMessages(
    account: string,
    opts: { q?: string; labelIds?: string[]; maxResults?: number; pageToken?: string; includeSpamTrash?: boolean },
  ): { messages?: Array<{ id: string; threadId: string }>; nextPageToken?: string; resultSizeEstimate: number } {
    const mb = this.mailbox(account);
    const max = Math.min(Math.max(opts.maxResults ?? 100, 1), 500);
    const offset = decodeToken(opts.pageToken);
    const match = this.matcher(opts.q, opts.labelIds, opts.includeSpamTrash ?? false);
    const hits = [...mb.messages.values()].filter(match).sort((a, b) => b.internalDate - a.internalDate || (a.id < b.id ? 1 : -1));
    const page = hits.slice(offset, offset + max);
    const result: ReturnType<GmailStore['listMessages']> = { resultSizeEstimate: hits.length };
    if (page.length > 0) result.messages = page.map((m) => ({ id: m.id, threadId: m.threadId }));
    if (offset + max < hits.length) result.nextPageToken = encodeToken(offset + max);
    return result;
  }

  getThread(account: string, id: string, format: MessageFormat = 'full', metadataHeaders?: string[]): { id: string; historyId: string; messages: GmailMessage[] } {
    const mb = this.mailbox(account);
    const thread = mb.threads.get(id);
    const live = thread?.messages.filter((m) => !m.deleted) ?? [];
    if (!thread || live.length === 0) throw new GmailError(404, 'Requested entity was not found.');
    const f = format === 'raw' ? 'full' : format;
    return {
      id: thread.id,
      historyId: String(Math.max(...live.map((m) => m.historyId))),
      messages: live.map((m) => this.toResource(mb, m, f, metadataHeaders)),
    };
  }

  getMessage(account: string, id: string, format: MessageFormat = 'full', metadataHeaders?: string[]): GmailMessage {
    const mb = this.mailbox(account);
    const msg = mb.messages.get(id);
    if (!msg || msg.deleted) throw new GmailError(404, 'Requested entity was not found.');
    return this.toResource(mb, msg, format, metadataHeaders);
  }

  getAttachment(account: string, messageId: string, attachmentId: string): { attachmentId: string; size: number; data: string } {
    const mb = this.mailbox(account);
    const msg = mb.messages.get(messageId);
    if (!msg || msg.deleted) throw new GmailError(404, 'Requested entity was not found.');
    const content = this.built(mb, msg).attachments.get(attachmentId);
    if (!content) throw new GmailError(400, 'Invalid attachment token');
    return { attachmentId, size: content.length, data: b64url(content) };
  }

  listHistory(
    account: string,
    opts: { startHistoryId: number; historyTypes?: HistoryType[]; labelId?: string; maxResults?: number; pageToken?: string },
  ): { history?: Array<Record<string, unknown>>; historyId: string; nextPageToken?: string } {
    const mb = this.mailbox(account);
    if (!Number.isFinite(opts.startHistoryId) || opts.startHistoryId < mb.historyFloor) {
      throw new GmailError(404, 'Requested entity was not found.');
    }
    const max = Math.min(Math.max(opts.maxResults ?? 100, 1), 500);
    const after = opts.pageToken ? decodeToken(opts.pageToken) : opts.startHistoryId;
    const types = opts.historyTypes && opts.historyTypes.length > 0 ? new Set(opts.historyTypes) : undefined;
    const out: Array<Record<string, unknown>> = [];
    let lastId = after;
    let more = false;
    for (const rec of mb.history) {
      if (rec.id <= after) continue;
      if (out.length >= max) {
        more = true;
        break;
      }
      lastId = rec.id;
      const entry: Record<string, unknown> = { id: String(rec.id) };
      const refs: HistoryMessageRef[] = [];
      const withLabel = (m: HistoryMessageRef, changed?: string[]) =>
        !opts.labelId || m.labelIds.includes(opts.labelId) || (changed?.includes(opts.labelId) ?? false);
      const pick = <K extends keyof HistoryRecord>(key: K, type: HistoryType) => {
        if (types && !types.has(type)) return;
        const items = rec[key] as unknown as Array<HistoryMessageRef | { message: HistoryMessageRef; labelIds: string[] }> | undefined;
        if (!items) return;
        const kept = items.filter((it) => ('message' in it ? withLabel(it.message, it.labelIds) : withLabel(it)));
        if (kept.length === 0) return;
        entry[key] = kept.map((it) => ('message' in it ? { message: it.message, labelIds: it.labelIds } : { message: it }));
        for (const it of kept) refs.push('message' in it ? it.message : it);
      };
      pick('messagesAdded', 'messageAdded');
      pick('messagesDeleted', 'messageDeleted');
      pick('labelsAdded', 'labelAdded');
      pick('labelsRemoved', 'labelRemoved');
      if (refs.length === 0) continue;
      out.push({ id: entry['id'], messages: refs.map((r) => ({ id: r.id, threadId: r.threadId })), ...entry });
    }
    const result: ReturnType<GmailStore['listHistory']> = { historyId: String(mb.historyId) };
    if (out.length > 0) result.history = out;
    if (more) result.nextPageToken = encodeToken(lastId);
    return result;
  }

  /** The oldest startHistoryId history.list accepts now. */
  historyFloor(account: string): number {
    return this.mailbox(account).historyFloor;
  }

  // -------------------------------------------------------------------------
  // Writes (each records history)

  private record(mb: MailboxState, fill: (id: number) => Omit<HistoryRecord, 'id'>): number {
    mb.historyId += 1;
    const id = mb.historyId;
    mb.history.push({ id, ...fill(id) });
    while (mb.history.length > this.historyKeep) {
      const dropped = mb.history.shift() as HistoryRecord;
      mb.historyFloor = dropped.id;
    }
    return id;
  }

  private ref(m: MessageState): HistoryMessageRef {
    return { id: m.id, threadId: m.threadId, labelIds: [...m.labels] };
  }

  private insert(mb: MailboxState, raw: Buffer, labels: Set<string>, threadId: string | undefined, internalDate: number, meta: { from: string; to: string; subject: string; messageIdHeader: string; hasAttachment: boolean }): MessageState {
    const id = messageIdFor(internalDate, mb.prng, mb.messages);
    let thread = threadId ? mb.threads.get(threadId) : undefined;
    if (!thread) {
      thread = { id, messages: [] };
      mb.threads.set(id, thread);
    }
    const msg: MessageState = {
      id,
      threadId: thread.id,
      internalDate,
      historyId: 0,
      labels,
      messageIdHeader: meta.messageIdHeader,
      from: meta.from,
      to: meta.to,
      subject: meta.subject,
      hasAttachment: meta.hasAttachment,
      deleted: false,
      raw,
    };
    thread.messages.push(msg);
    mb.messages.set(id, msg);
    if (meta.messageIdHeader) mb.byMessageIdHeader.set(meta.messageIdHeader, id);
    mb.order = null;
    msg.historyId = this.record(mb, () => ({ messagesAdded: [this.ref(msg)] }));
    return msg;
  }

  private threadFor(mb: MailboxState, threadId: string | undefined, inReplyTo: string | undefined, references: string | undefined): string | undefined {
    if (threadId) {
      const t = mb.threads.get(threadId);
      if (!t || t.messages.every((m) => m.deleted)) throw new GmailError(404, 'Requested entity was not found.');
      return t.id;
    }
    const candidates = [inReplyTo, ...(references ?? '').split(/\s+/).reverse()]
      .filter((x): x is string => !!x)
      .map((x) => x.trim().replace(/^<|>$/g, ''));
    for (const c of candidates) {
      const id = mb.byMessageIdHeader.get(c);
      const m = id ? mb.messages.get(id) : undefined;
      if (m && !m.deleted) return m.threadId;
    }
    return undefined;
  }

  /**
   * Reads a message a client built (messages.send, drafts.create): what Gmail stamps on it when the
   * client left it out (From, Date, Message-ID), its recipients, and the thread it belongs to.
   */
  private async compose(mb: MailboxState, raw: Buffer, threadId: string | undefined, now: number) {
    let email;
    try {
      email = await PostalMime.parse(raw);
    } catch {
      throw new GmailError(400, 'Invalid raw message');
    }
    const recipients = [...(email.to ?? []), ...(email.cc ?? []), ...(email.bcc ?? [])].flatMap((a) => (a.group ? a.group : [a]));
    // Gmail stamps what the client left out.
    const prepend: string[] = [];
    const has = (name: string) => email.headers.some((h) => h.key === name);
    if (!has('from')) prepend.push(`From: ${formatAddress(mb.owner)}`);
    if (!has('date')) prepend.push(`Date: ${rfc2822Date(now)}`);
    let messageIdHeader = email.messageId?.replace(/^<|>$/g, '');
    if (!messageIdHeader) {
      messageIdHeader = gmailMessageIdHeader(mb.prng);
      prepend.push(`Message-ID: <${messageIdHeader}>`);
    }
    const stored = prepend.length > 0 ? Buffer.concat([Buffer.from(prepend.map((l) => `${l}\r\n`).join(''), 'latin1'), raw]) : raw;
    const tid = this.threadFor(mb, threadId, email.inReplyTo, email.references);
    const fromAddr = email.from && !email.from.group ? email.from : undefined;
    const meta = {
      from: fromAddr ? displayAddress({ name: fromAddr.name || undefined, email: fromAddr.address }) : displayAddress(mb.owner),
      to: recipients.map((r) => displayAddress({ name: r.name || undefined, email: r.address ?? '' })).join(', '),
      subject: email.subject ?? '',
      messageIdHeader,
      hasAttachment: email.attachments.some((a) => a.disposition === 'attachment' || !!a.filename),
    };
    return { stored, recipients, tid, meta };
  }

  private sentLabels(mb: MailboxState, recipients: Array<{ address?: string }>): Set<string> {
    const labels = new Set<string>(['SENT']);
    if (recipients.some((r) => r.address?.toLowerCase() === mb.owner.email.toLowerCase())) {
      labels.add('INBOX');
      labels.add('UNREAD');
    }
    return labels;
  }

  /** users.messages.send: `raw` is the RFC 2822 message the client built. */
  async send(account: string, raw: Buffer, threadId?: string): Promise<Pick<GmailMessage, 'id' | 'threadId' | 'labelIds'>> {
    const mb = this.mailbox(account);
    const now = this.clock();
    const { stored, recipients, tid, meta } = await this.compose(mb, raw, threadId, now);
    if (recipients.length === 0) throw new GmailError(400, 'Invalid To header');
    const msg = this.insert(mb, stored, this.sentLabels(mb, recipients), tid, now, meta);
    return { id: msg.id, threadId: msg.threadId, labelIds: [...msg.labels] };
  }

  // -------------------------------------------------------------------------
  // Drafts (users.drafts): a draft is a message labelled DRAFT, in its thread, until it is sent.

  /** users.drafts.create: recipients may be missing (they are checked when it is sent). */
  async createDraft(account: string, raw: Buffer, threadId?: string): Promise<{ id: string; message: Pick<GmailMessage, 'id' | 'threadId' | 'labelIds'> }> {
    const mb = this.mailbox(account);
    const now = this.clock();
    const { stored, tid, meta } = await this.compose(mb, raw, threadId, now);
    const msg = this.insert(mb, stored, new Set(['DRAFT']), tid, now, meta);
    let id: string;
    do id = `r${mb.prng.int(1_000_000_000, 9_999_999_999)}${mb.prng.int(100_000_000, 999_999_999)}`;
    while (mb.drafts.has(id));
    mb.drafts.set(id, msg.id);
    return { id, message: { id: msg.id, threadId: msg.threadId, labelIds: [...msg.labels] } };
  }

  private draftMessage(mb: MailboxState, draftId: string): MessageState {
    const messageId = mb.drafts.get(draftId);
    const msg = messageId ? mb.messages.get(messageId) : undefined;
    if (!msg || msg.deleted) throw new GmailError(404, 'Requested entity was not found.');
    return msg;
  }

  /** users.drafts.get */
  getDraft(account: string, draftId: string, format: MessageFormat = 'full'): { id: string; message: GmailMessage } {
    const mb = this.mailbox(account);
    return { id: draftId, message: this.toResource(mb, this.draftMessage(mb, draftId), format) };
  }

  /** users.drafts.list: `q` searches the drafts' messages, as Gmail's search box does. */
  listDrafts(
    account: string,
    opts: { q?: string; maxResults?: number; pageToken?: string },
  ): { drafts?: Array<{ id: string; message: { id: string; threadId: string } }>; nextPageToken?: string; resultSizeEstimate: number } {
    const mb = this.mailbox(account);
    const max = Math.min(Math.max(opts.maxResults ?? 100, 1), 500);
    const offset = decodeToken(opts.pageToken);
    const match = this.matcher(opts.q, ['DRAFT'], true);
    const hits = [...mb.drafts]
      .map(([id, messageId]) => ({ id, msg: mb.messages.get(messageId)! }))
      .filter(({ msg }) => msg && match(msg))
      .sort((a, b) => b.msg.internalDate - a.msg.internalDate);
    const page = hits.slice(offset, offset + max);
    const result: ReturnType<GmailStore['listDrafts']> = { resultSizeEstimate: hits.length };
    if (page.length > 0) result.drafts = page.map(({ id, msg }) => ({ id, message: { id: msg.id, threadId: msg.threadId } }));
    if (offset + max < hits.length) result.nextPageToken = encodeToken(offset + max);
    return result;
  }

  /**
   * users.drafts.send: the draft's message becomes a sent one (same id, DRAFT replaced by SENT) and the
   * draft is gone, so a second send of it is a 404. Gmail replaces the Message-ID the client set (as
   * it is reported to): a client cannot find its sent mail by that header.
   */
  sendDraft(account: string, draftId: string): Pick<GmailMessage, 'id' | 'threadId' | 'labelIds'> {
    const mb = this.mailbox(account);
    const msg = this.draftMessage(mb, draftId);
    const raw = this.rawOf(mb, msg);
    const headerEnd = raw.indexOf('\r\n\r\n');
    const head = raw.subarray(0, headerEnd < 0 ? raw.length : headerEnd).toString('latin1');
    const recipients = [...head.matchAll(/^(?:To|Cc|Bcc):(.*(?:\r\n[ \t].*)*)/gim)].flatMap((m) => m[1]!.match(/[^\s<>,"]+@[^\s<>,"]+/g) ?? []);
    if (recipients.length === 0) throw new GmailError(400, 'Invalid To header');
    const messageIdHeader = gmailMessageIdHeader(mb.prng);
    const rewritten = head.replace(/^Message-ID:.*(?:\r\n[ \t].*)*$/im, `Message-ID: <${messageIdHeader}>`);
    msg.raw = Buffer.concat([Buffer.from(rewritten, 'latin1'), raw.subarray(head.length)]);
    msg.snippet = undefined;
    mb.byMessageIdHeader.delete(msg.messageIdHeader);
    msg.messageIdHeader = messageIdHeader;
    mb.byMessageIdHeader.set(messageIdHeader, msg.id);
    msg.labels = this.sentLabels(mb, recipients.map((address) => ({ address })));
    msg.internalDate = this.clock();
    mb.drafts.delete(draftId);
    mb.order = null;
    msg.historyId = this.record(mb, () => ({ messagesAdded: [this.ref(msg)] }));
    return { id: msg.id, threadId: msg.threadId, labelIds: [...msg.labels] };
  }

  /** users.drafts.delete: gone for good. */
  deleteDraft(account: string, draftId: string): void {
    const mb = this.mailbox(account);
    const msg = this.draftMessage(mb, draftId);
    mb.drafts.delete(draftId);
    msg.deleted = true;
    mb.order = null;
    msg.historyId = this.record(mb, () => ({ messagesDeleted: [this.ref(msg)] }));
  }

  /** The drafts of a mailbox (tests): draft id -> message id. */
  draftIds(account: string): Map<string, string> {
    return new Map(this.mailbox(account).drafts);
  }

  /** A new incoming mail (control API and tests): lands in INBOX, unread, history recorded. */
  addMessage(account: string, input: AddMessageInput): GmailMessage {
    const mb = this.mailbox(account);
    const from = parseAddress(input.from);
    const to = input.to ? parseAddress(input.to) : mb.owner;
    const date = input.date ?? this.clock();
    let subject = input.subject;
    let inReplyTo: string | undefined;
    let references: string | undefined;
    if (input.threadId) {
      const t = mb.threads.get(input.threadId);
      const live = t?.messages.filter((m) => !m.deleted) ?? [];
      if (!t || live.length === 0) throw new GmailError(404, 'Requested entity was not found.');
      const last = live[live.length - 1] as MessageState;
      subject ??= /^re:/i.test(last.subject) ? last.subject : `Re: ${last.subject}`;
      inReplyTo = `<${last.messageIdHeader}>`;
      references = live.map((m) => `<${m.messageIdHeader}>`).join(' ');
    }
    subject ??= '(no subject)';
    const prng = mb.prng;
    const domain = from.email.split('@')[1] ?? 'example.com';
    const messageIdHeader = `${prng.hex(8)}.${prng.hex(12)}@${domain}`;
    const boundary = () => `000000000000${prng.hex(16)}`;
    let root: MimeNode = input.html
      ? {
          kind: 'multipart',
          subtype: 'alternative',
          boundary: boundary(),
          parts: [textPart('text/plain', input.text, 'UTF-8', 'quoted-printable'), textPart('text/html', input.html, 'UTF-8', 'quoted-printable')],
        }
      : textPart('text/plain', input.text, 'UTF-8', 'quoted-printable');
    if (input.attachments && input.attachments.length > 0) {
      root = {
        kind: 'multipart',
        subtype: 'mixed',
        boundary: boundary(),
        parts: [
          root,
          ...input.attachments.map((a) => ({
            kind: 'leaf' as const,
            type: a.mimeType,
            params: { name: a.filename },
            encoding: 'base64' as const,
            content: typeof a.content === 'string' ? Buffer.from(a.content) : a.content,
            disposition: { type: 'attachment' as const, filename: a.filename },
          })),
        ],
      };
    }
    const headers: Array<[string, string]> = [
      ['Delivered-To', mb.owner.email],
      ['Date', rfc2822Date(date)],
      ['From', formatAddress(from as { name?: string; email: string })],
      ['To', formatAddress(to as { name?: string; email: string })],
      ['Subject', encodeHeaderText(subject)],
      ['Message-ID', `<${messageIdHeader}>`],
    ];
    if (inReplyTo) headers.push(['In-Reply-To', inReplyTo], ['References', references as string]);
    const raw = serializeMessage(headers, root);
    const labels = new Set(input.labelIds ?? ['INBOX', 'UNREAD', 'CATEGORY_PERSONAL']);
    const msg = this.insert(mb, raw, labels, input.threadId, date, {
      from: displayAddress(from as { name?: string; email: string }),
      to: displayAddress(to as { name?: string; email: string }),
      subject,
      messageIdHeader,
      hasAttachment: (input.attachments?.length ?? 0) > 0,
    });
    return this.toResource(mb, msg, 'minimal');
  }

  /** users.messages.modify */
  modifyMessage(account: string, id: string, add: string[] = [], remove: string[] = []): GmailMessage {
    const mb = this.mailbox(account);
    const msg = mb.messages.get(id);
    if (!msg || msg.deleted) throw new GmailError(404, 'Requested entity was not found.');
    this.applyLabels(mb, [msg], add, remove);
    return this.toResource(mb, msg, 'minimal');
  }

  modifyThread(account: string, id: string, add: string[] = [], remove: string[] = []): { id: string; historyId: string; messages: GmailMessage[] } {
    const mb = this.mailbox(account);
    const thread = mb.threads.get(id);
    const live = thread?.messages.filter((m) => !m.deleted) ?? [];
    if (!thread || live.length === 0) throw new GmailError(404, 'Requested entity was not found.');
    this.applyLabels(mb, live, add, remove);
    return this.getThread(account, id, 'minimal');
  }

  /** users.labels.list: the system labels and the mailbox's own. */
  listLabels(account: string): { id: string; name: string; type: 'system' | 'user' }[] {
    const mb = this.mailbox(account);
    return [
      ...SYSTEM_LABELS.map((id) => ({ id, name: id, type: 'system' as const })),
      ...[...mb.userLabels].map(([id, name]) => ({ id, name, type: 'user' as const })),
    ];
  }

  /** users.labels.create: a name already taken (any case, system names too) is Gmail's 409. */
  createLabel(account: string, name: string): { id: string; name: string; type: 'user' } {
    const mb = this.mailbox(account);
    const wanted = name.trim();
    if (wanted === '' || wanted.length > 225) throw new GmailError(400, 'Invalid label name');
    const taken = [...SYSTEM_LABELS, ...mb.userLabels.values()].some((existing) => existing.toLowerCase() === wanted.toLowerCase());
    if (taken) throw new GmailError(409, 'Label name exists or conflicts');
    const id = `Label_${mb.userLabels.size + 1}`;
    mb.userLabels.set(id, wanted);
    return { id, name: wanted, type: 'user' };
  }

  private applyLabels(mb: MailboxState, msgs: MessageState[], add: string[], remove: string[]): void {
    for (const l of [...add, ...remove]) {
      if (!(SYSTEM_LABELS as readonly string[]).includes(l) && !/^Label_\d+$/.test(l)) throw new GmailError(400, `Invalid label: ${l}`);
    }
    const added: Array<{ message: HistoryMessageRef; labelIds: string[] }> = [];
    const removed: Array<{ message: HistoryMessageRef; labelIds: string[] }> = [];
    for (const m of msgs) {
      const a = add.filter((l) => !m.labels.has(l));
      const r = remove.filter((l) => m.labels.has(l));
      for (const l of a) m.labels.add(l);
      for (const l of r) m.labels.delete(l);
      if (a.length > 0) added.push({ message: this.ref(m), labelIds: a });
      if (r.length > 0) removed.push({ message: this.ref(m), labelIds: r });
    }
    if (added.length === 0 && removed.length === 0) return;
    const hid = this.record(mb, () => ({
      ...(added.length > 0 ? { labelsAdded: added } : {}),
      ...(removed.length > 0 ? { labelsRemoved: removed } : {}),
    }));
    for (const m of msgs) if (added.some((x) => x.message.id === m.id) || removed.some((x) => x.message.id === m.id)) m.historyId = hid;
  }

  trashMessage(account: string, id: string): GmailMessage {
    return this.modifyMessage(account, id, ['TRASH'], ['INBOX', 'UNREAD']);
  }
  untrashMessage(account: string, id: string): GmailMessage {
    return this.modifyMessage(account, id, [], ['TRASH']);
  }

  /** users.messages.delete: gone for good, recorded as messagesDeleted. */
  deleteMessage(account: string, id: string): void {
    const mb = this.mailbox(account);
    const msg = mb.messages.get(id);
    if (!msg || msg.deleted) throw new GmailError(404, 'Requested entity was not found.');
    msg.deleted = true;
    mb.order = null;
    msg.historyId = this.record(mb, () => ({ messagesDeleted: [this.ref(msg)] }));
  }

  /**
   * Gmail keeps history for a limited time: the records kept so far are dropped, so a client that
   * holds a position before now gets 404 from history.list and must resync (the fidelity tests' stale
   * cursor).
   */
  expireHistory(account: string): void {
    const mb = this.mailbox(account);
    mb.history.length = 0;
    mb.historyFloor = mb.historyId;
  }

  /** Number of history records kept for the account. */
  historySize(account: string): number {
    return this.mailbox(account).history.length;
  }

  /** Raw RFC 5322 bytes of a message (tests). */
  rawMessage(account: string, id: string): Buffer {
    const mb = this.mailbox(account);
    const msg = mb.messages.get(id);
    if (!msg) throw new GmailError(404, 'Requested entity was not found.');
    return this.rawOf(mb, msg);
  }
}

// ---------------------------------------------------------------------------

function attachmentIdFor(messageId: string, partId: string): string {
  return `ANGjdJ${Buffer.from(`${messageId}/${partId}`).toString('base64url')}`;
}

function toPayload(part: ParsedPart, partId: string, messageId: string, attachments: Map<string, Buffer>): GmailMessagePart {
  const out: GmailMessagePart = {
    partId,
    mimeType: part.mimeType,
    filename: part.filename,
    headers: part.headers,
    body: { size: 0 },
  };
  if (part.children) {
    out.parts = part.children.map((c, i) => toPayload(c, partId === '' ? String(i) : `${partId}.${i}`, messageId, attachments));
    return out;
  }
  const content = part.content ?? Buffer.alloc(0);
  if (part.filename) {
    const attachmentId = attachmentIdFor(messageId, partId);
    attachments.set(attachmentId, content);
    out.body = { attachmentId, size: content.length };
  } else {
    out.body = { size: content.length, ...(content.length > 0 ? { data: b64url(content) } : {}) };
  }
  return out;
}

function findText(part: ParsedPart, type: string): ParsedPart | undefined {
  if (part.children) {
    for (const c of part.children) {
      const hit = findText(c, type);
      if (hit) return hit;
    }
    return undefined;
  }
  return part.mimeType === type && !part.filename && part.disposition !== 'attachment' ? part : undefined;
}

function buildFromRaw(raw: Buffer, messageId: string): Built {
  const parsed = parseMime(raw);
  const attachments = new Map<string, Buffer>();
  const payload = toPayload(parsed, '', messageId, attachments);
  const plain = findText(parsed, 'text/plain');
  const html = plain ? undefined : findText(parsed, 'text/html');
  let text = '';
  if (plain?.content) text = decodeCharset(plain.content, plain.params['charset']);
  else if (html?.content) text = htmlToText(decodeCharset(html.content, html.params['charset']));
  const snippet = escapeSnippet(text.replace(/\s+/g, ' ').trim().slice(0, 200).trim());
  return { raw, payload, attachments, snippet };
}

/** A Message-ID as Gmail writes its own. */
function gmailMessageIdHeader(prng: Prng): string {
  return `CA+${prng.bytes(24).toString('base64').replace(/[+/=]/g, 'x')}@mail.gmail.com`;
}
