// Just enough RFC 5322 / MIME to write the sandbox's mail and to read it back (or what a
// client sends) into Gmail's payload tree. Bytes are kept exact: a part's content is the
// transfer-decoded bytes in the part's own charset.

const CRLF = '\r\n';

// ---------------------------------------------------------------------------
// Charsets

const WIN1252_EXTRA: Record<number, number> = {
  0x20ac: 0x80, 0x201a: 0x82, 0x0192: 0x83, 0x201e: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87,
  0x02c6: 0x88, 0x2030: 0x89, 0x0160: 0x8a, 0x2039: 0x8b, 0x0152: 0x8c, 0x017d: 0x8e, 0x2018: 0x91,
  0x2019: 0x92, 0x201c: 0x93, 0x201d: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97, 0x02dc: 0x98,
  0x2122: 0x99, 0x0161: 0x9a, 0x203a: 0x9b, 0x0153: 0x9c, 0x017e: 0x9e, 0x0178: 0x9f,
};

/** Encodes text in utf-8, iso-8859-1 or windows-1252 ('?' for what the charset lacks). */
export function encodeCharset(text: string, charset: string): Buffer {
  const cs = charset.toLowerCase();
  if (cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii') return Buffer.from(text, 'utf8');
  const out = Buffer.alloc(text.length);
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (cs === 'windows-1252' && WIN1252_EXTRA[cp] !== undefined) out[n++] = WIN1252_EXTRA[cp] as number;
    else if (cp <= 0xff && !(cs === 'windows-1252' && cp >= 0x80 && cp <= 0x9f)) out[n++] = cp;
    else out[n++] = 0x3f;
  }
  return out.subarray(0, n);
}

const WIN1252_DECODE = new Map<number, number>(Object.entries(WIN1252_EXTRA).map(([cp, byte]) => [byte, Number(cp)]));
// WHATWG labels that all mean windows-1252.
const WIN1252_LABELS = new Set(['windows-1252', 'cp1252', 'x-cp1252', 'iso-8859-1', 'iso8859-1', 'iso_8859-1', 'latin1', 'l1', 'ascii', 'us-ascii', 'ansi_x3.4-1968', 'cp819', 'ibm819', 'iso-ir-100']);

/**
 * Decodes bytes in a charset. windows-1252 (and the labels WHATWG maps to it) is decoded
 * by hand: Node 20's TextDecoder treats it as plain ISO-8859-1, which breaks 0x80-0x9F.
 */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const cs = (charset ?? 'utf-8').trim().toLowerCase().replace(/^"|"$/g, '');
  if (WIN1252_LABELS.has(cs)) {
    let out = '';
    for (const b of bytes) out += String.fromCharCode(b >= 0x80 && b <= 0x9f ? (WIN1252_DECODE.get(b) ?? b) : b);
    return out;
  }
  try {
    return new TextDecoder(cs).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

// ---------------------------------------------------------------------------
// Transfer encodings

export function base64Lines(buf: Buffer): string {
  const b64 = buf.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join(CRLF);
}

const QP_TOKENS: string[] = Array.from({ length: 256 }, (_, b) =>
  (b >= 33 && b <= 126 && b !== 61) || b === 0x20 || b === 0x09 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`,
);

function qpLine(buf: Buffer, start: number, end: number, out: string[]): void {
  let line = '';
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    // whitespace at the end of a line must be encoded
    const token = (b === 0x20 || b === 0x09) && i === end - 1 ? (b === 0x20 ? '=20' : '=09') : (QP_TOKENS[b] as string);
    if (line.length + token.length > 75) {
      out.push(`${line}=`);
      line = '';
    }
    line += token;
  }
  out.push(line);
}

export function encodeQuotedPrintable(buf: Buffer): string {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0d && buf[i + 1] === 0x0a) {
      qpLine(buf, start, i, out);
      start = i + 2;
      i++;
    }
  }
  qpLine(buf, start, buf.length, out);
  return out.join(CRLF);
}

export function decodeQuotedPrintable(text: string): Buffer {
  const latin1 = text.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(latin1, 'latin1');
}

// ---------------------------------------------------------------------------
// Headers

// eslint-disable-next-line no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/** RFC 2047 encoded word(s) when the text is not plain ASCII. */
export function encodeHeaderText(text: string, charset = 'UTF-8', encoding: 'B' | 'Q' = 'B'): string {
  if (!NON_ASCII.test(text)) return text;
  const bytes = encodeCharset(text, charset);
  if (encoding === 'B') return `=?${charset}?B?${bytes.toString('base64')}?=`;
  let q = '';
  for (const b of bytes) {
    if ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)) q += String.fromCharCode(b);
    else if (b === 0x20) q += '_';
    else q += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `=?${charset}?Q?${q}?=`;
}

export interface Mailbox {
  name?: string;
  email: string;
}

export function formatAddress(addr: Mailbox, charset = 'UTF-8'): string {
  if (!addr.name) return addr.email;
  if (NON_ASCII.test(addr.name)) return `${encodeHeaderText(addr.name, charset)} <${addr.email}>`;
  if (/[()<>@,;:\\".[\]]/.test(addr.name)) return `"${addr.name.replace(/(["\\])/g, '\\$1')}" <${addr.email}>`;
  return `${addr.name} <${addr.email}>`;
}

/** Display form, as Gmail shows header values: decoded, quotes kept where needed. */
export function displayAddress(addr: Mailbox): string {
  if (!addr.name) return addr.email;
  if (/[()<>@,;:\\".[\]]/.test(addr.name)) return `"${addr.name.replace(/(["\\])/g, '\\$1')}" <${addr.email}>`;
  return `${addr.name} <${addr.email}>`;
}

/** RFC 5322 date, e.g. "Tue, 09 Jul 2024 10:15:00 +0000". */
export function rfc2822Date(ms: number, offsetMinutes = 0): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${days[d.getUTCDay()]}, ${pad(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())} ${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/** Decodes RFC 2047 encoded words (and 8-bit UTF-8 carried as latin1 bytes). */
export function decodeHeaderValue(rawLatin1: string): string {
  let value = rawLatin1;
  if (NON_ASCII.test(value)) value = decodeCharset(Buffer.from(value, 'latin1'), 'utf-8');
  // whitespace between adjacent encoded words is dropped
  value = value.replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, '$1');
  return value.replace(ENCODED_WORD, (_m, charset: string, enc: string, text: string) => {
    const cs = charset.split('*')[0] as string;
    const bytes =
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : decodeQuotedPrintable(text.replace(/_/g, ' ').replace(/=\r?\n/g, ''));
    return decodeCharset(bytes, cs);
  });
}

export interface ContentType {
  type: string;
  params: Record<string, string>;
  /** Parameters given as RFC 2231 extended values: already decoded text, not raw header bytes. */
  decoded?: Set<string>;
}

/** "text/plain; charset=\"ISO-8859-1\"; format=flowed" -> { type, params (lower-case keys) }. */
export function parseParams(value: string): ContentType {
  const [head, ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  // RFC 2231: name*=utf-8''%E2%82%AC, and continuations name*0=, name*1*=
  const segments: Record<string, { extended: boolean; parts: string[] }> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const rawKey = p.slice(0, eq).trim().toLowerCase();
    let val = p.slice(eq + 1).trim();
    if (val.startsWith('"') && val.endsWith('"') && val.length >= 2) val = val.slice(1, -1).replace(/\\(.)/g, '$1');
    const m = /^([^*]+)(?:\*(\d+))?(\*)?$/.exec(rawKey);
    if (!m || (m[2] === undefined && m[3] === undefined)) {
      params[rawKey] = val;
      continue;
    }
    const key = m[1] as string;
    const seg = (segments[key] ??= { extended: false, parts: [] });
    if (m[3] !== undefined && (m[2] === undefined || m[2] === '0')) seg.extended = true;
    seg.parts[m[2] === undefined ? 0 : Number(m[2])] = val;
  }
  const decoded = new Set<string>();
  for (const [key, seg] of Object.entries(segments)) {
    const joined = seg.parts.join('');
    if (!seg.extended) {
      params[key] = joined;
      continue;
    }
    decoded.add(key);
    const q = /^([^']*)'[^']*'(.*)$/s.exec(joined);
    params[key] = q
      ? decodeCharset(Buffer.from(decodeURIComponentBytes(q[2] as string)), q[1] || 'utf-8')
      : decodeCharset(Buffer.from(decodeURIComponentBytes(joined)), 'utf-8');
  }
  return { type: (head ?? '').trim().toLowerCase(), params, decoded };
}

function decodeURIComponentBytes(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(s.charCodeAt(i) & 0xff);
  }
  return out;
}

function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((s, i) => i === 0 || s.trim() !== '');
}

// ---------------------------------------------------------------------------
// Writing

export type TransferEncoding = '7bit' | '8bit' | 'quoted-printable' | 'base64';

export interface LeafNode {
  kind: 'leaf';
  /** e.g. 'text/plain' */
  type: string;
  /** Extra Content-Type parameters (charset, name, method, ...). */
  params?: Record<string, string>;
  encoding: TransferEncoding;
  content: Buffer;
  disposition?: { type: 'attachment' | 'inline'; filename?: string };
  contentId?: string;
  headers?: Array<[string, string]>;
}

export interface MultipartNode {
  kind: 'multipart';
  subtype: 'mixed' | 'alternative' | 'related';
  boundary: string;
  parts: MimeNode[];
}

export type MimeNode = LeafNode | MultipartNode;

/** A text leaf; line breaks become CRLF before the charset encoding. */
export function textPart(type: 'text/plain' | 'text/html' | 'text/calendar', text: string, charset: string, encoding: TransferEncoding, params: Record<string, string> = {}): LeafNode {
  const canonical = text.replace(/\r?\n/g, CRLF);
  return { kind: 'leaf', type, params: { charset, ...params }, encoding, content: encodeCharset(canonical, charset) };
}

export function attachmentPart(type: string, filename: string, content: Buffer, inline = false): LeafNode {
  return {
    kind: 'leaf',
    type,
    params: { name: filename },
    encoding: 'base64',
    content,
    disposition: { type: inline ? 'inline' : 'attachment', filename },
  };
}

function quoteParam(value: string): string {
  return /^[A-Za-z0-9!#$&+.^_`|~-]+$/.test(value) ? value : `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

function nodeHeaders(node: MimeNode): Array<[string, string]> {
  if (node.kind === 'multipart') return [['Content-Type', `multipart/${node.subtype}; boundary="${node.boundary}"`]];
  const params = Object.entries(node.params ?? {})
    .map(([k, v]) => `; ${k}=${quoteParam(NON_ASCII.test(v) ? encodeHeaderText(v) : v)}`)
    .join('');
  const headers: Array<[string, string]> = [['Content-Type', `${node.type}${params}`]];
  if (node.disposition) {
    const fn = node.disposition.filename;
    headers.push(['Content-Disposition', fn ? `${node.disposition.type}; filename=${quoteParam(NON_ASCII.test(fn) ? encodeHeaderText(fn) : fn)}` : node.disposition.type]);
  }
  headers.push(['Content-Transfer-Encoding', node.encoding]);
  if (node.contentId) headers.push(['Content-ID', `<${node.contentId}>`]);
  for (const h of node.headers ?? []) headers.push(h);
  return headers;
}

function nodeBody(node: MimeNode): Buffer {
  if (node.kind === 'leaf') {
    switch (node.encoding) {
      case 'base64':
        return Buffer.from(base64Lines(node.content), 'latin1');
      case 'quoted-printable':
        return Buffer.from(encodeQuotedPrintable(node.content), 'latin1');
      default:
        return node.content;
    }
  }
  const chunks: Buffer[] = [];
  for (const part of node.parts) {
    chunks.push(Buffer.from(`--${node.boundary}${CRLF}`, 'latin1'));
    chunks.push(headerBlock(nodeHeaders(part)));
    chunks.push(nodeBody(part));
    chunks.push(Buffer.from(CRLF, 'latin1'));
  }
  chunks.push(Buffer.from(`--${node.boundary}--${CRLF}`, 'latin1'));
  return Buffer.concat(chunks);
}

function headerBlock(headers: Array<[string, string]>): Buffer {
  return Buffer.from(headers.map(([k, v]) => `${k}: ${v}${CRLF}`).join('') + CRLF, 'latin1');
}

/** The full message: top-level headers, then the MIME headers and body of `root`. */
export function serializeMessage(headers: Array<[string, string]>, root: MimeNode): Buffer {
  return Buffer.concat([headerBlock([...headers, ['MIME-Version', '1.0'], ...nodeHeaders(root)]), nodeBody(root)]);
}

// ---------------------------------------------------------------------------
// Reading

export interface ParsedPart {
  /** Header values unfolded, RFC 2047 words left encoded (as Gmail returns them), in order. */
  headers: Array<{ name: string; value: string }>;
  mimeType: string;
  params: Record<string, string>;
  filename: string;
  disposition: string | undefined;
  /** Transfer-decoded bytes of a leaf. */
  content?: Buffer;
  children?: ParsedPart[];
}

function splitHeaderBody(s: string): { head: string; body: string } {
  const a = s.indexOf('\r\n\r\n');
  const b = s.indexOf('\n\n');
  if (a >= 0 && (b < 0 || a <= b)) return { head: s.slice(0, a), body: s.slice(a + 4) };
  if (b >= 0) return { head: s.slice(0, b), body: s.slice(b + 2) };
  // no body: a header-only message (or a body-only part)
  return /^[!-9;-~]+:/.test(s) ? { head: s, body: '' } : { head: '', body: s };
}

function parseHeaderLines(head: string): Array<{ name: string; raw: string }> {
  const out: Array<{ name: string; raw: string }> = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length > 0) {
      // RFC 5322 unfolding: drop the CRLF, keep the whitespace
      (out[out.length - 1] as { raw: string }).raw += line.replace(/\s+$/, '');
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trim(), raw: line.slice(colon + 1).trim() });
  }
  return out;
}

function findDelimiter(s: string, delim: string, from: number): number {
  let i = s.indexOf(delim, from);
  while (i >= 0) {
    if (i === 0 || s[i - 1] === '\n') return i;
    i = s.indexOf(delim, i + 1);
  }
  return -1;
}

function splitMultipart(body: string, boundary: string): string[] {
  const delim = `--${boundary}`;
  const parts: string[] = [];
  let idx = findDelimiter(body, delim, 0);
  while (idx >= 0) {
    if (body.startsWith(`${delim}--`, idx)) break;
    const lineEnd = body.indexOf('\n', idx);
    if (lineEnd < 0) break;
    const start = lineEnd + 1;
    const next = findDelimiter(body, delim, start);
    let content = body.slice(start, next < 0 ? body.length : next);
    if (content.endsWith('\r\n')) content = content.slice(0, -2);
    else if (content.endsWith('\n')) content = content.slice(0, -1);
    parts.push(content);
    idx = next;
  }
  return parts;
}

function parseEntity(s: string, defaultType: string): ParsedPart {
  const { head, body } = splitHeaderBody(s);
  const lines = parseHeaderLines(head);
  // Gmail returns header values unfolded but otherwise as sent (RFC 2047 words stay encoded).
  const headers = lines.map((h) => ({ name: h.name, value: NON_ASCII.test(h.raw) ? decodeCharset(Buffer.from(h.raw, 'latin1'), 'utf-8') : h.raw }));
  const get = (name: string) => lines.find((h) => h.name.toLowerCase() === name)?.raw;
  const ct = parseParams(get('content-type') ?? defaultType);
  if (!ct.type.includes('/')) ct.type = defaultType;
  const cd = get('content-disposition');
  const disp = cd ? parseParams(cd) : undefined;
  const filenameRaw = disp?.params['filename'] ?? ct.params['name'] ?? '';
  const filenameDecoded = disp?.params['filename'] !== undefined ? disp.decoded?.has('filename') : ct.decoded?.has('name');
  const part: ParsedPart = {
    headers,
    mimeType: ct.type,
    params: ct.params,
    filename: filenameDecoded ? filenameRaw : decodeHeaderValue(filenameRaw),
    disposition: disp?.type,
  };
  if (ct.type.startsWith('multipart/') && ct.params['boundary']) {
    const childDefault = ct.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    part.children = splitMultipart(body, ct.params['boundary']).map((p) => parseEntity(p, childDefault));
    return part;
  }
  const cte = (get('content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  if (cte === 'base64') part.content = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  else if (cte === 'quoted-printable') part.content = decodeQuotedPrintable(body);
  else part.content = Buffer.from(body, 'latin1');
  return part;
}

/** Parses a whole RFC 5322 message into its MIME tree. */
export function parseMime(raw: Buffer): ParsedPart {
  return parseEntity(raw.toString('latin1'), 'text/plain');
}
