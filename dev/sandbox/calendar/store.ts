/**
 * Google Calendar v3 sandbox store: per-account primary calendars generated from the seed, events.list with
 * paging, singleEvents expansion, sync tokens (incremental sync, 410 fullSyncRequired), and
 * insert/get/patch/update/delete/instances, all in Google's wire format and error bodies.
 */
import {
  CalendarApiError,
  INSTANCE_RE,
  ID_RE,
  WRITABLE,
  applyWritable,
  badRequest,
  clone,
  etagOf,
  expand,
  hashKey,
  htmlLink,
  itemOf,
  matchProps,
  notFound,
  presentItem,
  randomEventId,
  searchText,
  shiftTimes,
  times,
  validateEvent,
  type Cal,
  type CalendarEvent,
  type EventDateTime,
  type EventInput,
  type EventPerson,
  type EventsListParams,
  type EventsListResponse,
  type Item,
  type Stored,
} from './events';
import { generateEvents, newCalendar, type CalendarAccountOptions } from './generator';
import { formatInTz, isValidTimeZone, parseRecurrence, parseRfc3339, type RRule } from './time';

export interface CalendarStoreOptions {
  /** clock (epoch ms); defaults to Date.now */
  now?: () => number;
}

const FULL_SYNC_MSG = 'Sync token is no longer valid, a full sync is required.';
const fullSyncRequired = () => new CalendarApiError(410, 'fullSyncRequired', FULL_SYNC_MSG, 'calendar');

/** Parameters Google refuses alongside syncToken. */
export const SYNC_TOKEN_FORBIDDEN = ['timeMin', 'timeMax', 'orderBy', 'q', 'updatedMin', 'privateExtendedProperty', 'sharedExtendedProperty', 'iCalUID'] as const;

/** An email Google sent an attendee about a change (events.insert/patch/delete with sendUpdates). */
export interface CalendarNotification {
  account: string;
  eventId: string;
  kind: 'invitation' | 'update' | 'cancellation';
  to: string;
  at: number;
}

export const SEND_UPDATES = ['all', 'externalOnly', 'none'] as const;
export type SendUpdates = (typeof SEND_UPDATES)[number];

export class CalendarStore {
  private readonly cals = new Map<string, Cal>();
  readonly now: () => number;
  /** What attendees were told, oldest first: a change made twice would show here twice. */
  readonly notifications: CalendarNotification[] = [];

  constructor(
    readonly seed: number,
    opts: CalendarStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Creates the account's primary calendar with deterministic events from (seed, account); later calls are no-ops. */
  ensureAccount(account: string, opts: CalendarAccountOptions = {}): void {
    if (this.cals.has(account)) return;
    const cal = newCalendar(this.seed, account, opts);
    this.cals.set(account, cal);
    generateEvents(this, cal, opts.events ?? 120, this.now());
  }

  private cal(account: string): Cal {
    if (!this.cals.has(account)) this.ensureAccount(account);
    return this.cals.get(account)!;
  }

  emailOf(account: string): string {
    return this.cal(account).email;
  }

  timeZoneOf(account: string): string {
    return this.cal(account).timeZone;
  }

  /** Stored events (one-offs, series masters, exceptions), cancelled ones included. */
  events(account: string): CalendarEvent[] {
    return [...this.cal(account).events.values()].filter((s) => !s.retired).map((s) => clone(s.ev));
  }

  /** An event or a recurring instance by id (cancelled ones included), or undefined. */
  getEvent(account: string, eventId: string): CalendarEvent | undefined {
    const cal = this.cal(account);
    const st = cal.events.get(eventId);
    if (st && !st.retired) return clone(st.ev);
    const inst = this.virtualInstance(cal, eventId);
    return inst ? clone(inst.ev) : undefined;
  }

  /** Expanded instances of a series (exceptions applied), cancelled ones excluded. */
  instancesOf(account: string, eventId: string): CalendarEvent[] {
    const cal = this.cal(account);
    const st = cal.events.get(eventId);
    if (!st || !st.ev.recurrence) throw notFound();
    return this.instanceItems(cal, st, Infinity)
      .filter((i) => !i.cancelled)
      .sort((a, b) => a.startMs - b.startMs)
      .map((i) => clone(i.ev));
  }

  /** The token a client that just completed a full sync would hold. */
  currentSyncToken(account: string): string {
    const cal = this.cal(account);
    return encodeSyncToken(cal, cal.seq);
  }

  /** Every outstanding sync token of the account answers 410 fullSyncRequired from now on. */
  invalidateSyncTokens(account: string): void {
    this.cal(account).epoch++;
  }

  addEvent(account: string, input: EventInput): CalendarEvent {
    return clone(this.insert(this.cal(account), input, this.now()).ev);
  }

  patchEvent(account: string, eventId: string, patch: EventInput): CalendarEvent {
    return clone(this.patch(this.cal(account), eventId, patch, this.now(), 'patch').ev);
  }

  updateEvent(account: string, eventId: string, body: EventInput): CalendarEvent {
    return clone(this.patch(this.cal(account), eventId, body, this.now(), 'update').ev);
  }

  /** Shifts an event (one-off, whole series, or one instance -> exception) by `minutes` (all-day: by whole days). */
  moveEvent(account: string, eventId: string, minutes: number): CalendarEvent {
    const cal = this.cal(account);
    const cur = this.resolve(cal, eventId);
    return clone(this.patch(cal, eventId, shiftTimes(cal, cur.ev, minutes), this.now(), 'patch').ev);
  }

  /** Deletes (status "cancelled") an event, a whole series, or a single instance. */
  cancelEvent(account: string, eventId: string): CalendarEvent {
    const cal = this.cal(account);
    return clone(this.cancel(cal, eventId, this.now()).ev);
  }

  /**
   * The emails a change sends (sendUpdates): `all` to every attendee but the organizer, `externalOnly`
   * to those outside the calendar owner's domain, `none` (the default) to nobody.
   */
  notify(account: string, event: CalendarEvent, kind: CalendarNotification['kind'], sendUpdates: SendUpdates | undefined): void {
    if (!sendUpdates || sendUpdates === 'none') return;
    const own = this.cal(account).email.toLowerCase();
    const domain = own.split('@')[1];
    for (const attendee of event.attendees ?? []) {
      const to = attendee.email.toLowerCase();
      if (to === own || attendee.organizer) continue;
      if (sendUpdates === 'externalOnly' && to.split('@')[1] === domain) continue;
      this.notifications.push({ account, eventId: event.id, kind, to, at: this.now() });
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // events.list

  listEvents(account: string, calendarId: string, p: EventsListParams): EventsListResponse {
    const cal = this.cal(account);
    this.checkCalendar(cal, calendarId);
    const now = this.now();

    const maxResults = p.maxResults ?? 250;
    if (!Number.isInteger(maxResults) || maxResults < 1) {
      throw badRequest(`Invalid value '${String(p.maxResults)}'. Values must be within the range: [1, 2500]`);
    }
    const pageSize = Math.min(maxResults, 2500);
    if (p.orderBy !== undefined && p.orderBy !== 'startTime' && p.orderBy !== 'updated') {
      throw badRequest(`Invalid value for: ${p.orderBy} is not a valid value`);
    }
    if (p.timeZone !== undefined && !isValidTimeZone(p.timeZone)) throw badRequest('Invalid time zone definition.');

    let page: PageToken | undefined;
    if (p.pageToken !== undefined) {
      page = decodePageToken(p.pageToken);
      if (!page || page.a !== cal.accountKey) throw badRequest('Invalid page token value.');
    }

    let since: number | undefined;
    if (p.syncToken !== undefined || page?.i !== undefined) {
      for (const k of SYNC_TOKEN_FORBIDDEN) {
        const v = p[k];
        if (v !== undefined && !(Array.isArray(v) && v.length === 0)) {
          throw badRequest(`The '${k}' parameter cannot be used together with syncToken.`);
        }
      }
      if (page?.i !== undefined) {
        if (page.e !== cal.epoch) throw fullSyncRequired();
        since = page.i;
      } else {
        const tok = decodeSyncToken(p.syncToken!);
        if (!tok || tok.a !== cal.accountKey || tok.e !== cal.epoch || tok.s > cal.seq) throw fullSyncRequired();
        since = tok.s;
      }
    }

    const singleEvents = !!p.singleEvents;
    if (p.orderBy === 'startTime' && !singleEvents) {
      throw new CalendarApiError(400, 'badRequest', 'The requested ordering is not available for the particular query.');
    }
    const parseBound = (name: string, v: string | undefined): number | undefined => {
      if (v === undefined) return undefined;
      const ms = parseRfc3339(v);
      if (ms === undefined) throw new CalendarApiError(400, 'badRequest', 'Bad Request');
      void name;
      return ms;
    };
    const timeMin = parseBound('timeMin', p.timeMin);
    const timeMax = parseBound('timeMax', p.timeMax);
    const updatedMin = parseBound('updatedMin', p.updatedMin);
    if (timeMin !== undefined && timeMax !== undefined && timeMax <= timeMin) {
      throw new CalendarApiError(400, 'timeRangeEmpty', 'The specified time range is empty.');
    }
    const showDeleted = since !== undefined || !!p.showDeleted;
    const snap = page?.s ?? cal.seq;
    const horizon = timeMax ?? Infinity;

    // collect
    const items: Item[] = [];
    const deletedVisible = (st: Stored) => showDeleted || (updatedMin !== undefined && st.updatedMs >= updatedMin);
    for (const st of cal.events.values()) {
      if (since !== undefined && st.seq <= since) continue;
      const ev = st.ev;
      const cancelled = ev.status === 'cancelled';
      const isMaster = !!ev.recurrence && !ev.recurringEventId;
      if (singleEvents && isMaster) {
        if (cancelled && !deletedVisible(st)) continue;
        items.push(...this.seriesItems(cal, st, horizon, cancelled));
        continue;
      }
      if (st.retired) {
        if (since === undefined && !(singleEvents && showDeleted)) continue;
      } else if (cancelled && !deletedVisible(st)) {
        // Google: cancelled instances of recurring events stay listed when showDeleted and singleEvents are both false
        if (!(ev.recurringEventId && !singleEvents && !p.showDeleted)) continue;
      }
      if (isMaster && !singleEvents) {
        const span = this.seriesSpan(cal, st, now);
        items.push({ ...itemOf(cal, st), startMs: span.start, endMs: span.end });
      } else items.push(itemOf(cal, st));
    }

    // filters (full sync only; Google refuses them with a sync token)
    const terms = p.q?.toLowerCase().split(/\s+/).filter(Boolean) ?? [];
    const filtered = items.filter((it) => {
      if (timeMin !== undefined && !(it.endMs > timeMin)) return false;
      if (timeMax !== undefined && !(it.startMs < timeMax)) return false;
      if (updatedMin !== undefined && it.updatedMs < updatedMin) return false;
      if (p.iCalUID !== undefined && it.ev.iCalUID !== p.iCalUID) return false;
      if (terms.length) {
        if (it.cancelled) return false;
        const hay = searchText(it.ev);
        if (!terms.every((t) => hay.includes(t))) return false;
      }
      if (p.privateExtendedProperty?.length && !matchProps(it.ev.extendedProperties?.private, p.privateExtendedProperty)) return false;
      if (p.sharedExtendedProperty?.length && !matchProps(it.ev.extendedProperties?.shared, p.sharedExtendedProperty)) return false;
      return true;
    });

    // order + keyset paging (unchanged events keep their key, so changes between pages lose nothing:
    // they are delivered by the next sync token, which is the snapshot taken at the first page)
    const keyOf = (it: Item): (number | string)[] =>
      p.orderBy === 'startTime' ? [it.startMs, it.ev.id] : p.orderBy === 'updated' ? [it.updatedMs, it.ev.id] : [it.order, it.startMs, it.ev.id];
    const keyed = filtered.map((it) => ({ it, k: keyOf(it) }));
    keyed.sort((a, b) => cmpKey(a.k, b.k));
    let start = 0;
    if (page) {
      const after = page.k;
      start = keyed.findIndex((x) => cmpKey(x.k, after) > 0);
      if (start < 0) start = keyed.length;
    }
    const slice = keyed.slice(start, start + pageSize);
    const more = start + pageSize < keyed.length;

    const out: EventsListResponse = {
      kind: 'calendar#events',
      etag: `"p3${hashKey(`${cal.accountKey}|${cal.seq}|${cal.epoch}`).slice(0, 14)}"`,
      summary: cal.email,
      updated: new Date(Math.max(0, ...[...cal.events.values()].map((s) => s.updatedMs))).toISOString(),
      timeZone: p.timeZone ?? cal.timeZone,
      accessRole: 'owner',
      defaultReminders: [{ method: 'popup', minutes: 10 }],
      items: slice.map(({ it }) => presentItem(it, p.timeZone)),
    };
    if (more) {
      out.nextPageToken = encodePageToken({ a: cal.accountKey, k: slice[slice.length - 1]!.k, s: snap, i: since, e: cal.epoch });
    } else out.nextSyncToken = encodeSyncToken(cal, snap);
    return out;
  }

  /** events.instances */
  listInstances(account: string, calendarId: string, eventId: string, p: { timeMin?: string; timeMax?: string; maxResults?: number; pageToken?: string; showDeleted?: boolean; timeZone?: string }) {
    const cal = this.cal(account);
    this.checkCalendar(cal, calendarId);
    const st = cal.events.get(eventId);
    if (!st || st.retired) throw notFound();
    const timeMin = p.timeMin !== undefined ? parseRfc3339(p.timeMin) : undefined;
    const timeMax = p.timeMax !== undefined ? parseRfc3339(p.timeMax) : undefined;
    if ((p.timeMin !== undefined && timeMin === undefined) || (p.timeMax !== undefined && timeMax === undefined)) {
      throw new CalendarApiError(400, 'badRequest', 'Bad Request');
    }
    let items: Item[] = st.ev.recurrence ? this.instanceItems(cal, st, timeMax ?? Infinity) : [itemOf(cal, st)];
    items = items
      .filter((i) => (p.showDeleted || !i.cancelled) && (timeMin === undefined || i.endMs > timeMin) && (timeMax === undefined || i.startMs < timeMax))
      .sort((a, b) => a.startMs - b.startMs || (a.ev.id < b.ev.id ? -1 : 1));
    const size = Math.min(p.maxResults ?? 250, 2500);
    const offset = p.pageToken ? Number(Buffer.from(p.pageToken, 'base64url').toString()) || 0 : 0;
    const slice = items.slice(offset, offset + size);
    return {
      kind: 'calendar#events',
      etag: `"p3${hashKey(`${eventId}|${cal.seq}`).slice(0, 14)}"`,
      summary: cal.email,
      updated: st.ev.updated,
      timeZone: p.timeZone ?? cal.timeZone,
      accessRole: 'owner',
      defaultReminders: [{ method: 'popup', minutes: 10 }],
      ...(offset + size < items.length ? { nextPageToken: Buffer.from(String(offset + size)).toString('base64url') } : {}),
      items: slice.map((i) => presentItem(i, p.timeZone)),
    };
  }

  checkCalendar(cal: Cal | string, calendarId: string): void {
    const c = typeof cal === 'string' ? this.cal(cal) : cal;
    if (calendarId !== 'primary' && calendarId.toLowerCase() !== c.email) throw notFound();
  }

  calendarResource(account: string) {
    const cal = this.cal(account);
    return { kind: 'calendar#calendar', etag: `"${hashKey(cal.email)}"`, id: cal.email, summary: cal.email, timeZone: cal.timeZone, conferenceProperties: { allowedConferenceSolutionTypes: ['hangoutsMeet'] } };
  }

  calendarListEntry(account: string) {
    const cal = this.cal(account);
    return {
      kind: 'calendar#calendarListEntry',
      etag: `"${hashKey(cal.email + 'cl')}"`,
      id: cal.email,
      summary: cal.email,
      timeZone: cal.timeZone,
      colorId: '14',
      backgroundColor: '#9fe1e7',
      foregroundColor: '#000000',
      selected: true,
      accessRole: 'owner',
      defaultReminders: [{ method: 'popup', minutes: 10 }],
      primary: true,
    };
  }

  // ------------------------------------------------------------------------------------------------------
  // internals

  /** Stored event, or a not-yet-materialized instance of a series; 404 otherwise. */
  private resolve(cal: Cal, eventId: string): { st?: Stored; ev: CalendarEvent } {
    const st = cal.events.get(eventId);
    if (st && !st.retired) return { st, ev: st.ev };
    const inst = this.virtualInstance(cal, eventId);
    if (!inst) throw notFound();
    return { ev: inst.ev };
  }

  private virtualInstance(cal: Cal, eventId: string): Item | undefined {
    const m = INSTANCE_RE.exec(eventId);
    if (!m) return undefined;
    const master = cal.events.get(m[1]!);
    if (!master || !master.ev.recurrence) return undefined;
    const all = this.seriesItems(cal, master, Infinity, master.ev.status === 'cancelled');
    return all.find((i) => i.ev.id === eventId);
  }

  /** Instances of a series up to `horizon`, skipping ids that exist as stored exceptions. */
  private seriesItems(cal: Cal, st: Stored, horizon: number, cancelled: boolean): Item[] {
    const out: Item[] = [];
    for (const occ of expand(cal, st.ev, horizon, this.now())) {
      if (cal.events.has(occ.id)) continue;
      const { recurrence: _r, ...rest } = st.ev;
      void _r;
      const ev: CalendarEvent = {
        ...rest,
        id: occ.id,
        start: occ.start,
        end: occ.end,
        recurringEventId: st.ev.id,
        originalStartTime: occ.originalStartTime,
        status: cancelled ? 'cancelled' : st.ev.status,
      };
      out.push({ ev, cancelled, order: st.order, startMs: occ.startMs, endMs: occ.endMs, updatedMs: st.updatedMs });
    }
    return out;
  }

  /** Generated instances plus the series' stored exceptions (events.instances). */
  private instanceItems(cal: Cal, st: Stored, until: number): Item[] {
    const items = this.seriesItems(cal, st, until, st.ev.status === 'cancelled');
    for (const ex of cal.events.values()) if (ex.ev.recurringEventId === st.ev.id && !ex.retired) items.push(itemOf(cal, ex));
    return items;
  }

  private seriesSpan(cal: Cal, st: Stored, now: number): { start: number; end: number } {
    const t = times(cal, st.ev);
    let rule: RRule;
    try {
      rule = parseRecurrence(st.ev.recurrence ?? []);
    } catch {
      return { start: t.start, end: t.end };
    }
    if (rule.count === undefined && rule.until === undefined) return { start: t.start, end: Infinity };
    const occ = expand(cal, st.ev, Infinity, now);
    const last = occ[occ.length - 1];
    return { start: t.start, end: last ? last.endMs : t.end };
  }

  private bump(cal: Cal, st: Stored, now: number): void {
    st.seq = ++cal.seq;
    st.updatedMs = Math.max(now, st.updatedMs);
    st.ev.updated = new Date(st.updatedMs).toISOString();
    st.ev.etag = etagOf(st.updatedMs, st.seq);
  }

  insert(cal: Cal, input: EventInput, now: number, opts: { order?: number; created?: number; organizer?: EventPerson } = {}): Stored {
    if (!input || typeof input !== 'object') throw badRequest('Invalid JSON payload.', 'parseError');
    let id = input.id;
    if (id !== undefined) {
      if (typeof id !== 'string' || !ID_RE.test(id)) throw badRequest('Invalid resource id value.');
      if (cal.events.has(id)) throw new CalendarApiError(409, 'duplicate', 'The requested identifier already exists.');
    } else {
      do id = randomEventId(cal.rand);
      while (cal.events.has(id));
    }
    const created = opts.created ?? now;
    const ev: CalendarEvent = {
      kind: 'calendar#event',
      etag: '',
      id,
      status: 'confirmed',
      htmlLink: htmlLink(id, cal.email),
      created: new Date(created).toISOString(),
      updated: '',
      creator: opts.organizer ? { ...opts.organizer } : { email: cal.email, self: true },
      organizer: opts.organizer ? { ...opts.organizer } : { email: cal.email, self: true },
      start: {},
      end: {},
      iCalUID: input.iCalUID ?? `${id}@google.com`,
      sequence: 0,
      reminders: { useDefault: true },
      eventType: 'default',
    };
    applyWritable(cal, ev, input, 'insert');
    validateEvent(cal, ev);
    const st: Stored = { ev, seq: 0, order: opts.order ?? ++cal.order, updatedMs: now };
    cal.events.set(id, st);
    this.bump(cal, st, now);
    return st;
  }

  patch(cal: Cal, eventId: string, body: EventInput, now: number, mode: 'patch' | 'update'): Stored {
    if (!body || typeof body !== 'object') throw badRequest('Invalid JSON payload.', 'parseError');
    const { st: existing, ev: cur } = this.resolve(cal, eventId);
    if (body.id !== undefined && body.id !== eventId) throw badRequest('Invalid resource id value.');
    const isInstance = !!cur.recurringEventId;
    if (isInstance && body.recurrence !== undefined) throw badRequest('Invalid recurrence rule.');
    const next: CalendarEvent = clone(cur);
    if (mode === 'update') {
      for (const k of WRITABLE) if (k !== 'iCalUID') delete (next as unknown as Record<string, unknown>)[k];
      next.status = 'confirmed';
      next.sequence = cur.sequence;
      next.reminders = { useDefault: true };
      if (isInstance) next.start = next.end = {};
    }
    applyWritable(cal, next, body, mode);
    validateEvent(cal, next);
    const timesChanged = JSON.stringify([cur.start, cur.end, cur.recurrence]) !== JSON.stringify([next.start, next.end, next.recurrence]);
    if (timesChanged && body.sequence === undefined) next.sequence = cur.sequence + 1;

    let st = existing;
    if (!st) {
      // first change to a single instance: materialize an exception
      const master = cal.events.get(cur.recurringEventId!)!;
      st = { ev: next, seq: 0, order: master.order, updatedMs: now };
      cal.events.set(next.id, st);
    } else {
      const oldIds = cur.recurrence && !cur.recurringEventId && timesChanged ? this.instanceIds(cal, st) : undefined;
      st.ev = next;
      if (oldIds) this.retire(cal, st, oldIds, now);
    }
    this.bump(cal, st, now);
    return st;
  }

  cancel(cal: Cal, eventId: string, now: number): Stored {
    const { st: existing, ev: cur } = this.resolve(cal, eventId);
    if (cur.status === 'cancelled') throw new CalendarApiError(410, 'deleted', 'Resource has been deleted');
    let st = existing;
    if (!st) {
      const master = cal.events.get(cur.recurringEventId!)!;
      st = { ev: clone(cur), seq: 0, order: master.order, updatedMs: now };
      cal.events.set(cur.id, st);
    }
    st.ev.status = 'cancelled';
    this.bump(cal, st, now);
    if (st.ev.recurrence) {
      for (const ex of cal.events.values()) {
        if (ex.ev.recurringEventId === st.ev.id && ex.ev.status !== 'cancelled') {
          ex.ev.status = 'cancelled';
          this.bump(cal, ex, now);
        }
      }
    }
    return st;
  }

  private instanceIds(cal: Cal, st: Stored): Set<string> {
    return new Set(expand(cal, st.ev, Infinity, this.now()).map((o) => o.id));
  }

  /** After a series moved, its old instance ids are gone: record them as cancelled so syncs learn it. */
  private retire(cal: Cal, st: Stored, oldIds: Set<string>, now: number): void {
    const current = this.instanceIds(cal, st);
    for (const id of oldIds) {
      if (current.has(id) || cal.events.has(id)) continue;
      const m = INSTANCE_RE.exec(id)!;
      const ts = m[2]!;
      const tz = st.ev.start.timeZone ?? cal.timeZone;
      const original: EventDateTime =
        ts.length === 8
          ? { date: `${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}` }
          : { dateTime: formatInTz(Date.UTC(+ts.slice(0, 4), +ts.slice(4, 6) - 1, +ts.slice(6, 8), +ts.slice(9, 11), +ts.slice(11, 13), +ts.slice(13, 15)), tz), timeZone: tz };
      const ev: CalendarEvent = { ...clone(st.ev), id, status: 'cancelled', recurringEventId: st.ev.id, originalStartTime: original, start: original, end: original };
      delete ev.recurrence;
      const r: Stored = { ev, seq: 0, order: st.order, updatedMs: now, retired: true };
      cal.events.set(id, r);
      this.bump(cal, r, now);
    }
  }

  /** Used by the generator: assigns change sequences in `updated` order, as if history had happened. */
  resequence(cal: Cal): void {
    const all = [...cal.events.values()].sort((a, b) => a.updatedMs - b.updatedMs);
    cal.seq = 0;
    for (const st of all) {
      st.seq = ++cal.seq;
      st.ev.updated = new Date(st.updatedMs).toISOString();
      st.ev.etag = etagOf(st.updatedMs, st.seq);
    }
  }
}

function cmpKey(a: (number | string)[], b: (number | string)[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Page and sync tokens

interface PageToken {
  a: string; // account key
  k: (number | string)[]; // last key of the previous page
  s: number; // snapshot seq (becomes nextSyncToken)
  i?: number; // incremental: the sync token's seq
  e: number; // epoch
}

function encodePageToken(t: PageToken): string {
  return `EiM${Buffer.from(JSON.stringify(t)).toString('base64url')}`;
}

function decodePageToken(s: string): PageToken | undefined {
  try {
    if (!s.startsWith('EiM')) return undefined;
    const t = JSON.parse(Buffer.from(s.slice(3), 'base64url').toString()) as PageToken;
    return typeof t.a === 'string' && Array.isArray(t.k) && typeof t.s === 'number' && typeof t.e === 'number' ? t : undefined;
  } catch {
    return undefined;
  }
}

function encodeSyncToken(cal: Cal, seq: number): string {
  return `CP${Buffer.from(`${cal.accountKey}:${cal.epoch}:${seq}`).toString('base64')}`;
}

function decodeSyncToken(s: string): { a: string; e: number; s: number } | undefined {
  if (!s.startsWith('CP')) return undefined;
  const m = /^([0-9a-v]+):(\d+):(\d+)$/.exec(Buffer.from(s.slice(2), 'base64').toString());
  return m ? { a: m[1]!, e: Number(m[2]), s: Number(m[3]) } : undefined;
}
