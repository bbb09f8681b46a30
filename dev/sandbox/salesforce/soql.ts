/**
 * A SOQL subset for the Salesforce sandbox: tokenizer, parser, type-checked compiler of WHERE clauses,
 * ORDER BY comparators and range extraction (so the store can answer keyset queries from a sorted index).
 *
 * Supported: SELECT f1, Rel.f2, ... | COUNT() | FIELDS(ALL|STANDARD) FROM Obj
 *            [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
 * cond: AND / OR (not mixed without parentheses, as in Salesforce), NOT, parentheses, = != <> < > <= >=,
 *       [NOT] IN (...), LIKE, literals: 'strings' (\' escapes), numbers, true/false, null,
 *       datetimes (2024-01-01T00:00:00Z, 2024-01-01T00:00:00.000+0000, ...), dates (2024-01-01) and the
 *       date literals TODAY, YESTERDAY, TOMORROW, LAST_N_DAYS:n, NEXT_N_DAYS:n, N_DAYS_AGO:n.
 */

export type SoqlFieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'textarea'
  | 'boolean'
  | 'double'
  | 'currency'
  | 'percent'
  | 'int'
  | 'date'
  | 'datetime';

export class SoqlError extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'SoqlError';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tokens

type TokKind = 'ident' | 'string' | 'number' | 'datetime' | 'date' | 'dateLiteral' | 'op' | 'punct' | 'eof';
interface Token {
  kind: TokKind;
  text: string; // source text
  value?: string | number; // decoded
  raw?: string; // string literal body as written (for LIKE escapes)
  pos: number;
}

const DATE_LITERALS_N = new Set(['LAST_N_DAYS', 'NEXT_N_DAYS', 'N_DAYS_AGO']);
const DATE_LITERALS = new Set(['TODAY', 'YESTERDAY', 'TOMORROW']);

const RE_DATETIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})/y;
const RE_DATE = /\d{4}-\d{2}-\d{2}(?![\dT])/y;
const RE_NUMBER = /[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?![\w.])/y;
const RE_IDENT = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*/y;
const RE_DATE_N = /([A-Za-z_]+):(\d+)/y;

function stickyMatch(re: RegExp, s: string, pos: number): RegExpExecArray | null {
  re.lastIndex = pos;
  return re.exec(s);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'") {
      let j = i + 1;
      let value = '';
      let closed = false;
      while (j < src.length) {
        const c = src[j]!;
        if (c === '\\') {
          const n = src[j + 1];
          if (n === undefined) break;
          const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', "'": "'", '"': '"', '\\': '\\', '%': '%', _: '_' };
          const m = map[n];
          if (m === undefined) throw malformed(src, j, `Invalid string literal '${src.slice(i, j + 2)}'. Illegal character sequence '\\${n}' in string literal.`);
          value += m;
          j += 2;
          continue;
        }
        if (c === "'") {
          closed = true;
          break;
        }
        value += c;
        j++;
      }
      if (!closed) throw malformed(src, i, `line 1:${i} mismatched character '<EOF>' expecting '''`);
      out.push({ kind: 'string', text: src.slice(i, j + 1), value, raw: src.slice(i + 1, j), pos: i });
      i = j + 1;
      continue;
    }
    let m = stickyMatch(RE_DATETIME, src, i);
    if (m) {
      out.push({ kind: 'datetime', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    m = stickyMatch(RE_DATE, src, i);
    if (m) {
      out.push({ kind: 'date', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (/[0-9.+-]/.test(ch)) {
      m = stickyMatch(RE_NUMBER, src, i);
      if (m) {
        out.push({ kind: 'number', text: m[0], value: Number(m[0]), pos: i });
        i += m[0].length;
        continue;
      }
    }
    m = stickyMatch(RE_DATE_N, src, i);
    if (m && DATE_LITERALS_N.has(m[1]!.toUpperCase())) {
      out.push({ kind: 'dateLiteral', text: m[0], value: Number(m[2]), raw: m[1]!.toUpperCase(), pos: i });
      i += m[0].length;
      continue;
    }
    m = stickyMatch(RE_IDENT, src, i);
    if (m) {
      const up = m[0].toUpperCase();
      if (DATE_LITERALS.has(up)) out.push({ kind: 'dateLiteral', text: m[0], raw: up, pos: i });
      else out.push({ kind: 'ident', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
      out.push({ kind: 'op', text: two === '<>' ? '!=' : two, pos: i });
      i += 2;
      continue;
    }
    if (ch === '=' || ch === '<' || ch === '>') {
      out.push({ kind: 'op', text: ch, pos: i });
      i++;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',') {
      out.push({ kind: 'punct', text: ch, pos: i });
      i++;
      continue;
    }
    throw malformed(src, i, `line 1:${i} no viable alternative at character '${ch}'`);
  }
  out.push({ kind: 'eof', text: '<EOF>', pos: src.length });
  return out;
}

/** Salesforce's MALFORMED_QUERY message layout: the query, a caret, the row/column, the reason. */
function malformed(src: string, pos: number, reason: string): SoqlError {
  const col = pos + 1;
  const snippet = src.length > 120 ? src.slice(Math.max(0, pos - 60), pos + 60) : src;
  const caretAt = src.length > 120 ? Math.min(60, pos) : pos;
  return new SoqlError('MALFORMED_QUERY', `\n${snippet}\n${' '.repeat(caretAt)}^\nERROR at Row:1:Column:${col}\n${reason}`);
}

/** Salesforce's layout for errors bound to a position that aren't syntax errors (INVALID_FIELD, ...). */
export function positionedError(src: string, pos: number, errorCode: string, reason: string): SoqlError {
  const e = malformed(src, pos, reason);
  return new SoqlError(errorCode, e.message);
}

// ---------------------------------------------------------------------------------------------------------
// AST

export type Literal =
  | { type: 'string'; value: string; raw: string }
  | { type: 'number'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'null' }
  | { type: 'datetime'; value: number; text: string }
  | { type: 'date'; value: string }
  | { type: 'dateLiteral'; name: string; n: number; text: string };

export type CmpOp = '=' | '!=' | '<' | '>' | '<=' | '>=';

export interface FieldRef {
  path: string[]; // as written, e.g. ['Account', 'Name']
  pos: number;
}

export type Cond =
  | { kind: 'and'; items: Cond[] }
  | { kind: 'or'; items: Cond[] }
  | { kind: 'not'; item: Cond }
  | { kind: 'cmp'; field: FieldRef; op: CmpOp; value: Literal; pos: number }
  | { kind: 'in'; field: FieldRef; negate: boolean; values: Literal[]; pos: number }
  | { kind: 'like'; field: FieldRef; pattern: Literal; pos: number };

export interface OrderItem {
  field: FieldRef;
  desc: boolean;
  nullsFirst: boolean;
}

export interface SoqlQuery {
  source: string;
  select: { kind: 'count' } | { kind: 'fields'; fields: FieldRef[] } | { kind: 'fieldsFn'; which: 'ALL' | 'STANDARD' | 'CUSTOM' };
  object: string;
  objectPos: number;
  where?: Cond;
  orderBy: OrderItem[];
  limit?: number;
  offset?: number;
}

const RESERVED = new Set([
  'SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'NOT', 'IN', 'LIKE', 'ORDER', 'BY', 'ASC', 'DESC', 'NULLS', 'FIRST', 'LAST',
  'LIMIT', 'OFFSET', 'TRUE', 'FALSE', 'NULL', 'GROUP', 'HAVING', 'WITH', 'FOR', 'USING', 'INCLUDES', 'EXCLUDES',
]);

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  private peek(o = 0): Token {
    return this.toks[Math.min(this.i + o, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private isKw(t: Token, kw: string): boolean {
    return t.kind === 'ident' && t.text.toUpperCase() === kw;
  }
  private unexpected(t: Token): SoqlError {
    return malformed(this.src, t.pos, `unexpected token: ${t.kind === 'eof' ? '<EOF>' : `'${t.text}'`}`);
  }
  private expectKw(kw: string): Token {
    const t = this.next();
    if (!this.isKw(t, kw)) throw this.unexpected(t);
    return t;
  }
  private expectPunct(p: string): Token {
    const t = this.next();
    if (t.kind !== 'punct' || t.text !== p) throw this.unexpected(t);
    return t;
  }

  parse(): SoqlQuery {
    this.expectKw('SELECT');
    const select = this.parseSelect();
    this.expectKw('FROM');
    const objTok = this.next();
    if (objTok.kind !== 'ident' || RESERVED.has(objTok.text.toUpperCase()) || objTok.text.includes('.')) throw this.unexpected(objTok);
    const q: SoqlQuery = { source: this.src, select, object: objTok.text, objectPos: objTok.pos, orderBy: [] };
    if (this.isKw(this.peek(), 'WHERE')) {
      this.next();
      q.where = this.parseCond();
    }
    if (this.isKw(this.peek(), 'ORDER')) {
      this.next();
      this.expectKw('BY');
      q.orderBy = this.parseOrderBy();
    }
    if (this.isKw(this.peek(), 'LIMIT')) {
      this.next();
      q.limit = this.parseNonNegInt();
    }
    if (this.isKw(this.peek(), 'OFFSET')) {
      this.next();
      q.offset = this.parseNonNegInt();
    }
    const end = this.next();
    if (end.kind !== 'eof') throw this.unexpected(end);
    if (select.kind === 'count' && q.orderBy.length) throw malformed(this.src, 0, 'Ordered field cannot be used with COUNT()');
    return q;
  }

  private parseNonNegInt(): number {
    const t = this.next();
    if (t.kind !== 'number' || !Number.isInteger(t.value) || (t.value as number) < 0) throw this.unexpected(t);
    return t.value as number;
  }

  private parseSelect(): SoqlQuery['select'] {
    const t = this.peek();
    if (this.isKw(t, 'COUNT') && this.peek(1).kind === 'punct' && this.peek(1).text === '(') {
      this.next();
      this.next();
      if (this.peek().kind !== 'punct' || this.peek().text !== ')') {
        throw malformed(this.src, this.peek().pos, 'Aggregate functions other than COUNT() are not supported by the sandbox');
      }
      this.next();
      return { kind: 'count' };
    }
    if (this.isKw(t, 'FIELDS') && this.peek(1).kind === 'punct' && this.peek(1).text === '(') {
      this.next();
      this.next();
      const w = this.next();
      const which = w.text.toUpperCase();
      if (w.kind !== 'ident' || (which !== 'ALL' && which !== 'STANDARD' && which !== 'CUSTOM')) throw this.unexpected(w);
      this.expectPunct(')');
      return { kind: 'fieldsFn', which };
    }
    const fields: FieldRef[] = [];
    for (;;) {
      const f = this.next();
      if (f.kind !== 'ident' || RESERVED.has(f.text.toUpperCase())) throw this.unexpected(f);
      if (this.peek().kind === 'punct' && this.peek().text === '(') {
        throw malformed(this.src, f.pos, `Aggregate and function calls (${f.text}) are not supported by the sandbox`);
      }
      fields.push({ path: f.text.split('.'), pos: f.pos });
      const sep = this.peek();
      if (sep.kind === 'punct' && sep.text === ',') {
        this.next();
        continue;
      }
      break;
    }
    return { kind: 'fields', fields };
  }

  private parseOrderBy(): OrderItem[] {
    const items: OrderItem[] = [];
    for (;;) {
      const f = this.next();
      if (f.kind !== 'ident' || RESERVED.has(f.text.toUpperCase())) throw this.unexpected(f);
      let desc = false;
      if (this.isKw(this.peek(), 'ASC')) this.next();
      else if (this.isKw(this.peek(), 'DESC')) {
        this.next();
        desc = true;
      }
      let nullsFirst = !desc;
      if (this.isKw(this.peek(), 'NULLS')) {
        this.next();
        const w = this.next();
        if (this.isKw(w, 'FIRST')) nullsFirst = true;
        else if (this.isKw(w, 'LAST')) nullsFirst = false;
        else throw this.unexpected(w);
      }
      items.push({ field: { path: f.text.split('.'), pos: f.pos }, desc, nullsFirst });
      if (this.peek().kind === 'punct' && this.peek().text === ',') {
        this.next();
        continue;
      }
      return items;
    }
  }

  private parseCond(): Cond {
    const first = this.parseTerm();
    const items = [first];
    let joiner: 'AND' | 'OR' | undefined;
    for (;;) {
      const t = this.peek();
      const kw = t.kind === 'ident' ? t.text.toUpperCase() : '';
      if (kw !== 'AND' && kw !== 'OR') break;
      if (joiner && joiner !== kw) throw this.unexpected(t); // Salesforce refuses mixed AND/OR without parentheses
      joiner = kw;
      this.next();
      items.push(this.parseTerm());
    }
    if (!joiner) return first;
    return { kind: joiner === 'AND' ? 'and' : 'or', items };
  }

  private parseTerm(): Cond {
    const t = this.peek();
    if (this.isKw(t, 'NOT')) {
      this.next();
      return { kind: 'not', item: this.parseTerm() };
    }
    if (t.kind === 'punct' && t.text === '(') {
      this.next();
      const c = this.parseCond();
      this.expectPunct(')');
      return c;
    }
    return this.parsePredicate();
  }

  private parsePredicate(): Cond {
    const f = this.next();
    if (f.kind !== 'ident' || RESERVED.has(f.text.toUpperCase())) throw this.unexpected(f);
    const field: FieldRef = { path: f.text.split('.'), pos: f.pos };
    const t = this.next();
    if (t.kind === 'op') return { kind: 'cmp', field, op: t.text as CmpOp, value: this.parseLiteral(), pos: f.pos };
    if (this.isKw(t, 'LIKE')) return { kind: 'like', field, pattern: this.parseLiteral(), pos: f.pos };
    let negate = false;
    let inTok = t;
    if (this.isKw(t, 'NOT')) {
      negate = true;
      inTok = this.next();
    }
    if (this.isKw(inTok, 'IN')) {
      this.expectPunct('(');
      const values: Literal[] = [];
      if (this.isKw(this.peek(), 'SELECT')) throw malformed(this.src, this.peek().pos, 'Semi-join sub-selects are not supported by the sandbox');
      for (;;) {
        values.push(this.parseLiteral());
        const s = this.next();
        if (s.kind === 'punct' && s.text === ',') continue;
        if (s.kind === 'punct' && s.text === ')') break;
        throw this.unexpected(s);
      }
      return { kind: 'in', field, negate, values, pos: f.pos };
    }
    throw this.unexpected(inTok);
  }

  private parseLiteral(): Literal {
    const t = this.next();
    switch (t.kind) {
      case 'string':
        return { type: 'string', value: t.value as string, raw: t.raw ?? '' };
      case 'number':
        return { type: 'number', value: t.value as number };
      case 'datetime': {
        const ms = parseSoqlDatetime(t.text);
        if (ms === undefined) throw malformed(this.src, t.pos, `line 1:${t.pos} invalid datetime: ${t.text}`);
        return { type: 'datetime', value: ms, text: t.text };
      }
      case 'date': {
        if (!isValidDate(t.text)) throw malformed(this.src, t.pos, `line 1:${t.pos} invalid date: ${t.text}`);
        return { type: 'date', value: t.text };
      }
      case 'dateLiteral':
        return { type: 'dateLiteral', name: t.raw ?? t.text.toUpperCase(), n: (t.value as number | undefined) ?? 0, text: t.text };
      case 'ident': {
        const up = t.text.toUpperCase();
        if (up === 'TRUE') return { type: 'boolean', value: true };
        if (up === 'FALSE') return { type: 'boolean', value: false };
        if (up === 'NULL') return { type: 'null' };
        throw this.unexpected(t);
      }
      default:
        throw this.unexpected(t);
    }
  }
}

export function parseSoql(src: string): SoqlQuery {
  if (!src.trim()) throw new SoqlError('MALFORMED_QUERY', 'A query string has to be specified');
  return new Parser(src, tokenize(src)).parse();
}

// ---------------------------------------------------------------------------------------------------------
// Literal helpers

function isValidDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return d.getUTCFullYear() === +m[1]! && d.getUTCMonth() === +m[2]! - 1 && d.getUTCDate() === +m[3]!;
}

/** Parses a SOQL datetime literal to epoch ms (fractions beyond ms are truncated). */
export function parseSoqlDatetime(s: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):?(\d{2}))$/.exec(s);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, se, frac, z, sign, oh, om] = m;
  if (!isValidDate(`${y}-${mo}-${d}`) || +h! > 23 || +mi! > 59 || +se! > 59) return undefined;
  const ms = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
  let t = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +se!, ms);
  if (z !== 'Z') {
    const off = (+oh! * 60 + +om!) * 60_000;
    t -= sign === '+' ? off : -off;
  }
  return t;
}

/** Salesforce's datetime wire format: 2024-01-01T00:00:00.000+0000. */
export function formatSfDatetime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

const DAY = 86_400_000;

/** [start, end) in epoch ms for a relative date literal, in UTC. */
function dateLiteralRange(name: string, n: number, now: number): [number, number] {
  const today = Math.floor(now / DAY) * DAY;
  switch (name) {
    case 'TODAY':
      return [today, today + DAY];
    case 'YESTERDAY':
      return [today - DAY, today];
    case 'TOMORROW':
      return [today + DAY, today + 2 * DAY];
    case 'LAST_N_DAYS':
      return [today - n * DAY, today + DAY];
    case 'NEXT_N_DAYS':
      return [today + DAY, today + (n + 1) * DAY];
    case 'N_DAYS_AGO':
      return [today - n * DAY, today - (n - 1) * DAY];
    default:
      throw new SoqlError('MALFORMED_QUERY', `unknown date literal ${name}`);
  }
}

const msToDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------------------
// Compilation against a schema

export interface ResolvedField {
  /** canonical path, e.g. ['Account', 'Name'] */
  path: string[];
  type: SoqlFieldType;
  /** reads the value from a stored record: datetimes as epoch ms, dates as YYYY-MM-DD, else JSON values */
  get: (rec: Record<string, unknown>) => unknown;
  filterable?: boolean;
  sortable?: boolean;
}

export type FieldResolver = (ref: FieldRef) => ResolvedField;

export interface CompiledQuery {
  test: (rec: Record<string, unknown>) => boolean;
  /** superset interval [lo, hi] (inclusive) of a datetime field's values among matching records, or null */
  rangeOf: (canonicalField: string) => { lo: number; hi: number } | null;
}

const TEXT_TYPES = new Set<SoqlFieldType>(['string', 'email', 'phone', 'url', 'picklist', 'textarea']);
const NUM_TYPES = new Set<SoqlFieldType>(['double', 'currency', 'percent', 'int']);

/** Converts a 15-char Salesforce id to its 18-char form (case-safe suffix). */
export function sfId18(id: string): string {
  if (id.length !== 15) return id;
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let k = 0; k < 5; k++) {
      const c = id.charCodeAt(chunk * 5 + k);
      if (c >= 65 && c <= 90) bits |= 1 << k;
    }
    suffix += chars[bits];
  }
  return id + suffix;
}

function typeLabel(t: SoqlFieldType): string {
  if (t === 'datetime') return 'dateTime';
  if (t === 'int') return 'integer';
  if (t === 'currency' || t === 'percent') return 'double';
  if (TEXT_TYPES.has(t)) return 'string';
  return t;
}

export function compileQuery(q: SoqlQuery, resolve: FieldResolver, now: number): CompiledQuery {
  const src = q.source;
  const wrongType = (f: ResolvedField, ref: FieldRef, quoted: boolean): SoqlError =>
    positionedError(
      src,
      ref.pos,
      'INVALID_QUERY_FILTER_OPERATOR',
      `value of filter criterion for field '${f.path.join('.')}' must be of type ${typeLabel(f.type)} and should ${quoted ? '' : 'not '}be enclosed in quotes`,
    );

  type Val = { kind: 'null' } | { kind: 'v'; v: string | number | boolean } | { kind: 'range'; lo: string | number; hi: string | number };

  /** Type-checks a literal against a field and converts it to the field's comparable representation. */
  const convert = (f: ResolvedField, ref: FieldRef, lit: Literal): Val => {
    if (lit.type === 'null') return { kind: 'null' };
    const t = f.type;
    if (t === 'datetime') {
      if (lit.type === 'datetime') return { kind: 'v', v: lit.value };
      if (lit.type === 'dateLiteral') {
        const [lo, hi] = dateLiteralRange(lit.name, lit.n, now);
        return { kind: 'range', lo, hi };
      }
      throw wrongType(f, ref, false);
    }
    if (t === 'date') {
      if (lit.type === 'date') return { kind: 'v', v: lit.value };
      if (lit.type === 'dateLiteral') {
        const [lo, hi] = dateLiteralRange(lit.name, lit.n, now);
        return { kind: 'range', lo: msToDate(lo), hi: msToDate(hi) };
      }
      throw wrongType(f, ref, false);
    }
    if (NUM_TYPES.has(t)) {
      if (lit.type === 'number') return { kind: 'v', v: lit.value };
      throw wrongType(f, ref, false);
    }
    if (t === 'boolean') {
      if (lit.type === 'boolean') return { kind: 'v', v: lit.value };
      throw wrongType(f, ref, false);
    }
    if (t === 'id' || t === 'reference') {
      if (lit.type !== 'string') throw wrongType(f, ref, true);
      if (!/^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/.test(lit.value)) {
        throw positionedError(src, ref.pos, 'INVALID_QUERY_FILTER_OPERATOR', `invalid ID field: ${lit.value}`);
      }
      return { kind: 'v', v: sfId18(lit.value) };
    }
    // text
    if (lit.type !== 'string') throw wrongType(f, ref, true);
    return { kind: 'v', v: lit.value.toLowerCase() };
  };

  const caseFold = (f: ResolvedField) => TEXT_TYPES.has(f.type);

  const cmp = (a: string | number | boolean, b: string | number | boolean): number => (a < b ? -1 : a > b ? 1 : 0);

  type Pred = (rec: Record<string, unknown>) => boolean;

  const compile = (c: Cond): Pred => {
    switch (c.kind) {
      case 'and': {
        const ps = c.items.map(compile);
        return (r) => ps.every((p) => p(r));
      }
      case 'or': {
        const ps = c.items.map(compile);
        return (r) => ps.some((p) => p(r));
      }
      case 'not': {
        const p = compile(c.item);
        return (r) => !p(r);
      }
      case 'cmp': {
        const f = resolve(c.field);
        if (f.filterable === false) {
          throw positionedError(src, c.field.pos, 'INVALID_FIELD', `field '${f.path.join('.')}' can not be filtered in a query call`);
        }
        const val = convert(f, c.field, c.value);
        const fold = caseFold(f);
        const get = fold ? (r: Record<string, unknown>) => lower(f.get(r)) : f.get;
        const op = c.op;
        if (val.kind === 'null') {
          if (op === '=') return (r) => get(r) == null;
          if (op === '!=') return (r) => get(r) != null;
          return () => false;
        }
        if (val.kind === 'range') {
          const { lo, hi } = val;
          return (r) => {
            const v = get(r) as string | number | null | undefined;
            if (v == null) return op === '!=';
            switch (op) {
              case '=':
                return v >= lo && v < hi;
              case '!=':
                return !(v >= lo && v < hi);
              case '<':
                return v < lo;
              case '<=':
                return v < hi;
              case '>':
                return v >= hi;
              case '>=':
                return v >= lo;
            }
          };
        }
        const lit = val.v;
        if ((op === '<' || op === '>' || op === '<=' || op === '>=') && f.type === 'boolean') {
          throw positionedError(src, c.field.pos, 'INVALID_QUERY_FILTER_OPERATOR', `invalid operator on boolean field: ${f.path.join('.')}`);
        }
        return (r) => {
          const v = get(r) as string | number | boolean | null | undefined;
          if (v == null) return op === '!=';
          const k = cmp(v, lit);
          switch (op) {
            case '=':
              return k === 0;
            case '!=':
              return k !== 0;
            case '<':
              return k < 0;
            case '<=':
              return k <= 0;
            case '>':
              return k > 0;
            case '>=':
              return k >= 0;
          }
        };
      }
      case 'in': {
        const f = resolve(c.field);
        const vals = c.values.map((l) => convert(f, c.field, l));
        const set = new Set<unknown>();
        let hasNull = false;
        for (const v of vals) {
          if (v.kind === 'null') hasNull = true;
          else if (v.kind === 'v') set.add(v.v);
          else throw positionedError(src, c.field.pos, 'MALFORMED_QUERY', 'date literals are not supported in IN lists by the sandbox');
        }
        const fold = caseFold(f);
        const neg = c.negate;
        return (r) => {
          const raw = f.get(r);
          const v = fold ? lower(raw) : raw;
          const hit = v == null ? hasNull : set.has(v);
          return neg ? !hit : hit;
        };
      }
      case 'like': {
        const f = resolve(c.field);
        if (!TEXT_TYPES.has(f.type) && f.type !== 'id' && f.type !== 'reference') {
          throw positionedError(src, c.field.pos, 'INVALID_QUERY_FILTER_OPERATOR', `invalid operator on field: ${f.path.join('.')}`);
        }
        if (c.pattern.type !== 'string') throw wrongType(f, c.field, true);
        const re = likeToRegExp(c.pattern.raw);
        return (r) => {
          const v = f.get(r);
          return typeof v === 'string' && re.test(v);
        };
      }
    }
  };

  const test: Pred = q.where ? compile(q.where) : () => true;

  const rangeOf = (field: string): { lo: number; hi: number } | null => {
    const walk = (c: Cond): { lo: number; hi: number } | null => {
      switch (c.kind) {
        case 'and': {
          let acc: { lo: number; hi: number } | null = null;
          for (const it of c.items) {
            const r = walk(it);
            if (!r) continue;
            acc = acc ? { lo: Math.max(acc.lo, r.lo), hi: Math.min(acc.hi, r.hi) } : r;
          }
          return acc;
        }
        case 'or': {
          let acc: { lo: number; hi: number } | null = null;
          for (const it of c.items) {
            const r = walk(it);
            if (!r) return null;
            acc = acc ? { lo: Math.min(acc.lo, r.lo), hi: Math.max(acc.hi, r.hi) } : r;
          }
          return acc;
        }
        case 'not':
          return null;
        case 'cmp': {
          const f = resolve(c.field);
          if (f.path.length !== 1 || f.path[0] !== field || f.type !== 'datetime') return null;
          const v = convert(f, c.field, c.value);
          if (v.kind === 'null') return c.op === '=' ? { lo: Infinity, hi: -Infinity } : null;
          const lo = v.kind === 'range' ? (v.lo as number) : (v.v as number);
          const hi = v.kind === 'range' ? (v.hi as number) : (v.v as number);
          switch (c.op) {
            case '=':
              return { lo, hi };
            case '>':
            case '>=':
              return { lo, hi: Infinity };
            case '<':
            case '<=':
              return { lo: -Infinity, hi };
            default:
              return null;
          }
        }
        case 'in': {
          const f = resolve(c.field);
          if (c.negate || f.path.length !== 1 || f.path[0] !== field || f.type !== 'datetime') return null;
          let lo = Infinity;
          let hi = -Infinity;
          for (const l of c.values) {
            const v = convert(f, c.field, l);
            if (v.kind !== 'v') return null;
            lo = Math.min(lo, v.v as number);
            hi = Math.max(hi, v.v as number);
          }
          return { lo, hi };
        }
        default:
          return null;
      }
    };
    return q.where ? walk(q.where) : null;
  };

  return { test, rangeOf };
}

function lower(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

/** SOQL LIKE: % any run, _ one char, \% and \_ literal; case-insensitive. */
export function likeToRegExp(raw: string): RegExp {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\' && i + 1 < raw.length) {
      const n = raw[++i]!;
      const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };
      out += escapeRe(map[n] ?? n);
    } else if (c === '%') out += '[\\s\\S]*';
    else if (c === '_') out += '[\\s\\S]';
    else out += escapeRe(c);
  }
  return new RegExp(`^${out}$`, 'i');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Comparator for ORDER BY (text case-insensitively, ids binary, nulls per NULLS FIRST/LAST). */
export function orderComparator(
  items: { field: ResolvedField; desc: boolean; nullsFirst: boolean }[],
): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  const parts = items.map(({ field, desc, nullsFirst }) => {
    const fold = TEXT_TYPES.has(field.type);
    return (a: Record<string, unknown>, b: Record<string, unknown>): number => {
      let va = field.get(a) as string | number | boolean | null | undefined;
      let vb = field.get(b) as string | number | boolean | null | undefined;
      if (va == null || vb == null) {
        if (va == null && vb == null) return 0;
        return (va == null) === nullsFirst ? -1 : 1;
      }
      if (fold) {
        va = (va as string).toLowerCase();
        vb = (vb as string).toLowerCase();
      }
      const k = va < vb ? -1 : va > vb ? 1 : 0;
      return desc ? -k : k;
    };
  });
  return (a, b) => {
    for (const p of parts) {
      const k = p(a, b);
      if (k) return k;
    }
    return 0;
  };
}
