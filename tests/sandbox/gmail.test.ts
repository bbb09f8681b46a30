import type { gmail_v1 } from '@googleapis/gmail';
import PostalMime, { decodeWords } from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../dev/sandbox/index';
import { failure, gmailClient, startTestSandbox } from '../helpers/sandbox';

type Part = gmail_v1.Schema$MessagePart;

let sandbox: Sandbox;
let api: gmail_v1.Gmail;
const USER = 'gmail-user';
const THREADS = 300;

function walk(part: Part | undefined, out: Part[] = []): Part[] {
  if (!part) return out;
  out.push(part);
  for (const p of part.parts ?? []) walk(p, out);
  return out;
}
const headerOf = (part: Part | undefined, name: string) => part?.headers?.find((h) => h.name?.toLowerCase() === name.toLowerCase())?.value ?? undefined;
const bytesOf = (part: Part) => Buffer.from(part.body?.data ?? '', 'base64url');
const charsetOf = (part: Part) => /charset="?([^";]+)"?/i.exec(headerOf(part, 'Content-Type') ?? '')?.[1]?.toLowerCase();

let all: gmail_v1.Schema$Message[] = [];

beforeAll(async () => {
  sandbox = await startTestSandbox();
  sandbox.ensureUser(USER, { gmailThreads: THREADS });
  api = gmailClient(sandbox, sandbox.accessToken(USER, 'gmail'));
  // every thread, in full, through the real client
  let pageToken: string | undefined;
  const ids: string[] = [];
  do {
    const res = await api.users.threads.list({ userId: 'me', maxResults: 100, pageToken, includeSpamTrash: true });
    ids.push(...(res.data.threads ?? []).map((t) => t.id as string));
    pageToken = res.data.nextPageToken ?? undefined;
  } while (pageToken);
  for (const id of ids) all.push(...((await api.users.threads.get({ userId: 'me', id, format: 'full' })).data.messages ?? []));
});
afterAll(() => sandbox.close());

describe('Gmail reads with the real @googleapis/gmail client', () => {
  it('getProfile reports the mailbox', async () => {
    const { data } = await api.users.getProfile({ userId: 'me' });
    expect(data.emailAddress).toBe(sandbox.ensureUser(USER).email);
    expect(data.threadsTotal).toBe(THREADS);
    expect(data.messagesTotal).toBe(all.length);
    expect(Number(data.historyId)).toBeGreaterThan(0);
  });

  it('threads.list pages newest first without repeats', async () => {
    const seen: string[] = [];
    const latest: number[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    let estimate = 0;
    do {
      const res = await api.users.threads.list({ userId: 'me', maxResults: 37, pageToken });
      estimate = res.data.resultSizeEstimate ?? 0;
      for (const t of res.data.threads ?? []) {
        expect(typeof t.snippet).toBe('string');
        expect(Number(t.historyId)).toBeGreaterThan(0);
        seen.push(t.id as string);
      }
      pageToken = res.data.nextPageToken ?? undefined;
      pages++;
    } while (pageToken);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(estimate);
    expect(pages).toBe(Math.ceil(estimate / 37));
    // trash-only threads are left out unless includeSpamTrash
    expect(seen.length).toBeLessThanOrEqual(THREADS);
    const byThread = new Map<string, number>();
    for (const m of all) byThread.set(m.threadId as string, Math.max(byThread.get(m.threadId as string) ?? 0, Number(m.internalDate)));
    for (const id of seen) latest.push(byThread.get(id) as number);
    for (let i = 1; i < latest.length; i++) expect(latest[i - 1]).toBeGreaterThanOrEqual(latest[i] as number);
  });

  it('filters by labelIds and q', async () => {
    const unread = await api.users.threads.list({ userId: 'me', labelIds: ['UNREAD'], maxResults: 500 });
    expect(unread.data.threads?.length).toBeGreaterThan(0);
    const unreadThreads = new Set(all.filter((m) => m.labelIds?.includes('UNREAD')).map((m) => m.threadId));
    for (const t of unread.data.threads ?? []) expect(unreadThreads.has(t.id)).toBe(true);

    const github = await api.users.messages.list({ userId: 'me', q: 'from:noreply@github.com', maxResults: 500 });
    for (const m of github.data.messages ?? []) {
      const msg = all.find((x) => x.id === m.id);
      expect(headerOf(msg?.payload, 'From')).toContain('noreply@github.com');
    }
  });

  it('a generated mailbox has every kind of mail, with real encoded bytes', async () => {
    const parts = all.flatMap((m) => walk(m.payload).map((p) => ({ m, p })));

    // non-UTF-8 charsets: bytes in the charset, transfer encoding undone
    const latin1 = parts.find(({ p }) => charsetOf(p) === 'iso-8859-1' && bytesOf(p).some((b) => b >= 0xc0));
    expect(latin1).toBeDefined();
    const latinBytes = bytesOf(latin1!.p);
    expect(latinBytes.toString('utf8')).toContain('\ufffd'); // not UTF-8
    expect(latinBytes.toString('latin1')).toMatch(/[àâçéèêëîïôûüÿäöüßñáíóú]/i);
    expect(headerOf(latin1!.p, 'Content-Transfer-Encoding')).toBe('quoted-printable');
    expect(latinBytes.toString('latin1')).not.toMatch(/=[0-9A-F]{2}/);

    const cp1252 = parts.find(({ p }) => charsetOf(p) === 'windows-1252' && bytesOf(p).some((b) => b >= 0x80 && b <= 0x9f));
    expect(cp1252).toBeDefined();

    // multipart/alternative with both bodies inline
    const alt = parts.find(({ p }) => p.mimeType === 'multipart/alternative');
    expect(alt).toBeDefined();
    const kinds = (alt!.p.parts ?? []).map((p) => p.mimeType);
    expect(kinds).toEqual(expect.arrayContaining(['text/plain', 'text/html']));
    for (const p of alt!.p.parts ?? []) expect(bytesOf(p).length).toBe(p.body?.size);
    expect(alt!.p.body).toEqual({ size: 0 });

    // HTML-only mail
    expect(all.some((m) => m.payload?.mimeType === 'text/html' && !m.payload.parts && bytesOf(m.payload).toString().includes('<html'))).toBe(true);

    // a calendar invite
    const cal = parts.find(({ p }) => p.mimeType === 'text/calendar');
    expect(cal).toBeDefined();
    expect(headerOf(cal!.p, 'Content-Type')).toContain('method=REQUEST');
    expect(bytesOf(cal!.p).toString()).toMatch(/BEGIN:VCALENDAR[\s\S]*METHOD:REQUEST[\s\S]*BEGIN:VEVENT/);

    // newsletters carry bulk headers
    const news = all.find((m) => headerOf(m.payload, 'List-Unsubscribe'));
    expect(news).toBeDefined();
    expect(headerOf(news!.payload, 'Precedence')).toBe('bulk');
    expect(headerOf(news!.payload, 'List-Unsubscribe')).toMatch(/<mailto:[^>]+>, <https:[^>]+>/);
    expect(news!.labelIds).toContain('CATEGORY_PROMOTIONS');

    // support replies: quoted text and a "-- " signature
    const quoted = parts.find(({ p }) => p.mimeType === 'text/plain' && /\r\nOn .+ wrote:\r\n> /.test(bytesOf(p).toString('latin1')));
    expect(quoted).toBeDefined();
    expect(parts.some(({ p }) => p.mimeType === 'text/plain' && bytesOf(p).toString('latin1').includes('\r\n-- \r\n'))).toBe(true);

    // multi-message threads with In-Reply-To / References
    const reply = all.find((m) => headerOf(m.payload, 'In-Reply-To'));
    expect(reply).toBeDefined();
    const siblings = all.filter((m) => m.threadId === reply!.threadId);
    expect(siblings.length).toBeGreaterThan(1);
    expect(siblings.map((m) => headerOf(m.payload, 'Message-ID'))).toContain(headerOf(reply!.payload, 'In-Reply-To'));

    // senders vary
    expect(new Set(all.map((m) => headerOf(m.payload, 'From'))).size).toBeGreaterThan(30);
  });

  it('attachments come by attachmentId, and their bytes match the raw MIME', async () => {
    const withAttachment = all.filter((m) => walk(m.payload).some((p) => p.filename));
    expect(withAttachment.length).toBeGreaterThan(3);
    const mimeTypes = new Set<string>();
    for (const m of withAttachment.slice(0, 8)) {
      const raw = (await api.users.messages.get({ userId: 'me', id: m.id as string, format: 'raw' })).data.raw as string;
      const parsed = await PostalMime.parse(Buffer.from(raw, 'base64url'), { attachmentEncoding: 'arraybuffer' });
      for (const part of walk(m.payload).filter((p) => p.filename)) {
        mimeTypes.add(part.mimeType as string);
        expect(part.body?.data).toBeUndefined();
        expect(part.body?.attachmentId).toBeTruthy();
        const res = await api.users.messages.attachments.get({ userId: 'me', messageId: m.id as string, id: part.body!.attachmentId as string });
        const bytes = Buffer.from(res.data.data as string, 'base64url');
        expect(bytes.length).toBe(part.body?.size);
        expect(res.data.size).toBe(bytes.length);
        const fromRaw = parsed.attachments.find((a) => a.filename === part.filename);
        expect(fromRaw).toBeDefined();
        const expected = Buffer.from(fromRaw!.content as ArrayBuffer);
        if (part.mimeType === 'application/ics') {
          // postal-mime normalises the line breaks of text-like attachments; ours keep iCalendar's CRLF
          expect(bytes.includes('\r\n')).toBe(true);
          expect(bytes.toString('utf8').replace(/\r\n/g, '\n')).toBe(expected.toString('utf8').replace(/\r\n/g, '\n'));
        } else {
          expect(expected.equals(bytes)).toBe(true);
        }
      }
    }
    expect([...mimeTypes].some((t) => t === 'application/pdf' || t === 'image/jpeg' || t === 'application/ics')).toBe(true);
  });

  it('payload bodies agree with the raw message (format=raw parsed by postal-mime)', async () => {
    const sample = all.filter((m) => walk(m.payload).some((p) => p.mimeType === 'text/plain' && charsetOf(p) === 'utf-8')).slice(0, 15);
    expect(sample.length).toBeGreaterThan(5);
    for (const m of sample) {
      const raw = Buffer.from((await api.users.messages.get({ userId: 'me', id: m.id as string, format: 'raw' })).data.raw as string, 'base64url');
      expect(m.sizeEstimate).toBe(raw.length);
      const parsed = await PostalMime.parse(raw);
      const plain = walk(m.payload).find((p) => p.mimeType === 'text/plain' && !p.filename) as Part;
      expect(bytesOf(plain).toString('utf8').replace(/\r\n/g, '\n').trim()).toBe((parsed.text ?? '').replace(/\r\n/g, '\n').trim());
      // header values are unfolded but still RFC 2047 encoded, as Gmail returns them
      expect(decodeWords(headerOf(m.payload, 'Subject') ?? '')).toBe(parsed.subject);
    }
  });

  it('formats: metadata keeps only the asked headers, minimal has no payload', async () => {
    const id = all[0]!.id as string;
    const meta = await api.users.messages.get({ userId: 'me', id, format: 'metadata', metadataHeaders: ['From', 'Subject'] });
    expect(meta.data.payload?.headers?.map((h) => h.name).sort()).toEqual(['From', 'Subject']);
    expect(meta.data.payload?.parts).toBeUndefined();
    const minimal = await api.users.messages.get({ userId: 'me', id, format: 'minimal' });
    expect(minimal.data.payload).toBeUndefined();
    expect(minimal.data.snippet).toBe(all[0]!.snippet);
    const missing = await failure(api.users.messages.get({ userId: 'me', id: 'ffffffffffffffff' }));
    expect(missing.status).toBe(404);
    expect(missing.data.error).toMatchObject({ code: 404, status: 'NOT_FOUND' });
    expect(missing.data.error.errors[0].reason).toBe('notFound');
  });
});

describe('Gmail history and sending', () => {
  it('history.list returns added messages and label changes since a historyId, in pages', async () => {
    const start = (await api.users.getProfile({ userId: 'me' })).data.historyId as string;
    const res = await fetch(`${sandbox.url}/_sandbox/gmail/${USER}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'Ada Lovelace <ada@example.org>', subject: 'Engines', text: 'Hello there' }),
    });
    expect(res.status).toBe(201);
    const added = ((await res.json()) as { message: { id: string; threadId: string } }).message;
    await api.users.messages.modify({ userId: 'me', id: added.id, requestBody: { removeLabelIds: ['UNREAD'], addLabelIds: ['STARRED'] } });
    await api.users.messages.trash({ userId: 'me', id: added.id });

    const full = await api.users.history.list({ userId: 'me', startHistoryId: start });
    const h = full.data.history ?? [];
    expect(h.length).toBe(3);
    expect(h[0]!.messagesAdded?.[0]?.message?.id).toBe(added.id);
    expect(h[0]!.messagesAdded?.[0]?.message?.labelIds).toEqual(expect.arrayContaining(['INBOX', 'UNREAD']));
    expect(h[1]!.labelsRemoved?.[0]?.labelIds).toEqual(['UNREAD']);
    expect(h[1]!.labelsAdded?.[0]?.labelIds).toEqual(['STARRED']);
    expect(h[2]!.labelsAdded?.[0]?.labelIds).toEqual(['TRASH']);
    for (const rec of h) expect(rec.messages?.[0]?.id).toBe(added.id);
    expect(full.data.historyId).toBe((await api.users.getProfile({ userId: 'me' })).data.historyId);

    const onlyAdded = await api.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'] });
    expect(onlyAdded.data.history?.length).toBe(1);

    const paged: string[] = [];
    let pageToken: string | undefined;
    do {
      const page = await api.users.history.list({ userId: 'me', startHistoryId: start, maxResults: 1, pageToken });
      paged.push(...(page.data.history ?? []).map((r) => r.id as string));
      pageToken = page.data.nextPageToken ?? undefined;
    } while (pageToken);
    expect(paged).toEqual(h.map((r) => r.id));

    const none = await api.users.history.list({ userId: 'me', startHistoryId: full.data.historyId as string });
    expect(none.data.history).toBeUndefined();
  });

  it('history.list answers 404 once startHistoryId is older than the kept history', async () => {
    const small = await startTestSandbox({ historyKeep: 3, seed: 7 });
    try {
      small.ensureUser('h', { gmailThreads: 3 });
      const g = gmailClient(small, small.accessToken('h', 'gmail'));
      const initial = (await g.users.getProfile({ userId: 'me' })).data.historyId as string;
      for (let i = 0; i < 5; i++) small.gmail.addMessage('h', { from: `n${i}@example.com`, subject: `m${i}`, text: 'x' });
      const tooOld = await failure(g.users.history.list({ userId: 'me', startHistoryId: initial }));
      expect(tooOld.status).toBe(404);
      expect(tooOld.data).toEqual({
        error: {
          code: 404,
          message: 'Requested entity was not found.',
          errors: [{ message: 'Requested entity was not found.', domain: 'global', reason: 'notFound' }],
          status: 'NOT_FOUND',
        },
      });
      const floor = small.gmail.historyFloor('h');
      const ok = await g.users.history.list({ userId: 'me', startHistoryId: String(floor) });
      expect(ok.data.history?.length).toBe(3);
    } finally {
      await small.close();
    }
  });

  it('messages.send joins the thread it replies to, and lands as SENT', async () => {
    const thread = all.find((m) => m.labelIds?.includes('INBOX') && headerOf(m.payload, 'Message-ID') && !m.labelIds?.includes('TRASH'))!;
    const before = (await api.users.threads.get({ userId: 'me', id: thread.threadId as string, format: 'minimal' })).data.messages!.length;
    const start = (await api.users.getProfile({ userId: 'me' })).data.historyId as string;
    const raw = [
      `To: ${headerOf(thread.payload, 'From')}`,
      `Subject: Re: ${decodeWords(headerOf(thread.payload, 'Subject') ?? '')}`.replace(/[^\x00-\x7f]/g, '?'),
      `In-Reply-To: ${headerOf(thread.payload, 'Message-ID')}`,
      `References: ${headerOf(thread.payload, 'Message-ID')}`,
      'Content-Type: text/plain; charset=UTF-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      'Thanks, got it — merci !',
    ].join('\r\n');
    const sent = await api.users.messages.send({ userId: 'me', requestBody: { raw: Buffer.from(raw).toString('base64url') } });
    expect(sent.data.threadId).toBe(thread.threadId);
    expect(sent.data.labelIds).toEqual(['SENT']);

    const after = await api.users.threads.get({ userId: 'me', id: thread.threadId as string, format: 'full' });
    expect(after.data.messages!.length).toBe(before + 1);
    const mine = after.data.messages!.at(-1)!;
    expect(mine.id).toBe(sent.data.id);
    expect(headerOf(mine.payload, 'From')).toContain(sandbox.ensureUser(USER).email); // stamped by Gmail
    expect(Buffer.from(mine.payload!.body!.data as string, 'base64url').toString('utf8')).toBe('Thanks, got it — merci !');

    const history = await api.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'] });
    expect(history.data.history?.[0]?.messagesAdded?.[0]?.message?.id).toBe(sent.data.id);

    // explicit threadId, through the media upload path; sent to self lands in INBOX too
    const self = sandbox.ensureUser(USER).email;
    const raw2 = `To: ${self}\r\nSubject: note to self\r\n\r\nremember the milk\r\n`;
    // NB: the generated client builds media upload urls from the per-call rootUrl only
    // (the client-wide rootUrl does not apply to /upload/...), so it must be passed here.
    const viaUpload = await api.users.messages.send(
      { userId: 'me', requestBody: { threadId: thread.threadId as string }, media: { mimeType: 'message/rfc822', body: raw2 } },
      { rootUrl: `${sandbox.url}/` },
    );
    expect(viaUpload.data.threadId).toBe(thread.threadId);
    expect(viaUpload.data.labelIds).toEqual(expect.arrayContaining(['SENT', 'INBOX', 'UNREAD']));

    // a new conversation starts a new thread
    const fresh = await api.users.messages.send({
      userId: 'me',
      requestBody: { raw: Buffer.from('To: someone@example.com\r\nSubject: hello\r\n\r\nhi\r\n').toString('base64url') },
    });
    expect(fresh.data.threadId).toBe(fresh.data.id);
    const missingTo = await failure(api.users.messages.send({ userId: 'me', requestBody: { raw: Buffer.from('Subject: x\r\n\r\ny').toString('base64url') } }));
    expect(missingTo.status).toBe(400);
  });
});

describe('Gmail generation', () => {
  it('is deterministic from seed + user id', async () => {
    const anchorTime = Date.UTC(2025, 0, 15);
    const a = await startTestSandbox({ seed: 99, anchorTime });
    const b = await startTestSandbox({ seed: 99, anchorTime });
    const c = await startTestSandbox({ seed: 100, anchorTime });
    try {
      for (const s of [a, b, c]) s.ensureUser('det', { gmailThreads: 40 });
      const list = (s: Sandbox) => s.gmail.listThreads('det', { maxResults: 40 }).threads!.map((t) => t.id);
      expect(list(a)).toEqual(list(b));
      expect(list(a)).not.toEqual(list(c));
      const id = list(a)[0]!;
      const msgA = a.gmail.getThread('det', id).messages[0]!;
      expect(a.gmail.rawMessage('det', msgA.id).equals(b.gmail.rawMessage('det', msgA.id))).toBe(true);
      a.ensureUser('other', { gmailThreads: 40 });
      expect(a.gmail.listThreads('other', { maxResults: 40 }).threads!.map((t) => t.id)).not.toEqual(list(a));
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('plans a 10,000-thread mailbox and lists it', async () => {
    const big = await startTestSandbox({ seed: 5 });
    try {
      big.ensureUser('big', { gmailThreads: 10_000 });
      const g = gmailClient(big, big.accessToken('big', 'gmail'));
      expect((await g.users.getProfile({ userId: 'me' })).data.threadsTotal).toBe(10_000);
      const page = await g.users.threads.list({ userId: 'me', maxResults: 500 });
      expect(page.data.threads?.length).toBe(500);
    } finally {
      await big.close();
    }
  });
});
