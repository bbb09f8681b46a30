import fc from 'fast-check';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { buildMessage, encodedWords, quotedPrintable, type MailMessage } from '../lib/actions/gmail/mime';
import { parseAddress } from '../lib/actions/gmail/send';

/**
 * The MIME builder of email.send, checked by parsing what it builds with postal-mime (a real parser,
 * independent of the builder) and by the RFCs' line rules.
 */
const base: MailMessage = {
  to: [{ address: 'ada@example.com' }],
  subject: 'Hello',
  text: 'Hi Ada',
  messageId: 'action-1.1@switchyard',
  date: new Date('2026-03-10T09:00:00Z'),
};

const lines = (raw: Buffer) => raw.toString('latin1').split('\r\n');

describe('MIME builder', () => {
  it('a plain message: headers, CRLF, quoted-printable UTF-8 body', async () => {
    const raw = buildMessage({ ...base, cc: [{ name: 'Bob', address: 'bob@example.com' }], bcc: [{ address: 'eve@example.com' }] });
    const text = raw.toString('latin1');
    expect(text).not.toMatch(/[^\r]\n/);
    expect(text).toContain('Date: Tue, 10 Mar 2026 09:00:00 +0000\r\n');
    expect(text).toContain('Message-ID: <action-1.1@switchyard>\r\n');
    expect(text).toContain('MIME-Version: 1.0\r\n');
    const parsed = await PostalMime.parse(raw);
    expect(parsed.to).toEqual([{ address: 'ada@example.com', name: '' }]);
    expect(parsed.cc).toEqual([{ address: 'bob@example.com', name: 'Bob' }]);
    expect(parsed.bcc).toEqual([{ address: 'eve@example.com', name: '' }]);
    expect(parsed.subject).toBe('Hello');
    expect(parsed.text?.trim()).toBe('Hi Ada');
    expect(parsed.html).toBeUndefined();
  });

  it('non-ASCII subjects and names are RFC 2047 encoded-words of at most 75 characters; specials are quoted', async () => {
    const subject = 'Réunion de l’équipe — 東京 🚀 '.repeat(6).trim();
    const raw = buildMessage({
      ...base,
      subject,
      to: [
        { name: 'Zoë Ångström', address: 'zoe@example.com' },
        { name: 'Doe, John "JD"', address: 'jd@example.com' },
      ],
    });
    for (const line of lines(raw.subarray(0, raw.indexOf('\r\n\r\n')))) expect(line.length).toBeLessThanOrEqual(78);
    for (const word of raw.toString('latin1').match(/=\?UTF-8\?B\?[^?]*\?=/g) ?? []) expect(word.length).toBeLessThanOrEqual(75);
    const parsed = await PostalMime.parse(raw);
    expect(parsed.subject).toBe(subject);
    expect(parsed.to).toEqual([
      { name: 'Zoë Ångström', address: 'zoe@example.com' },
      { name: 'Doe, John "JD"', address: 'jd@example.com' },
    ]);
  });

  it('HTML with its text alternative, attachments base64 (binary intact), names with non-ASCII', async () => {
    const pdf = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256));
    const raw = buildMessage({
      ...base,
      text: 'Plain version',
      html: '<p>Rich <b>version</b></p>',
      attachments: [
        { filename: 'report.pdf', contentType: 'application/pdf', content: pdf },
        { filename: 'übersicht 2026.csv', contentType: 'text/csv', content: Buffer.from('a,b\n1,2\n') },
      ],
    });
    for (const line of lines(raw)) expect(line.length).toBeLessThanOrEqual(998);
    const parsed = await PostalMime.parse(raw);
    expect(parsed.text?.trim()).toBe('Plain version');
    expect(parsed.html?.trim()).toBe('<p>Rich <b>version</b></p>');
    expect(parsed.attachments.map((a) => [a.filename, a.mimeType])).toEqual([
      ['report.pdf', 'application/pdf'],
      ['übersicht 2026.csv', 'text/csv'],
    ]);
    expect(Buffer.from(parsed.attachments[0]!.content as ArrayBuffer)).toEqual(pdf);
    expect(raw.toString('latin1')).toContain("filename*=UTF-8''%C3%BCbersicht%202026.csv");
  });

  it('a reply carries In-Reply-To and References', async () => {
    const raw = buildMessage({ ...base, subject: 'Re: Plans', inReplyTo: 'b@x.example', references: ['a@x.example', 'b@x.example'] });
    const parsed = await PostalMime.parse(raw);
    expect(parsed.inReplyTo).toBe('<b@x.example>');
    expect(parsed.references).toBe('<a@x.example> <b@x.example>');
  });

  it('refuses header injection and addresses that are not', () => {
    expect(() => buildMessage({ ...base, subject: 'Hi\r\nBcc: all@example.com' })).toThrow(/line breaks/);
    expect(() => buildMessage({ ...base, to: [{ address: 'not an address' }] })).toThrow(/not an email address/);
    expect(() => buildMessage({ ...base, to: [{ name: 'A\nB', address: 'a@example.com' }] })).toThrow(/line breaks/);
  });

  it('quoted-printable: lines of at most 76, escapes never split, trailing spaces escaped, decodes back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const encoded = quotedPrintable(Buffer.from(text, 'utf8'));
        for (const line of encoded.split('\r\n')) {
          expect(line.length).toBeLessThanOrEqual(76);
          expect(line).not.toMatch(/[ \t]$/);
          expect(line).toMatch(/^([\x21-\x3c\x3e-\x7e \t]|=[0-9A-F]{2})*=?$/);
        }
        const decoded = Buffer.from(
          encoded.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8');
        expect(decoded).toBe(text.replace(/\r\n|\r|\n/g, '\r\n'));
      }),
      { numRuns: 300 },
    );
  });

  it('encoded-words never split a character and decode back', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 120 }), async (subject) => {
        const words = encodedWords(subject);
        const decoded = words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join('');
        expect(decoded).toBe(subject);
        for (const w of words) expect(w.length).toBeLessThanOrEqual(75);
        const header = subject.replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim();
        fc.pre(header.length > 0);
        const parsed = await PostalMime.parse(buildMessage({ ...base, subject: header }));
        expect(parsed.subject).toBe(header);
      }),
      { numRuns: 200 },
    );
  });

  it('parses the addresses a body gives', () => {
    expect(parseAddress('ada@example.com')).toEqual({ address: 'ada@example.com' });
    expect(parseAddress('Ada Lovelace <ada@example.com>')).toEqual({ name: 'Ada Lovelace', address: 'ada@example.com' });
    expect(parseAddress('"Doe, John" <jd@example.com>')).toEqual({ name: 'Doe, John', address: 'jd@example.com' });
    for (const bad of ['ada', 'ada@', '@example.com', 'a b@example.com', 'ada@example', '<ada@example.com', 'a@b.c\r\nBcc: x@y.z']) {
      expect(parseAddress(bad)).toBeNull();
    }
  });
});
