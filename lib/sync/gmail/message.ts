/**
 * Normalise one Gmail API message (users.messages.get, format=full) into the flat shape the sync stores
 * and the classifier reads.
 *
 * Pure and total: no I/O, no clock, no environment reads, and it never throws. Malformed input (missing payload,
 * missing headers, bad base64, unknown charsets, odd dates) degrades to empty or null fields.
 *
 * Notes on Gmail's wire format:
 * - `body.data` is base64url of the part's bytes AFTER Content-Transfer-Encoding was undone by Gmail, so a
 *   part labelled quoted-printable must not be QP-decoded again. Only the charset decoding is left to us.
 * - `payload.mimeType` and `part.mimeType` carry no parameters; the charset comes from the part's own
 *   Content-Type header.
 * - Header values are returned unfolded but still RFC 2047 encoded.
 */
import type { gmail_v1 } from '@googleapis/gmail';
import { compile } from 'html-to-text';
import { addressParser, decodeWords } from 'postal-mime';
import { findSignature } from './signature';

export interface Address {
  name: string | null;
  address: string;
}

export interface NormalizedAttachment {
  filename: string;
  mimeType: string;
  size: number;
  attachmentId: string | null;
  partId: string;
}

/** The raw header values the classifier (and rules) need; null when absent. */
export interface NormalizedHeaders {
  listUnsubscribe: string | null;
  listUnsubscribePost: string | null;
  listId: string | null;
  precedence: string | null;
  autoSubmitted: string | null;
  /** Feedback-ID, set by bulk senders for Gmail's postmaster tools. */
  feedbackId: string | null;
  /** Outlook's X-Auto-Response-Suppress (set on automated mail). */
  autoResponseSuppress: string | null;
}

export interface NormalizedMessage {
  providerMessageId: string;
  threadId: string;
  historyId: string | null;
  labelIds: string[];
  internalDate: Date;
  /** The Date header, parsed robustly; null when missing or unparseable. */
  sentAt: Date | null;
  from: Address | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  subject: string;
  snippet: string;
  /** Message-ID as `<id@host>` (angle brackets kept so it compares equal to In-Reply-To / References). */
  messageIdHeader: string | null;
  inReplyTo: string | null;
  references: string[];
  headers: NormalizedHeaders;
  /** Full text: text/plain preferred, else the HTML converted to text. Newlines normalised, trimmed. */
  bodyText: string;
  /** bodyText without quoted replies and signature. */
  cleanBody: string;
  quotedText: string | null;
  signature: string | null;
  /** A text/calendar (or application/ics) part or an .ics attachment. */
  hasCalendarInvite: boolean;
  /** Recorded, never downloaded. */
  attachments: NormalizedAttachment[];
  sizeEstimate: number;
}

type Part = gmail_v1.Schema$MessagePart;
type Header = gmail_v1.Schema$MessagePartHeader;

const MAX_DEPTH = 32;
const MAX_PARTS = 1000;

// ---------------------------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------------------------

export function normalizeMessage(message: gmail_v1.Schema$Message): NormalizedMessage {
  const msg: gmail_v1.Schema$Message = isObject(message) ? message : {};
  const payload: Part | undefined = isObject(msg.payload) ? msg.payload : undefined;
  const headers = headerList(payload?.headers);
  const get = (name: string): string | null => headerValue(headers, name);

  const sentAt = safe(() => parseDateHeader(get('date')), null);
  const internalDate = parseInternalDate(msg.internalDate) ?? sentAt ?? new Date(0);

  const walked = safe(() => walkPayload(payload), { text: null, attachments: [], hasCalendarInvite: false });
  const bodyText = normalizeText(walked.text ?? '');
  const fromList = safe(() => parseAddresses(get('from')), []);
  const split = safe(() => splitQuoteAndSignature(bodyText, fromList[0]?.name), {
    cleanBody: bodyText,
    quotedText: null,
    signature: null,
  });

  return {
    providerMessageId: str(msg.id),
    threadId: str(msg.threadId) || str(msg.id),
    historyId: nonEmpty(msg.historyId),
    labelIds: Array.isArray(msg.labelIds) ? msg.labelIds.filter((l): l is string => typeof l === 'string') : [],
    internalDate,
    sentAt,
    from: fromList[0] ?? null,
    to: safe(() => parseAddresses(get('to')), []),
    cc: safe(() => parseAddresses(get('cc')), []),
    replyTo: safe(() => parseAddresses(get('reply-to')), []),
    subject: safe(() => decodeHeader(get('subject') ?? ''), get('subject') ?? ''),
    snippet: safe(() => decodeEntities(str(msg.snippet)), str(msg.snippet)),
    messageIdHeader: firstMessageId(get('message-id')),
    inReplyTo: firstMessageId(get('in-reply-to')),
    references: messageIds(get('references')),
    headers: {
      listUnsubscribe: get('list-unsubscribe'),
      listUnsubscribePost: get('list-unsubscribe-post'),
      listId: get('list-id'),
      precedence: get('precedence'),
      autoSubmitted: get('auto-submitted'),
      feedbackId: get('feedback-id'),
      autoResponseSuppress: get('x-auto-response-suppress'),
    },
    bodyText,
    cleanBody: split.cleanBody,
    quotedText: split.quotedText,
    signature: split.signature,
    hasCalendarInvite: walked.hasCalendarInvite,
    attachments: walked.attachments,
    sizeEstimate: typeof msg.sizeEstimate === 'number' && Number.isFinite(msg.sizeEstimate) ? msg.sizeEstimate : 0,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------------------

function isObject<T>(v: T | null | undefined): v is T {
  return typeof v === 'object' && v !== null;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function nonEmpty(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

function headerList(v: unknown): Header[] {
  return Array.isArray(v) ? v.filter((h): h is Header => isObject(h) && typeof (h as Header).name === 'string') : [];
}

/** First header with that name (case-insensitive), unfolded and trimmed; null when absent or empty. */
function headerValue(headers: Header[], name: string): string | null {
  const lower = name.toLowerCase();
  for (const h of headers) {
    if ((h.name ?? '').toLowerCase() === lower) {
      const value = str(h.value).replace(/\r?\n[ \t]+/g, ' ').trim();
      return value === '' ? null : value;
    }
  }
  return null;
}

/** RFC 2047 encoded-words (`=?UTF-8?B?...?=`, `=?ISO-8859-1?Q?...?=`) to text; plain text passes through. */
export function decodeHeader(value: string): string {
  if (!value.includes('=?')) return value.trim();
  // postal-mime decodes the words with TextDecoder, so windows-1252 words need the same C1 repair as bodies
  return fixCp1252(safe(() => decodeWords(value), value)).trim();
}

function parseInternalDate(v: unknown): Date | null {
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const ms = Number(v);
  if (!Number.isFinite(ms) || String(v).trim() === '') return null;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d;
}

const MESSAGE_ID_RE = /<[^<>\s]+>/g;

function messageIds(value: string | null): string[] {
  if (!value) return [];
  const bracketed = value.match(MESSAGE_ID_RE);
  if (bracketed) return bracketed;
  // Some clients drop the brackets; accept whitespace-separated id@host tokens.
  return value
    .split(/[\s,]+/)
    .filter((t) => /^[^@\s]+@[^@\s]+$/.test(t))
    .map((t) => `<${t}>`);
}

function firstMessageId(value: string | null): string | null {
  return messageIds(value)[0] ?? null;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/** Gmail's snippet is HTML-escaped (`&#39;`, `&amp;`); decode the handful of entities it uses. */
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ent: string) => {
    if (ent[0] === '#') {
      const code = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ent.toLowerCase()] ?? whole;
  });
}

function normalizeText(s: string): string {
  return s
    .replace(/\r\n?/g, '\n')
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((l) => (l === '-- ' ? l : l.trimEnd())) // keep the RFC 3676 signature delimiter intact
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

// ---------------------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------------------

/**
 * Parse an address-list header: `"Last, First" <A@B.com>`, bare addresses, groups (flattened), encoded-word
 * display names. Addresses are lowercased; entries without a usable address are dropped.
 */
export function parseAddresses(value: string | null | undefined): Address[] {
  if (!value) return [];
  const parsed = safe(() => addressParser(value, { flatten: true }), []);
  const out: Address[] = [];
  for (const entry of parsed) {
    const raw = typeof entry.address === 'string' ? entry.address.trim() : '';
    const address = raw.replace(/^mailto:/i, '').toLowerCase();
    if (!/^[^\s@<>]+@[^\s@<>]+$/.test(address)) continue;
    const name = typeof entry.name === 'string' ? decodeHeader(entry.name).replace(/\s+/g, ' ').trim() : '';
    out.push({ name: name === '' || name.toLowerCase() === address ? null : name, address });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------------------

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

// RFC 5322 obsolete zones plus the abbreviations seen in the wild.
const ZONES: Record<string, number> = {
  UT: 0, UTC: 0, GMT: 0, Z: 0,
  EST: -300, EDT: -240, CST: -360, CDT: -300, MST: -420, MDT: -360, PST: -480, PDT: -420,
  CET: 60, CEST: 120, BST: 60, IST: 330, JST: 540,
};

const RFC2822_RE =
  /^(?:[a-z]{2,}\.?,?\s*)?(\d{1,2})[\s-]+([a-z]{3})[a-z]*\.?[\s-]+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([+-]\d{2}:?\d{2}|[a-z]{1,5})?/i;

/**
 * Parse a Date header. Handles RFC 5322 dates with comments (`(UTC)`), missing weekday or seconds, two-digit
 * years, named zones, `+01:00` offsets, and ISO 8601. Returns null for anything it cannot read with
 * confidence (an impossible calendar date such as 31 Feb is rejected, not rolled over).
 */
export function parseDateHeader(value: string | null | undefined): Date | null {
  if (!value) return null;
  const v = value.replace(/\([^)]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  if (v === '') return null;

  const m = RFC2822_RE.exec(v);
  if (m) {
    const day = Number(m[1]);
    const month = MONTHS[(m[2] ?? '').toLowerCase()];
    let year = Number(m[3]);
    if ((m[3] ?? '').length === 2) year += year < 50 ? 2000 : 1900;
    else if ((m[3] ?? '').length === 3) year += 1900;
    const hour = Number(m[4]);
    const minute = Number(m[5]);
    const second = m[6] ? Number(m[6]) : 0;
    if (month === undefined || hour > 23 || minute > 59 || second > 60) return null;
    let offsetMin = 0;
    const zone = m[7];
    if (zone) {
      const num = /^([+-])(\d{2}):?(\d{2})$/.exec(zone);
      if (num) offsetMin = (num[1] === '-' ? -1 : 1) * (Number(num[2]) * 60 + Number(num[3]));
      else offsetMin = ZONES[zone.toUpperCase()] ?? 0;
    }
    const utc = Date.UTC(year, month, day, hour, minute, Math.min(second, 59)) - offsetMin * 60_000;
    const check = new Date(Date.UTC(year, month, day));
    if (check.getUTCDate() !== day || check.getUTCMonth() !== month) return null;
    return plausible(new Date(utc));
  }

  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const d = new Date(v.replace(' ', 'T'));
    return plausible(d);
  }
  // Last resort for month-first forms ("Mar 5, 2024 10:00 AM"): V8's parser, only with a 4-digit year.
  if (/\b(?:19|20|21)\d{2}\b/.test(v) && /[a-z]{3}/i.test(v)) {
    return plausible(new Date(v));
  }
  return null;
}

function plausible(d: Date): Date | null {
  const t = d.getTime();
  if (Number.isNaN(t)) return null;
  const year = d.getUTCFullYear();
  return year >= 1970 && year <= 2200 ? d : null;
}

// ---------------------------------------------------------------------------------------------------------
// Body bytes and charsets
// ---------------------------------------------------------------------------------------------------------

/** Decode Gmail's base64url (standard base64 tolerated; junk characters skipped, never throws). */
export function decodeBase64Url(data: unknown): Uint8Array {
  if (typeof data !== 'string' || data === '') return new Uint8Array(0);
  const cleaned = data.replace(/[^A-Za-z0-9\-_+/]/g, '');
  return new Uint8Array(Buffer.from(cleaned, 'base64url'));
}

// Labels TextDecoder does not know, mapped to ones it does.
const CHARSET_ALIASES: Record<string, string> = {
  'latin-1': 'windows-1252',
  'latin_1': 'windows-1252',
  'iso-8859-1:1987': 'windows-1252',
  'win-1252': 'windows-1252',
  'cp-1252': 'windows-1252',
  'x-cp1252': 'windows-1252',
  'ansi': 'windows-1252',
  'utf-8-sig': 'utf-8',
  'x-utf-8': 'utf-8',
  'x-sjis': 'shift_jis',
  'cp932': 'shift_jis',
  'ks_c_5601': 'euc-kr',
  'cp936': 'gbk',
};

/** The charset parameter of a Content-Type value (case-insensitive, quotes tolerated). */
export function charsetOf(contentType: string | null): string | null {
  if (!contentType) return null;
  const m = /;\s*charset\s*=\s*(?:"([^"]*)"|'([^']*)'|([^;\s]+))/i.exec(contentType);
  const raw = (m?.[1] ?? m?.[2] ?? m?.[3] ?? '').replace(/^['"\s]+|['"\s]+$/g, '').toLowerCase();
  return raw === '' ? null : raw;
}

const decoderCache = new Map<string, TextDecoder | null>();

function decoderFor(label: string): TextDecoder | null {
  if (decoderCache.has(label)) return decoderCache.get(label) ?? null;
  let decoder: TextDecoder | null = null;
  try {
    decoder = new TextDecoder(label);
  } catch {
    decoder = null;
  }
  decoderCache.set(label, decoder);
  return decoder;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextDecoder('utf-8');
const cp1252 = new TextDecoder('windows-1252');

// windows-1252 bytes 0x80-0x9F. Node 20.18.3+ / 22.13+ decode windows-1252 (and so latin1, iso-8859-1 and
// us-ascii, which WHATWG maps to it) as ISO-8859-1, leaving C1 controls where "€", "’", "“" belong
// (nodejs/node#60888). C1 controls never belong in mail text, so mapping them is safe on any Node.
const CP1252_C1: Record<number, number> = {
  0x80: 0x20ac, 0x82: 0x201a, 0x83: 0x0192, 0x84: 0x201e, 0x85: 0x2026, 0x86: 0x2020, 0x87: 0x2021,
  0x88: 0x02c6, 0x89: 0x2030, 0x8a: 0x0160, 0x8b: 0x2039, 0x8c: 0x0152, 0x8e: 0x017d, 0x91: 0x2018,
  0x92: 0x2019, 0x93: 0x201c, 0x94: 0x201d, 0x95: 0x2022, 0x96: 0x2013, 0x97: 0x2014, 0x98: 0x02dc,
  0x99: 0x2122, 0x9a: 0x0161, 0x9b: 0x203a, 0x9c: 0x0153, 0x9e: 0x017e, 0x9f: 0x0178,
};

function fixCp1252(s: string): string {
  return s.replace(/[\u0080-\u009f]/g, (c) => {
    const mapped = CP1252_C1[c.charCodeAt(0)];
    return mapped === undefined ? c : String.fromCharCode(mapped);
  });
}

/**
 * Bytes to text with the declared charset. Known aliases are mapped; an unknown charset decodes as UTF-8 with
 * replacement characters. With no charset declared, valid UTF-8 is read as UTF-8 and anything else as
 * windows-1252 (what undeclared 8-bit mail almost always is).
 */
export function decodeBytes(bytes: Uint8Array, charset: string | null): string {
  if (bytes.length === 0) return '';
  if (charset) {
    const label = CHARSET_ALIASES[charset] ?? charset;
    const decoder = decoderFor(label);
    if (decoder) {
      try {
        const text = decoder.decode(bytes);
        return decoder.encoding === 'windows-1252' ? fixCp1252(text) : text;
      } catch {
        /* fall through */
      }
    }
    return utf8.decode(bytes);
  }
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    return fixCp1252(cp1252.decode(bytes));
  }
}

// ---------------------------------------------------------------------------------------------------------
// HTML to text
// ---------------------------------------------------------------------------------------------------------

const block = (selector: string, lines = 1) => ({
  selector,
  format: 'block',
  options: { leadingLineBreaks: lines, trailingLineBreaks: lines },
});

const htmlConverter = compile({
  wordwrap: false,
  selectors: [
    // links stay readable: "text [url]", the url hidden when it equals the text
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['[', ']'] } },
    { selector: 'img', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'head', format: 'skip' },
    { selector: 'title', format: 'skip' },
    // layout tables are the norm in mail; render them as blocks, not as text grids
    block('table'),
    block('tbody'),
    block('thead'),
    block('tfoot'),
    block('tr'),
    block('td'),
    block('th'),
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((h) => ({
      selector: h,
      options: { uppercase: false, leadingLineBreaks: 2, trailingLineBreaks: 1 },
    })),
  ],
});

export function htmlToPlainText(html: string): string {
  return safe(() => htmlConverter(html), html.replace(/<[^>]*>/g, ' '));
}

// ---------------------------------------------------------------------------------------------------------
// Walking the payload tree
// ---------------------------------------------------------------------------------------------------------

interface Walked {
  text: string | null;
  attachments: NormalizedAttachment[];
  hasCalendarInvite: boolean;
}

interface Rendered {
  /** Best text of this subtree, or null when it holds no body text. */
  text: string | null;
}

function partHeaders(part: Part): Header[] {
  return headerList(part.headers);
}

function mimeTypeOf(part: Part): string {
  const declared = str(part.mimeType).trim().toLowerCase();
  if (declared) return declared;
  const ct = headerValue(partHeaders(part), 'content-type');
  return ct ? (ct.split(';')[0] ?? '').trim().toLowerCase() : '';
}

function filenameOf(part: Part): string {
  const direct = str(part.filename).trim();
  if (direct) return decodeHeader(direct);
  // Gmail fills `filename`; fall back to the headers for hand-built or odd payloads.
  const headers = partHeaders(part);
  for (const name of ['content-disposition', 'content-type']) {
    const v = headerValue(headers, name);
    const m = v ? /;\s*(?:file)?name\s*=\s*(?:"([^"]*)"|([^;]+))/i.exec(v) : null;
    const f = (m?.[1] ?? m?.[2] ?? '').trim();
    if (f) return decodeHeader(f);
  }
  return '';
}

function isAttachmentPart(part: Part, mimeType: string): boolean {
  if (mimeType.startsWith('multipart/')) return false;
  if (filenameOf(part) !== '') return true;
  const disposition = headerValue(partHeaders(part), 'content-disposition');
  if (disposition && /^\s*attachment\b/i.test(disposition)) return true;
  // A non-text leaf stored by reference (e.g. an inline image with no name)
  return !mimeType.startsWith('text/') && typeof part.body?.attachmentId === 'string';
}

function isCalendar(mimeType: string, filename: string): boolean {
  return (
    mimeType === 'text/calendar' ||
    mimeType === 'application/ics' ||
    mimeType === 'text/x-vcalendar' ||
    /\.(ics|vcs)$/i.test(filename)
  );
}

function walkPayload(payload: Part | undefined): Walked {
  const attachments: NormalizedAttachment[] = [];
  let hasCalendarInvite = false;
  let visited = 0;

  const render = (part: Part, depth: number): Rendered => {
    visited += 1;
    if (depth > MAX_DEPTH || visited > MAX_PARTS) return { text: null };
    const mimeType = mimeTypeOf(part);
    const filename = filenameOf(part);
    if (isCalendar(mimeType, filename)) hasCalendarInvite = true;

    const children = Array.isArray(part.parts) ? part.parts.filter((p): p is Part => isObject(p)) : [];

    if (isAttachmentPart(part, mimeType)) {
      const size = typeof part.body?.size === 'number' && Number.isFinite(part.body.size) ? part.body.size : 0;
      attachments.push({
        filename,
        mimeType: mimeType || 'application/octet-stream',
        size,
        attachmentId: nonEmpty(part.body?.attachmentId),
        partId: str(part.partId),
      });
      return { text: null };
    }

    if (mimeType.startsWith('multipart/') || (children.length > 0 && !part.body?.data)) {
      const rendered = children.map((c) => render(c, depth + 1));
      if (mimeType === 'multipart/alternative') {
        // prefer text/plain; otherwise the last alternative that yields text (the richest, by convention)
        const plainIdx = children.findIndex((c, i) => mimeTypeOf(c) === 'text/plain' && hasText(rendered[i]));
        if (plainIdx >= 0) return rendered[plainIdx] ?? { text: null };
        for (let i = rendered.length - 1; i >= 0; i--) {
          if (hasText(rendered[i])) return rendered[i] ?? { text: null };
        }
        return { text: null };
      }
      // mixed, related, signed, report, digest, an unnamed message/rfc822...: body parts in order
      const texts = rendered.map((r) => r.text).filter((t): t is string => t !== null && t.trim() !== '');
      return { text: texts.length > 0 ? texts.join('\n\n') : null };
    }

    if (mimeType === 'text/plain' || mimeType === 'text/html' || mimeType === '') {
      const bytes = decodeBase64Url(part.body?.data);
      if (bytes.length === 0) return { text: null };
      const text = decodeBytes(bytes, charsetOf(headerValue(partHeaders(part), 'content-type')));
      if (mimeType === 'text/html' || (mimeType === '' && /<(html|body|div|p|br)\b/i.test(text))) {
        return { text: htmlToPlainText(text) };
      }
      return { text };
    }
    // text/calendar, text/enriched, message/delivery-status...: not body text
    return { text: null };
  };

  if (!payload) return { text: null, attachments, hasCalendarInvite };
  const { text } = render(payload, 0);
  return { text, attachments, hasCalendarInvite };
}

function hasText(r: Rendered | undefined): boolean {
  return r !== undefined && r.text !== null && r.text.trim() !== '';
}

// ---------------------------------------------------------------------------------------------------------
// Quoted replies and signatures
// ---------------------------------------------------------------------------------------------------------

export interface SplitBody {
  cleanBody: string;
  quotedText: string | null;
  signature: string | null;
}

// "On <date>, <name> wrote:" and common localized forms. Matched against up to three joined lines, and
// required to contain a digit (every client puts the date in it) so ordinary sentences are not taken.
const ATTRIBUTION_RES: RegExp[] = [
  /^On\s.{4,300}\bwrote\s?:$/i,
  /^Le\s.{4,300}\ba\s+écrit\s?:$/i,
  /^Am\s.{4,300}\bschrieb\b.{0,200}:$/i,
  /^El\s.{4,300}\bescribió\s?:$/i,
  /^Il\s.{4,300}\bha\s+scritto\s?:$/i,
  /^Em\s.{4,300}\bescreveu\s?:$/i,
  /^Op\s.{4,300}\bschreef\b.{0,200}:$/i,
  /^(?:Den|På)\s.{4,300}\bskrev\b.{0,200}:$/i,
];

const ORIGINAL_MESSAGE_RE =
  /^-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|Messaggio originale|Mensagem original|Oorspronkelijk bericht|Originalmeddelande)\s*-{2,}$/i;

const OUTLOOK_FROM_RE = /^\*?(?:From|De|Von|Van|Da|Från|Fra)\s?:\*?\s*\S/i;
const OUTLOOK_SENT_RE = /^\*?(?:Sent|Date|Envoyé|Gesendet|Enviado|Fecha|Datum|Verzonden|Inviato|Data|Skickat|Sendt)\s?:/i;
const OUTLOOK_TO_SUBJ_RE = /^\*?(?:To|Subject|Cc|À|Objet|An|Betreff|Para|Asunto|Aan|Onderwerp|A|Oggetto|Till|Ämne|Til|Emne)\s?:/i;
const RULE_LINE_RE = /^(?:_{8,}|-{8,}|={8,})$/;
const FORWARD_MARKER_RE = /^(?:-{3,}\s*Forwarded message\s*-{3,}|Begin forwarded message:)$/i;

const SIGN_OFF_RES: RegExp[] = [
  /^Sent from my [\w][\w .,'&-]{0,50}$/i,
  /^Sent from (?:Mail for Windows|Outlook|Yahoo Mail|AOL|Gmail|Proton ?Mail)\b.{0,60}$/i,
  /^Sent (?:with|via) (?:Proton ?Mail|Superhuman|Spark|BlackBerry|Airmail)\b.{0,60}$/i,
  /^Get Outlook for (?:iOS|Android|Mac|Windows)\b.{0,10}$/i,
  /^Envoy[ée] de mon .{1,40}$/i,
  /^Von meinem .{1,40} gesendet\.?$/i,
  /^Enviado desde mi .{1,40}$/i,
  /^Enviado do meu .{1,40}$/i,
  /^Inviato da(?:l mio)? .{1,40}$/i,
  /^Verzonden (?:vanaf|met) mijn .{1,40}$/i,
];

const TRAILING_LINK_RE = /\s*(?:\[[^\]\s]+\]|<[^>\s]+>)$/;

const GENERIC_ATTRIBUTION_RE = /\b(?:wrote|writes|a écrit|schrieb|escribió|ha scritto|escreveu|schreef|skrev)\s?:$/i;

/** How many lines (1-3) the quote attribution starting at line i spans; 0 when there is none. */
function attributionSpan(lines: string[], i: number): number {
  const first = (lines[i] ?? '').trim();
  if (first === '') return 0;
  let joined = '';
  for (let k = 0; k < 3 && i + k < lines.length; k++) {
    const line = (lines[i + k] ?? '').trim();
    if (line === '') break;
    joined = k === 0 ? line : `${joined} ${line}`;
    if (joined.length > 400) break;
    if (!/\d/.test(joined)) continue;
    if (ATTRIBUTION_RES.some((re) => re.test(joined))) return k + 1;
  }
  // "<name> <addr> wrote:" / "X writes:" directly followed by ">" lines
  if (GENERIC_ATTRIBUTION_RE.test(first) && first.length <= 200 && !first.startsWith('>')) {
    const next = nextNonEmpty(lines, i + 1);
    if (next !== null && (lines[next] ?? '').trimStart().startsWith('>')) return 1;
  }
  return 0;
}

function nextNonEmpty(lines: string[], from: number): number | null {
  for (let j = from; j < lines.length; j++) if ((lines[j] ?? '').trim() !== '') return j;
  return null;
}

function prevNonEmpty(lines: string[], from: number): number | null {
  for (let j = from; j >= 0; j--) if ((lines[j] ?? '').trim() !== '') return j;
  return null;
}

function isOutlookHeaderBlock(lines: string[], i: number): boolean {
  const line = (lines[i] ?? '').trim();
  if (!OUTLOOK_FROM_RE.test(line)) return false;
  // single-line rendering: "From: X Sent: Y To: Z Subject: W"
  if (/\b(?:Sent|Date|Envoyé|Gesendet|Enviado)\s?:/i.test(line) && /\b(?:To|Subject|Objet|Betreff|Asunto|An|À)\s?:/i.test(line)) {
    return true;
  }
  let sent = false;
  let other = false;
  for (let j = i + 1; j < Math.min(lines.length, i + 7); j++) {
    const l = (lines[j] ?? '').trim();
    if (l === '') continue;
    if (OUTLOOK_SENT_RE.test(l)) sent = true;
    else if (OUTLOOK_TO_SUBJ_RE.test(l)) other = true;
  }
  if (!(sent && other)) return false;
  // A Gmail/Apple forward header is the forwarded content, not a quoted reply.
  const prev = prevNonEmpty(lines, i - 1);
  return !(prev !== null && FORWARD_MARKER_RE.test((lines[prev] ?? '').trim()));
}

/**
 * Split a text body into new content, quoted history and signature.
 * Quotes: the first attribution line ("On ... wrote:" and localized forms, up to three lines), an
 * "-----Original Message-----" separator or an Outlook "From:/Sent:/To:" header block (with the rule line
 * above it) starts the quoted history, which runs to the end; `>` lines above that point are quoted too.
 * Signatures: the last RFC 3676 "-- " delimiter (at most 30 lines from the end of the new content); else a
 * mobile/client sign-off ("Sent from my iPhone", "Get Outlook for iOS") among the last three lines, and above
 * it a signature without the delimiter (a sign-off line, then name, title, company, phone; or a closing block
 * that starts with the sender's name, given as `senderName`; see `signature.ts`).
 */
export function splitQuoteAndSignature(text: string, senderName?: string | null): SplitBody {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const isQuoteLine = (l: string) => /^\s*>/.test(l);

  // Everything from `cut` on is quoted history; `alsoQuoted` marks attribution lines of inline quotes.
  let cut = lines.length;
  const alsoQuoted = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (ORIGINAL_MESSAGE_RE.test(line)) {
      cut = i;
      break;
    }
    if (isOutlookHeaderBlock(lines, i)) {
      const prev = prevNonEmpty(lines, i - 1);
      cut = prev !== null && RULE_LINE_RE.test((lines[prev] ?? '').trim()) ? prev : i;
      break;
    }
    const span = attributionSpan(lines, i);
    if (span > 0) {
      const unquotedAfter = lines.slice(i + span).some((l) => l.trim() !== '' && !isQuoteLine(l));
      if (!unquotedAfter) {
        cut = i; // top-posted reply: the rest is the quoted message
        break;
      }
      // bottom-posted or interleaved reply: only the attribution and the ">" lines are quoted
      for (let k = 0; k < span; k++) alsoQuoted.add(i + k);
      i += span - 1;
    }
  }

  const quoted: string[] = [];
  const body: string[] = [];
  for (let i = 0; i < cut; i++) {
    const l = lines[i] ?? '';
    (alsoQuoted.has(i) || isQuoteLine(l) ? quoted : body).push(l);
  }
  quoted.push(...lines.slice(cut));

  // A forwarded message is content, and so is its sender's signature: the forwarder's own, if any, is above it.
  const forwardAt = body.findIndex((l) => FORWARD_MARKER_RE.test(l.trim()));
  const forwarded = forwardAt >= 0 ? body.splice(forwardAt) : [];

  let signature: string | null = null;
  let end = body.length;
  // RFC 3676 delimiter
  for (let i = body.length - 1; i >= 0 && i >= body.length - 31; i--) {
    const l = body[i] ?? '';
    if (l === '-- ' || l.trimEnd() === '--') {
      const sig = body.slice(i + 1).join('\n').trim();
      if (sig !== '' && (l === '-- ' || body.length - i <= 12)) {
        signature = sig;
        end = i;
      }
      break;
    }
  }
  if (signature === null) {
    // client sign-offs among the last three non-empty lines
    let seen = 0;
    for (let i = body.length - 1; i >= 0 && seen < 3; i--) {
      const l = (body[i] ?? '').trim();
      if (l === '') continue;
      seen += 1;
      const bare = l.replace(TRAILING_LINK_RE, '').trim();
      if (SIGN_OFF_RES.some((re) => re.test(bare))) {
        signature = body.slice(i).join('\n').trim();
        end = i;
      }
    }
    // a sign-off line and a signature block without the delimiter, above a client sign-off, if any, or
    // else above a machine footer (a meeting's join block, a ticket reference), which stays in the body
    const found = findSignature(body.slice(0, end), senderName, { aboveFooter: signature === null });
    if (found) {
      const block = body.slice(found.start, found.end).join('\n').trim();
      signature = signature === null ? block : `${block}\n\n${signature}`;
      body.splice(found.start, found.end - found.start);
      end -= found.end - found.start;
    }
  }

  const kept = forwarded.length > 0 ? [...body.slice(0, end), '', ...forwarded] : body.slice(0, end);
  const cleanBody = kept.join('\n').replace(/\n{3,}/g, '\n\n').trim();
  const quotedText = quoted.join('\n').trim();
  return { cleanBody, quotedText: quotedText === '' ? null : quotedText, signature };
}
