import { randomBytes } from 'node:crypto';

/**
 * Builds the RFC 5322 message Gmail's drafts.create takes as `raw`. No library for composing mail is
 * installed (postal-mime only parses), so this is a small, careful builder of what switchyard sends:
 * - headers: non-ASCII text as RFC 2047 encoded-words (UTF-8, base64, at most 75 characters each,
 *   never splitting a character); display names quoted when they hold specials; long headers folded
 *   (addresses one per line); CR and LF refused (header injection);
 * - bodies: text/plain, or multipart/alternative (text, then HTML) when there is HTML, in UTF-8
 *   quoted-printable (RFC 2045 6.7: lines of at most 76 characters, soft breaks never splitting an
 *   escape); attachments in multipart/mixed, base64 in lines of 76, names also as RFC 2231 parameters;
 * - boundaries that cannot occur inside an encoded body ("=_" never appears in quoted-printable or
 *   base64 output).
 * CRLF line endings throughout.
 */

export interface MailAddress {
  name?: string;
  address: string;
}

export interface MailAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface MailMessage {
  from?: MailAddress;
  to: MailAddress[];
  cc?: MailAddress[];
  bcc?: MailAddress[];
  subject: string;
  text: string;
  html?: string;
  attachments?: MailAttachment[];
  /** Without angle brackets. */
  messageId: string;
  inReplyTo?: string;
  /** Message-IDs, without angle brackets, oldest first. */
  references?: string[];
  date: Date;
  /** More headers (name, printable ASCII value), e.g. X-Switchyard-Action. */
  extraHeaders?: Array<[string, string]>;
}

const CRLF = '\r\n';
const MAX_LINE = 76;

export class MimeInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'MimeInputError';
  }
}

export function buildMessage(message: MailMessage, boundarySeed: () => string = () => randomBytes(12).toString('hex')): Buffer {
  const headers: string[] = [];
  if (message.from) headers.push(addressHeader('From', [message.from], 'from'));
  headers.push(addressHeader('To', message.to, 'to'));
  if (message.cc?.length) headers.push(addressHeader('Cc', message.cc, 'cc'));
  // Gmail reads Bcc to deliver, and removes it from the copies it delivers.
  if (message.bcc?.length) headers.push(addressHeader('Bcc', message.bcc, 'bcc'));
  headers.push(unstructuredHeader('Subject', message.subject, 'subject'));
  headers.push(`Date: ${rfc5322Date(message.date)}`);
  headers.push(`Message-ID: ${msgId(message.messageId, 'messageId')}`);
  if (message.inReplyTo) headers.push(`In-Reply-To: ${msgId(message.inReplyTo, 'inReplyTo')}`);
  if (message.references?.length) {
    headers.push(foldList('References', message.references.map((id, i) => msgId(id, `references.${i}`)), ' '));
  }
  for (const [name, value] of message.extraHeaders ?? []) {
    if (!/^[!-9;-~]+$/.test(name) || !isPrintableAscii(value)) throw new MimeInputError(name, 'expected a header name and a printable ASCII value');
    headers.push(`${name}: ${value}`);
  }
  headers.push('MIME-Version: 1.0');

  const boundary = (kind: string) => `=_${kind}_${boundarySeed()}`;
  let body: Part = message.html
    ? multipart('alternative', boundary('alt'), [textPart('plain', message.text), textPart('html', message.html)])
    : textPart('plain', message.text);
  if (message.attachments?.length) {
    body = multipart('mixed', boundary('mix'), [body, ...message.attachments.map((a, i) => attachmentPart(a, i))]);
  }
  return Buffer.from([...headers, ...body.headers].join(CRLF) + CRLF + CRLF + body.body, 'utf8');
}

interface Part {
  headers: string[];
  /** The encoded body: ASCII, CRLF line endings. */
  body: string;
}

function textPart(subtype: 'plain' | 'html', content: string): Part {
  return {
    headers: [`Content-Type: text/${subtype}; charset="UTF-8"`, 'Content-Transfer-Encoding: quoted-printable'],
    body: quotedPrintable(Buffer.from(content, 'utf8')),
  };
}

function attachmentPart(attachment: MailAttachment, index: number): Part {
  const type = attachment.contentType.toLowerCase();
  if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(type)) {
    throw new MimeInputError(`attachments.${index}.contentType`, 'expected a MIME type such as application/pdf');
  }
  const name = filenameParameters(attachment.filename, `attachments.${index}.filename`);
  return {
    headers: [
      `Content-Type: ${type};${CRLF} name=${name.quoted}`,
      `Content-Disposition: attachment;${CRLF} filename=${name.quoted}${name.extended ? `;${CRLF} filename*=${name.extended}` : ''}`,
      'Content-Transfer-Encoding: base64',
    ],
    body: wrapBase64(attachment.content.toString('base64')),
  };
}

function multipart(subtype: 'alternative' | 'mixed', boundary: string, parts: Part[]): Part {
  const rendered = parts.map((part) => `--${boundary}${CRLF}${part.headers.join(CRLF)}${CRLF}${CRLF}${part.body}${CRLF}`).join('');
  return {
    headers: [`Content-Type: multipart/${subtype};${CRLF} boundary="${boundary}"`],
    body: `${rendered}--${boundary}--${CRLF}`,
  };
}

// ---------------------------------------------------------------------------------------------------
// Headers

function refuseLineBreaks(value: string, field: string): void {
  if (/[\r\n\u0000]/.test(value)) throw new MimeInputError(field, 'must not contain line breaks or NUL characters');
}

const isPrintableAscii = (value: string) => /^[\x20-\x7e]*$/.test(value);
/** RFC 5322 atext and spaces: a display name that needs no quotes. */
const isPlainPhrase = (value: string) => /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~ ]+$/.test(value) && value.trim() === value;

/** `Name <address>`, the name plain, quoted or encoded as it needs. */
export function formatAddress(address: MailAddress, field: string): string {
  refuseLineBreaks(address.address, field);
  if (!/^[^\s<>()",;:\\[\]@]+@[^\s<>()",;:\\[\]@]+$/.test(address.address)) {
    throw new MimeInputError(field, 'not an email address');
  }
  const name = address.name?.trim();
  if (!name) return address.address;
  refuseLineBreaks(name, field);
  if (isPlainPhrase(name)) return `${name} <${address.address}>`;
  if (isPrintableAscii(name)) return `"${name.replace(/(["\\])/g, '\\$1')}" <${address.address}>`;
  return `${encodedWords(name).join(' ')} <${address.address}>`;
}

function addressHeader(name: string, addresses: MailAddress[], field: string): string {
  return foldList(
    name,
    addresses.map((address, i) => formatAddress(address, `${field}.${i}`)),
    ',',
  );
}

/** `Name: a, b, c` with one item per line once the line would pass 76 characters. */
function foldList(name: string, items: string[], separator: ',' | ' '): string {
  let line = `${name}:`;
  const lines: string[] = [];
  items.forEach((item, i) => {
    const piece = i < items.length - 1 && separator === ',' ? `${item},` : item;
    if (line.length + 1 + piece.length > MAX_LINE && line !== `${name}:`) {
      lines.push(line);
      line = ` ${piece}`;
    } else {
      line += ` ${piece}`;
    }
  });
  lines.push(line);
  return lines.join(CRLF);
}

/** Unstructured text (Subject): as is when printable ASCII (folded at spaces), else encoded-words. */
function unstructuredHeader(name: string, value: string, field: string): string {
  refuseLineBreaks(value, field);
  const words = isPrintableAscii(value) ? value.split(/(?<= )/) : encodedWords(value);
  const separator = isPrintableAscii(value) ? '' : ' ';
  let line = `${name}: `;
  const lines: string[] = [];
  for (const word of words) {
    const candidate = line.endsWith(': ') ? line + word : line + separator + word;
    if (candidate.length > MAX_LINE && line.trim().length > name.length + 1) {
      lines.push(line.trimEnd());
      // Folding inserts CRLF before existing whitespace; encoded words are separated by it.
      line = separator ? ` ${word}` : ` ${word.trimStart()}`;
    } else {
      line = candidate;
    }
  }
  lines.push(line);
  return lines.join(CRLF);
}

/**
 * RFC 2047 B encoded-words for UTF-8 text: each at most 75 characters (here `=?UTF-8?B?` + 52 base64
 * characters + `?=` = 64, so that `Subject: ` and one word fit a 76-character line), whole characters
 * only (a word never ends inside a multi-byte sequence).
 */
export function encodedWords(text: string): string[] {
  const MAX_BYTES = 39; // 52 base64 characters
  const words: string[] = [];
  let chunk: number[] = [];
  for (const character of text) {
    const bytes = [...Buffer.from(character, 'utf8')];
    if (chunk.length + bytes.length > MAX_BYTES) {
      words.push(encodeWord(chunk));
      chunk = [];
    }
    chunk.push(...bytes);
  }
  if (chunk.length > 0 || words.length === 0) words.push(encodeWord(chunk));
  return words;
}

const encodeWord = (bytes: number[]) => `=?UTF-8?B?${Buffer.from(bytes).toString('base64')}?=`;

/** An attachment's name: quoted (encoded-words for old readers when not ASCII) and as RFC 2231 `*=` when needed. */
function filenameParameters(filename: string, field: string): { quoted: string; extended?: string } {
  refuseLineBreaks(filename, field);
  if (filename.trim() === '' || filename.length > 255) throw new MimeInputError(field, 'expected a file name of 1 to 255 characters');
  if (isPrintableAscii(filename)) return { quoted: `"${filename.replace(/(["\\])/g, '\\$1')}"` };
  const extended = `UTF-8''${[...Buffer.from(filename, 'utf8')]
    .map((byte) => (/[A-Za-z0-9!#$&+\-.^_`|~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${hex(byte)}`))
    .join('')}`;
  return { quoted: `"${encodedWords(filename).join(' ')}"`, extended };
}

function msgId(id: string, field: string): string {
  const bare = id.replace(/^<|>$/g, '');
  if (!/^[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x5a\x5e-\x7e]+$/.test(bare)) {
    throw new MimeInputError(field, 'expected a Message-ID such as <abc@example.com>');
  }
  return `<${bare}>`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `Tue, 10 Mar 2026 09:00:00 +0000` (RFC 5322 3.3), in UTC. */
export function rfc5322Date(date: Date): string {
  return `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

// ---------------------------------------------------------------------------------------------------
// Bodies

const hex = (byte: number) => byte.toString(16).toUpperCase().padStart(2, '0');

/**
 * Quoted-printable (RFC 2045 6.7) of UTF-8 bytes. Line breaks (CRLF, CR or LF) become CRLF hard breaks;
 * `=`, controls and 8-bit bytes are escaped, and so is a space or tab at the end of a line; lines are
 * cut with soft breaks (`=`) at 76 characters, never inside an escape.
 */
export function quotedPrintable(bytes: Buffer): string {
  const lines = bytes.toString('latin1').split(/\r\n|\r|\n/);
  return lines
    .map((line) => {
      const tokens: string[] = [];
      for (let i = 0; i < line.length; i++) {
        const code = line.charCodeAt(i);
        const last = i === line.length - 1;
        const literal = (code >= 33 && code <= 126 && code !== 61) || ((code === 32 || code === 9) && !last);
        tokens.push(literal ? line[i]! : `=${hex(code)}`);
      }
      const out: string[] = [];
      let current = '';
      for (const token of tokens) {
        if (current.length + token.length > MAX_LINE - 1) {
          out.push(`${current}=`);
          current = '';
        }
        current += token;
      }
      out.push(current);
      return out.join(CRLF);
    })
    .join(CRLF);
}

function wrapBase64(encoded: string): string {
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += MAX_LINE) lines.push(encoded.slice(i, i + MAX_LINE));
  return lines.join(CRLF);
}
