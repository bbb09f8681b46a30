import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { resetConfigForTests } from '../lib/config';
import { resetProviderPoliciesForTests } from '../lib/providers/resilience';
import { useActionsApp } from './helpers/actions';

/**
 * Gmail's email.send end to end: real HTTP, the action job run by the kicked runner, googleapis against
 * the sandbox's Gmail (drafts created, then sent), real Postgres. Each test has its own sandbox user.
 */
const app = useActionsApp('gmail');

/** Every sent message of the mailbox that carries the action's header: exactly-once means one. */
function sentCopies(userId: string, actionId: number): string[] {
  const listed = app.sandbox.gmail.listMessages(userId, { labelIds: ['SENT'], maxResults: 500, includeSpamTrash: true });
  return (listed.messages ?? [])
    .map((m) => m.id)
    .filter((id) => /^X-Switchyard-Action: (\d+)\r?$/m.exec(app.sandbox.gmail.rawMessage(userId, id).toString('latin1'))?.[1] === String(actionId));
}

async function parsedSent(userId: string, messageId: string) {
  return PostalMime.parse(app.sandbox.gmail.rawMessage(userId, messageId));
}

describe('email.send', () => {
  it('plain text to several recipients: sent once, and shown at once by GET /api/emails', async () => {
    await app.connect('gm-ann', 'gmail');
    const sent = await app.write('POST', '/api/emails/send', 'gm-ann', {
      to: ['test@example.com', 'Bob Builder <bob@example.org>'],
      cc: ['carol@example.net'],
      bcc: ['dave@example.com'],
      subject: 'Test',
      text: 'Hello',
    });
    expect(sent.status).toBe(200);
    const action = sent.body.action;
    expect(action).toMatchObject({ tool: 'email.send', status: 'succeeded', result: { labelIds: ['SENT'] } });
    expect(sentCopies('gm-ann', action.id)).toEqual([action.result.id]);
    const email = await parsedSent('gm-ann', action.result.id);
    expect(email.to?.map((a) => a.address)).toEqual(['test@example.com', 'bob@example.org']);
    expect(email.cc?.map((a) => a.address)).toEqual(['carol@example.net']);
    expect(email.subject).toBe('Test');
    expect(email.text?.trim()).toBe('Hello');
    expect(app.sandbox.gmail.draftIds('gm-ann').size).toBe(0);

    const listed = await app.get('/api/emails?limit=5', 'gm-ann');
    const thread = listed.body.data.find((t: any) => t.providerThreadId === action.result.threadId);
    expect(thread).toMatchObject({ subject: 'Test', labelIds: ['SENT'], messageCount: 1 });
    const [stored] = await app.q(`SELECT count(*)::int AS n FROM email_messages WHERE provider_message_id = $1`, [action.result.id]);
    expect(stored!.n).toBe(1);
  });

  it('HTML with a text alternative and attachments; contents are not kept once sent', async () => {
    await app.connect('gm-bea', 'gmail');
    const pdf = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
    const sent = await app.write('POST', '/api/emails/send', 'gm-bea', {
      to: ['x@example.com'],
      subject: 'Rapport trimestriel — Q1',
      html: '<h1>Résumé</h1><p>See the <b>attached</b> report.</p>',
      attachments: [
        { filename: 'report.pdf', contentType: 'application/pdf', content: pdf.toString('base64') },
        { filename: 'données.csv', contentType: 'text/csv', content: Buffer.from('a,b\n1,2\n').toString('base64') },
      ],
    });
    expect(sent.status).toBe(200);
    const email = await parsedSent('gm-bea', sent.body.action.result.id);
    expect(email.subject).toBe('Rapport trimestriel — Q1');
    expect(email.html).toContain('<b>attached</b>');
    expect(email.text).toMatch(/RÉSUMÉ|Résumé/);
    expect(email.text).toContain('See the attached report.');
    expect(email.attachments.map((a) => a.filename)).toEqual(['report.pdf', 'données.csv']);
    expect(Buffer.from(email.attachments[0]!.content as ArrayBuffer)).toEqual(pdf);
    expect(sent.body.action.input.attachments[0]).toEqual({ filename: 'report.pdf', contentType: 'application/pdf', size: 5000, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const [row] = await app.q(`SELECT attachments FROM email_messages WHERE provider_message_id = $1`, [sent.body.action.result.id]);
    expect(row!.attachments.map((a: any) => a.filename)).toEqual(['report.pdf', 'données.csv']);
  });

  it('a reply in a thread: threadId, In-Reply-To and References of its last message, Re: subject', async () => {
    await app.connect('gm-cy', 'gmail');
    const thread = app.sandbox.gmail.listThreads('gm-cy', { maxResults: 1 }).threads![0]!;
    const before = app.sandbox.gmail.getThread('gm-cy', thread.id, 'metadata');
    const last = before.messages.at(-1)!;
    const lastMessageId = last.payload!.headers.find((h) => h.name.toLowerCase() === 'message-id')!.value;
    const lastSubject = last.payload!.headers.find((h) => h.name.toLowerCase() === 'subject')!.value;
    const sent = await app.write('POST', '/api/emails/send', 'gm-cy', { to: ['someone@example.com'], subject: '', text: 'Thanks!', threadId: thread.id });
    expect(sent.status).toBe(200);
    expect(sent.body.action.result.threadId).toBe(thread.id);
    const email = await parsedSent('gm-cy', sent.body.action.result.id);
    expect(email.inReplyTo).toBe(lastMessageId);
    expect(email.references?.split(/\s+/).at(-1)).toBe(lastMessageId);
    expect(email.subject).toBe(/^re:/i.test(lastSubject) ? lastSubject : `Re: ${lastSubject}`);
    const after = app.sandbox.gmail.getThread('gm-cy', thread.id, 'minimal');
    expect(after.messages.length).toBe(before.messages.length + 1);
    const [row] = await app.q(`SELECT message_count FROM email_threads WHERE provider_thread_id = $1`, [thread.id]);
    expect(row!.message_count).toBe(after.messages.length);

    const unknown = await app.write('POST', '/api/emails/send', 'gm-cy', { to: ['a@example.com'], subject: 'x', text: 'y', threadId: 'ffff0000ffff0000' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.details).toEqual([{ path: 'threadId', message: 'no such thread' }]);
  });

  it('refuses an invalid address (422 naming it), no body at all, and more than 4.5 MB (413)', async () => {
    await app.connect('gm-dee', 'gmail');
    const invalid = await app.write('POST', '/api/emails/send', 'gm-dee', { to: ['ok@example.com', 'not-an-address'], cc: ['x@'], subject: 's', text: 't' });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details.map((d: any) => d.path)).toEqual(['to.1', 'cc.0']);
    const empty = await app.write('POST', '/api/emails/send', 'gm-dee', { to: ['ok@example.com'], subject: 's' });
    expect(empty.status).toBe(422);
    expect(empty.body.error.details).toEqual([{ path: 'text', message: 'give text, html or both' }]);
    const injected = await app.write('POST', '/api/emails/send', 'gm-dee', { to: ['ok@example.com'], subject: 'Hi\r\nBcc: all@example.com', text: 't' });
    expect(injected.status).toBe(422);
    const big = await app.write('POST', '/api/emails/send', 'gm-dee', {
      to: ['ok@example.com'],
      subject: 'big',
      text: 't',
      attachments: [{ filename: 'big.bin', contentType: 'application/octet-stream', content: Buffer.alloc(3_500_000).toString('base64') }],
    });
    expect(big.status).toBe(413);
    const [recorded] = await app.q<{ n: number }>(`SELECT count(*)::int AS n FROM actions WHERE user_id = 'gm-dee'`);
    expect(recorded!.n).toBe(0);
    expect(app.sandbox.gmail.listMessages('gm-dee', { labelIds: ['SENT'], q: 'newer_than:1h' }).resultSizeEstimate).toBe(0);
  });

  it('the same key and request answer the first outcome; the same key with another request is 422', async () => {
    await app.connect('gm-eva', 'gmail');
    const body = { to: ['x@example.com'], subject: 'Once', text: 'only once' };
    const first = await app.write('POST', '/api/emails/send', 'gm-eva', body, 'send-once');
    const again = await app.write('POST', '/api/emails/send', 'gm-eva', { text: 'only once', subject: 'Once', to: ['x@example.com'] }, 'send-once');
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.action).toMatchObject({ id: first.body.action.id, result: first.body.action.result });
    expect(sentCopies('gm-eva', first.body.action.id)).toHaveLength(1);
    const other = await app.write('POST', '/api/emails/send', 'gm-eva', { ...body, text: 'another' }, 'send-once');
    expect(other.status).toBe(422);
    expect(other.body.error.details[0].path).toBe('Idempotency-Key');
    const missing = await fetch(`${app.url}/api/emails/send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await app.token('gm-eva')}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.details[0].path).toBe('Idempotency-Key');
  });

  it('at most GMAIL_SENDS_PER_MINUTE new emails a minute: 429 with Retry-After; replays are not counted', async () => {
    await app.connect('gm-fay', 'gmail');
    process.env.GMAIL_SENDS_PER_MINUTE = '3';
    resetConfigForTests();
    try {
      const body = (i: number) => ({ to: ['x@example.com'], subject: `Burst ${i}`, text: 'hi' });
      for (let i = 0; i < 3; i++) expect((await app.write('POST', '/api/emails/send', 'gm-fay', body(i), `burst-${i}`)).status).toBe(200);
      expect((await app.write('POST', '/api/emails/send', 'gm-fay', body(0), 'burst-0')).status).toBe(200);
      const refused = await app.write('POST', '/api/emails/send', 'gm-fay', body(3), 'burst-3');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refused.body.error.code).toBe('rate_limited');
    } finally {
      delete process.env.GMAIL_SENDS_PER_MINUTE;
      resetConfigForTests();
    }
  });

  it("Gmail's quota refusal is 429 with Retry-After; the same request after it is sent", async () => {
    await app.connect('gm-gus', 'gmail');
    process.env.PROVIDER_MAX_RETRIES = '0';
    resetConfigForTests();
    resetProviderPoliciesForTests();
    try {
      app.sandbox.setFaults('gmail', { rateLimitRate: 1, retryAfterSeconds: 2 });
      const body = { to: ['x@example.com'], subject: 'Quota', text: 'hi' };
      const refused = await app.write('POST', '/api/emails/send', 'gm-gus', body, 'quota-1');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('2');
      expect(refused.body.action).toMatchObject({ status: 'failed', error: { status: 429, retryAfterSeconds: 2 } });
      app.sandbox.setFaults('gmail', {});
      expect((await app.write('POST', '/api/emails/send', 'gm-gus', body, 'quota-1')).status).toBe(429);
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const sent = await app.write('POST', '/api/emails/send', 'gm-gus', body, 'quota-1');
      expect(sent.status).toBe(200);
      expect(sent.body.action.id).toBe(refused.body.action.id);
      expect(sentCopies('gm-gus', sent.body.action.id)).toHaveLength(1);
    } finally {
      delete process.env.PROVIDER_MAX_RETRIES;
      resetConfigForTests();
      resetProviderPoliciesForTests();
    }
  });
});

describe('email.send, exactly once', () => {
  it('writes applied and then answered 5xx, or never answered: one email each, no draft left behind', async () => {
    await app.connect('gm-hal', 'gmail');
    app.sandbox.setFaults('gmail', { errorAfterApplyRate: 0.35, hangAfterApplyRate: 0.15, hangMs: 5_000 });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => app.write('POST', '/api/emails/send', 'gm-hal', { to: ['x@example.com'], subject: `Faulty ${i}`, text: 'hi' })),
    );
    const stats = app.sandbox.faultStats('gmail');
    expect(stats.appliedThenFailed + stats.appliedThenHung).toBeGreaterThan(0);
    app.sandbox.setFaults('gmail', {});
    await app.drain();
    const actions = await app.q(`SELECT id, status FROM actions WHERE user_id = 'gm-hal' ORDER BY id`);
    expect(actions.map((a) => a.status)).toEqual(Array(8).fill('succeeded'));
    for (const [i, action] of actions.entries()) {
      expect([200, 202]).toContain(answers[i]!.status);
      expect(sentCopies('gm-hal', action.id)).toHaveLength(1);
    }
    expect(app.sandbox.gmail.draftIds('gm-hal').size).toBe(0);
    const [rows] = await app.q(`SELECT count(*)::int AS n, count(DISTINCT provider_message_id)::int AS d FROM email_messages WHERE user_id = 'gm-hal' AND subject LIKE 'Faulty %'`);
    expect(rows).toEqual({ n: 8, d: 8 });
  });
});
