/**
 * Google Calendar v3 sandbox: per-account primary calendar with deterministic seeded events (one-offs,
 * weekly/daily/monthly series with exceptions, all-day and multi-time-zone events), events.list with paging,
 * singleEvents expansion, sync tokens (incremental sync, 410 fullSyncRequired), and insert/get/patch/update/
 * delete/instances, all in Google's wire format and error bodies.
 *
 * Mounted by the sandbox core after its auth/quota/fault middleware, which sets the Hono variable `account`.
 */
import { Hono, type Context } from 'hono';
import {
  DAY_MS,
  addDays,
  compactUtc,
  dateToDay,
  dayToDate,
  formatInTz,
  hasOffset,
  isValidDate,
  isValidTimeZone,
  occurrenceDays,
  parseRecurrence,
  parseRfc3339,
  utcToWall,
  wallOfRfc3339,
  wallToUtc,
  type RRule,
} from './calendar-time';

// ---------------------------------------------------------------------------------------------------------
// Wire types (Google's Event resource, the parts the sandbox speaks)

export type ResponseStatus = 'needsAction' | 'declined' | 'tentative' | 'accepted';

export interface EventDateTime {
  date?: string;
  dateTime?: string;
  timeZone?: string;
}

export interface EventPerson {
  email: string;
  displayName?: string;
  self?: boolean;
}

export interface EventAttendee {
  email: string;
  displayName?: string;
  responseStatus: ResponseStatus;
  organizer?: boolean;
  self?: boolean;
  optional?: boolean;
  comment?: string;
}

export interface CalendarEvent {
  kind: 'calendar#event';
  etag: string;
  id: string;
  status: 'confirmed' | 'tentative' | 'cancelled';
  htmlLink: string;
  created: string;
  updated: string;
  summary?: string;
  description?: string;
  location?: string;
  colorId?: string;
  creator: EventPerson;
  organizer: EventPerson;
  start: EventDateTime;
  end: EventDateTime;
  endTimeUnspecified?: boolean;
  recurrence?: string[];
  recurringEventId?: string;
  originalStartTime?: EventDateTime;
  transparency?: 'opaque' | 'transparent';
  visibility?: 'default' | 'public' | 'private' | 'confidential';
  iCalUID: string;
  sequence: number;
  attendees?: EventAttendee[];
  guestsCanModify?: boolean;
  guestsCanInviteOthers?: boolean;
  guestsCanSeeOtherGuests?: boolean;
  hangoutLink?: string;
  reminders: { useDefault: boolean; overrides?: { method: string; minutes: number }[] };
  extendedProperties?: { private?: Record<string, string>; shared?: Record<string, string> };
  eventType: string;
}

/** What insert/patch accept (Google's writable fields). */
export type EventInput = Partial<
  Pick<
    CalendarEvent,
    | 'id'
    | 'status'
    | 'summary'
    | 'description'
    | 'location'
    | 'colorId'
    | 'start'
    | 'end'
    | 'endTimeUnspecified'
    | 'recurrence'
    | 'transparency'
    | 'visibility'
    | 'iCalUID'
    | 'sequence'
    | 'guestsCanModify'
    | 'guestsCanInviteOthers'
    | 'guestsCanSeeOtherGuests'
    | 'reminders'
    | 'extendedProperties'
  >
> & { attendees?: (Partial<EventAttendee> & { email: string })[] };

/** A cancelled event as list responses carry it. */
export interface CancelledEvent {
  kind: 'calendar#event';
  etag: string;
  id: string;
  status: 'cancelled';
  recurringEventId?: string;
  originalStartTime?: EventDateTime;
}

export interface EventsListResponse {
  kind: 'calendar#events';
  etag: string;
  summary: string;
  updated: string;
  timeZone: string;
  accessRole: 'owner';
  defaultReminders: { method: string; minutes: number }[];
  nextPageToken?: string;
  nextSyncToken?: string;
  items: (CalendarEvent | CancelledEvent)[];
}

export interface EventsListParams {
  timeMin?: string;
  timeMax?: string;
  singleEvents?: boolean;
  orderBy?: string;
  maxResults?: number;
  pageToken?: string;
  showDeleted?: boolean;
  updatedMin?: string;
  q?: string;
  syncToken?: string;
  timeZone?: string;
  iCalUID?: string;
  privateExtendedProperty?: string[];
  sharedExtendedProperty?: string[];
}

/** Google's JSON error: {"error":{"code","message","errors":[{"domain","reason","message"}],"status"}}. */
export class CalendarApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly domain = 'global',
  ) {
    super(message);
    this.name = 'CalendarApiError';
  }
  get body(): { error: { code: number; message: string; errors: { domain: string; reason: string; message: string }[]; status: string } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: [{ domain: this.domain, reason: this.reason, message: this.message }],
        status: STATUS_NAMES[this.code] ?? 'UNKNOWN',
      },
    };
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'GONE',
};

const badRequest = (message: string, reason = 'invalid') => new CalendarApiError(400, reason, message);
const notFound = () => new CalendarApiError(404, 'notFound', 'Not Found');
const FULL_SYNC_MSG = 'Sync token is no longer valid, a full sync is required.';
const fullSyncRequired = () => new CalendarApiError(410, 'fullSyncRequired', FULL_SYNC_MSG, 'calendar');

/** Parameters Google refuses alongside syncToken. */
export const SYNC_TOKEN_FORBIDDEN = ['timeMin', 'timeMax', 'orderBy', 'q', 'updatedMin', 'privateExtendedProperty', 'sharedExtendedProperty', 'iCalUID'] as const;

// ---------------------------------------------------------------------------------------------------------
// Internal model

interface Stored {
  ev: CalendarEvent;
  /** change sequence: what sync tokens compare against */
  seq: number;
  /** stable default ordering (series and their exceptions share their master's) */
  order: number;
  updatedMs: number;
  /** a cancelled id of an instance that no longer exists after its series moved (for incremental sync) */
  retired?: boolean;
}

interface Cal {
  account: string;
  accountKey: string;
  email: string;
  displayName: string;
  timeZone: string;
  events: Map<string, Stored>;
  seq: number;
  epoch: number;
  order: number;
  rand: () => number;
}

interface Item {
  ev: CalendarEvent;
  cancelled: boolean;
  order: number;
  startMs: number;
  endMs: number;
  updatedMs: number;
}

export interface CalendarStoreOptions {
  /** clock (epoch ms); defaults to Date.now */
  now?: () => number;
}

export interface CalendarAccountOptions {
  /** number of generated base events (one-offs, series, all-day); default 120 */
  events?: number;
  email?: string;
  timeZone?: string;
}

const MAX_INSTANCES = 1000;
const HORIZON_MS = 730 * DAY_MS;
const ID_RE = /^[a-v0-9]{5,1024}$/;
const INSTANCE_RE = /^([a-v0-9]{5,1024})_(\d{8}(?:T\d{6}Z)?)$/;

// ---------------------------------------------------------------------------------------------------------

export class CalendarStore {
  private readonly cals = new Map<string, Cal>();
  readonly now: () => number;

  constructor(
    readonly seed: number,
    opts: CalendarStoreOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Creates the account's primary calendar with deterministic events from (seed, account); later calls are no-ops. */
  ensureAccount(account: string, opts: CalendarAccountOptions = {}): void {
    if (this.cals.has(account)) return;
    const rand = seededRandom(`cal|${this.seed}|${account}`);
    const email = opts.email ?? (account.includes('@') ? account.toLowerCase() : `${account.toLowerCase().replace(/[^a-z0-9._-]+/g, '.')}@example.com`);
    const timeZone = opts.timeZone ?? CAL_ZONES[Math.floor(rand() * CAL_ZONES.length)]!;
    const cal: Cal = {
      account,
      accountKey: hashKey(`${this.seed}|${account}`),
      email,
      displayName: displayNameFromEmail(email),
      timeZone,
      events: new Map(),
      seq: 0,
      epoch: 1,
      order: 0,
      rand,
    };
    this.cals.set(account, cal);
    generate(this, cal, opts.events ?? 120, this.now());
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
    const now = this.now();
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

// ---------------------------------------------------------------------------------------------------------
// Event helpers

const WRITABLE = [
  'status', 'summary', 'description', 'location', 'colorId', 'start', 'end', 'endTimeUnspecified', 'recurrence', 'transparency',
  'visibility', 'iCalUID', 'sequence', 'attendees', 'guestsCanModify', 'guestsCanInviteOthers', 'guestsCanSeeOtherGuests',
  'reminders', 'extendedProperties',
] as const;

function applyWritable(cal: Cal, ev: CalendarEvent, input: EventInput, mode: 'insert' | 'patch' | 'update'): void {
  const e = ev as unknown as Record<string, unknown>;
  const inp = input as Record<string, unknown>;
  for (const k of WRITABLE) {
    if (!(k in inp)) continue;
    const v = inp[k];
    if (k === 'iCalUID' && mode !== 'insert') continue;
    if (v === null) {
      delete e[k];
      continue;
    }
    if (k === 'start' || k === 'end') {
      if (typeof v !== 'object') throw badRequest(`Invalid ${k} time.`);
      const merged: EventDateTime = mode === 'patch' ? { ...(ev[k] ?? {}) } : {};
      const given = v as Record<string, unknown>;
      for (const f of ['date', 'dateTime', 'timeZone'] as const) {
        if (f in given) {
          if (given[f] === null) delete merged[f];
          else merged[f] = String(given[f]);
        }
      }
      if ('dateTime' in given && given.dateTime != null && !('date' in given)) delete merged.date;
      if ('date' in given && given.date != null && !('dateTime' in given)) {
        delete merged.dateTime;
        if (!('timeZone' in given)) delete merged.timeZone;
      }
      ev[k] = merged;
      continue;
    }
    if (k === 'attendees') {
      if (!Array.isArray(v)) throw badRequest('Invalid attendees.');
      ev.attendees = v.map((a: unknown) => {
        const o = (a ?? {}) as Record<string, unknown>;
        if (typeof o.email !== 'string' || !o.email) throw new CalendarApiError(400, 'required', 'Missing attendee email.');
        const email = o.email.toLowerCase();
        const rs = o.responseStatus;
        const att: EventAttendee = {
          email,
          ...(typeof o.displayName === 'string' ? { displayName: o.displayName } : {}),
          responseStatus: rs === 'declined' || rs === 'tentative' || rs === 'accepted' ? rs : 'needsAction',
        };
        if (email === ev.organizer.email) att.organizer = true;
        if (email === cal.email) att.self = true;
        if (o.optional === true) att.optional = true;
        if (typeof o.comment === 'string') att.comment = o.comment;
        return att;
      });
      continue;
    }
    if (k === 'status' && v !== 'confirmed' && v !== 'tentative' && v !== 'cancelled') throw badRequest('Invalid value for status.');
    if (k === 'sequence' && (!Number.isInteger(v) || (v as number) < 0)) throw badRequest('Invalid sequence value.');
    if (k === 'recurrence' && (!Array.isArray(v) || v.some((l) => typeof l !== 'string'))) throw badRequest('Invalid recurrence rule.');
    e[k] = clone(v);
  }
}

/** Normalizes start/end (offsets in the event's zone) and checks them the way Google does. */
function validateEvent(cal: Cal, ev: CalendarEvent): void {
  const norm = (which: 'start' | 'end'): number => {
    const t = ev[which];
    if (!t || (!t.date && !t.dateTime)) throw new CalendarApiError(400, 'required', `Missing ${which} time.`);
    if (t.date && t.dateTime) throw badRequest(`Invalid ${which} time.`);
    if (t.timeZone !== undefined && !isValidTimeZone(t.timeZone)) throw badRequest(`Invalid time zone definition for ${which} time.`);
    if (t.date) {
      if (!isValidDate(t.date)) throw badRequest(`Invalid ${which} time.`);
      return wallToUtc(cal.timeZone, +t.date.slice(0, 4), +t.date.slice(5, 7), +t.date.slice(8, 10));
    }
    const s = t.dateTime!;
    let ms: number | undefined;
    if (hasOffset(s)) ms = parseRfc3339(s);
    else {
      // a local time needs a zone: Google refuses it otherwise
      if (!t.timeZone) throw badRequest(`Missing time zone definition for ${which} time.`);
      const w = wallOfRfc3339(s);
      ms = w && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/.test(s) ? wallToUtc(t.timeZone, w.y, w.mo, w.d, w.h, w.mi, w.s) : undefined;
    }
    if (ms === undefined) throw badRequest(`Invalid ${which} time.`);
    t.dateTime = formatInTz(ms, t.timeZone ?? cal.timeZone);
    return ms;
  };
  const s = norm('start');
  const e = norm('end');
  if (!!ev.start.date !== !!ev.end.date) throw badRequest('Start and end times must either both be date or both be dateTime.');
  if (e < s || (ev.start.date && e === s)) throw new CalendarApiError(400, 'timeRangeEmpty', 'The specified time range is empty.');
  if (ev.recurrence) {
    if (ev.recurringEventId) throw badRequest('Invalid recurrence rule.');
    if (!ev.recurrence.length) delete ev.recurrence;
    else {
      try {
        parseRecurrence(ev.recurrence);
      } catch {
        throw badRequest('Invalid recurrence rule.');
      }
      if (ev.start.dateTime && !ev.start.timeZone) throw badRequest('Missing time zone definition for start time.');
    }
  }
}

function times(cal: Cal, ev: CalendarEvent): { start: number; end: number } {
  const one = (t: EventDateTime): number =>
    t.date ? wallToUtc(cal.timeZone, +t.date.slice(0, 4), +t.date.slice(5, 7), +t.date.slice(8, 10)) : (parseRfc3339(t.dateTime ?? '') ?? 0);
  return { start: one(ev.start), end: one(ev.end) };
}

function itemOf(cal: Cal, st: Stored): Item {
  const t = times(cal, st.ev);
  return { ev: st.ev, cancelled: st.ev.status === 'cancelled', order: st.order, startMs: t.start, endMs: t.end, updatedMs: st.updatedMs };
}

interface Occurrence {
  id: string;
  start: EventDateTime;
  end: EventDateTime;
  originalStartTime: EventDateTime;
  startMs: number;
  endMs: number;
}

/**
 * Occurrences of a series master, in its own zone's wall time, before `until` and at most two years past
 * the later of now and the series start (open-ended series are expanded that far), at most 1000.
 */
function expand(cal: Cal, ev: CalendarEvent, until: number, now: number): Occurrence[] {
  let rule: RRule;
  try {
    rule = parseRecurrence(ev.recurrence ?? []);
  } catch {
    return [];
  }
  const out: Occurrence[] = [];
  const horizon = Math.min(until, Math.max(now, times(cal, ev).start) + HORIZON_MS);
  if (ev.start.date) {
    const startDay = dateToDay(ev.start.date);
    const durDays = dateToDay(ev.end.date!) - startDay;
    const utcOf = (day: number) => {
      const d = dayToDate(day);
      return wallToUtc(cal.timeZone, +d.slice(0, 4), +d.slice(5, 7), +d.slice(8, 10));
    };
    const days = occurrenceDays(rule, startDay, (day) => (rule.until === undefined || utcOf(day) <= rule.until) && utcOf(day) < horizon, MAX_INSTANCES);
    for (const day of days) {
      const date = dayToDate(day);
      const startMs = utcOf(day);
      out.push({
        id: `${ev.id}_${date.replace(/-/g, '')}`,
        start: { date },
        end: { date: addDays(date, durDays) },
        originalStartTime: { date },
        startMs,
        endMs: utcOf(day + durDays),
      });
    }
    return out;
  }
  const tz = ev.start.timeZone ?? cal.timeZone;
  const endTz = ev.end.timeZone ?? tz;
  const s0 = parseRfc3339(ev.start.dateTime!)!;
  const dur = parseRfc3339(ev.end.dateTime!)! - s0;
  const w = utcToWall(tz, s0);
  const startDay = Math.floor(Date.UTC(w.y, w.mo - 1, w.d) / DAY_MS);
  const utcOf = (day: number) => {
    const d = new Date(day * DAY_MS);
    return wallToUtc(tz, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), w.h, w.mi, w.s);
  };
  const days = occurrenceDays(
    rule,
    startDay,
    (day) => {
      const u = utcOf(day);
      return (rule.until === undefined || u <= rule.until) && u < horizon;
    },
    MAX_INSTANCES,
  );
  for (const day of days) {
    const u = utcOf(day);
    const start = { dateTime: formatInTz(u, tz), timeZone: tz };
    out.push({
      id: `${ev.id}_${compactUtc(u)}`,
      start,
      end: { dateTime: formatInTz(u + dur, endTz), timeZone: endTz },
      originalStartTime: { ...start },
      startMs: u,
      endMs: u + dur,
    });
  }
  return out;
}

function shiftTimes(cal: Cal, ev: CalendarEvent, minutes: number): EventInput {
  if (ev.start.date) {
    let days = Math.round(minutes / 1440);
    if (days === 0 && minutes !== 0) days = Math.sign(minutes);
    return { start: { date: addDays(ev.start.date, days) }, end: { date: addDays(ev.end.date!, days) } };
  }
  const shift = (t: EventDateTime): EventDateTime => ({
    dateTime: formatInTz(parseRfc3339(t.dateTime!)! + minutes * 60_000, t.timeZone ?? cal.timeZone),
    ...(t.timeZone ? { timeZone: t.timeZone } : {}),
  });
  return { start: shift(ev.start), end: shift(ev.end) };
}

function presentItem(it: Item, tz: string | undefined): CalendarEvent | CancelledEvent {
  if (it.cancelled) {
    const c: CancelledEvent = { kind: 'calendar#event', etag: it.ev.etag, id: it.ev.id, status: 'cancelled' };
    if (it.ev.recurringEventId) {
      c.recurringEventId = it.ev.recurringEventId;
      if (it.ev.originalStartTime) c.originalStartTime = clone(it.ev.originalStartTime);
    }
    return c;
  }
  return present(it.ev, tz);
}

function present(ev: CalendarEvent, tz: string | undefined): CalendarEvent {
  const out = clone(ev);
  if (tz) {
    for (const t of [out.start, out.end, out.originalStartTime]) {
      if (t?.dateTime) t.dateTime = formatInTz(parseRfc3339(t.dateTime)!, tz);
    }
  }
  return out;
}

function searchText(ev: CalendarEvent): string {
  return [ev.summary, ev.description, ev.location, ev.organizer.email, ev.organizer.displayName, ...(ev.attendees ?? []).flatMap((a) => [a.email, a.displayName])]
    .filter(Boolean)
    .join('\n')
    .toLowerCase();
}

function matchProps(props: Record<string, string> | undefined, wanted: string[]): boolean {
  return wanted.every((w) => {
    const i = w.indexOf('=');
    return i > 0 && props?.[w.slice(0, i)] === w.slice(i + 1);
  });
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

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function etagOf(updatedMs: number, seq: number): string {
  return `"${updatedMs}${String(seq % 1000).padStart(3, '0')}"`;
}

function htmlLink(id: string, email: string): string {
  return `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${email}`).toString('base64url')}`;
}

function randomEventId(rand: () => number): string {
  const a = '0123456789abcdefghijklmnopqrstuv';
  let s = '';
  for (let i = 0; i < 26; i++) s += a[Math.floor(rand() * 32)];
  return s;
}

function displayNameFromEmail(email: string): string {
  return email
    .split('@')[0]!
    .split(/[._-]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

function hashKey(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x1b873593;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 16777619);
    h2 = Math.imul(h2 ^ c, 2246822507);
  }
  return (h1 >>> 0).toString(32) + (h2 >>> 0).toString(32);
}

// ---------------------------------------------------------------------------------------------------------
// Tokens

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

// ---------------------------------------------------------------------------------------------------------
// Deterministic generator

function seededRandom(seedText: string): () => number {
  // mulberry32 over an FNV-1a hash of the seed text
  let h = 0x811c9dc5;
  for (let i = 0; i < seedText.length; i++) h = Math.imul(h ^ seedText.charCodeAt(i), 16777619);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CAL_ZONES = ['America/New_York', 'America/Los_Angeles', 'Europe/Berlin', 'Europe/London', 'Asia/Tokyo', 'UTC'];
const OTHER_ZONES = ['America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'UTC', 'Asia/Kolkata', 'Australia/Sydney', 'America/Los_Angeles', 'America/Sao_Paulo'];
const PEOPLE = [
  ['Ada Lovelace', 'ada@analytical.example.com'], ['Grace Hopper', 'grace@navy.example.org'], ['Alan Turing', 'alan@bletchley.example.co.uk'],
  ['Katherine Johnson', 'katherine@nasa.example.gov'], ['Linus Pauling', 'linus@caltech.example.edu'], ['Hedy Lamarr', 'hedy@films.example.com'],
  ['Tim Berners-Lee', 'tim@w3.example.org'], ['Margaret Hamilton', 'margaret@apollo.example.com'], ['Yuki Tanaka', 'yuki.tanaka@example.jp'],
  ['Lena Schmidt', 'lena.schmidt@example.de'], ['Priya Natarajan', 'priya@example.in'], ['Carlos Mendes', 'carlos@example.com.br'],
  ['Sam Okafor', 'sam.okafor@example.ng'], ['Olivia Brown', 'olivia@customer.example.com'], ['Noah Wilson', 'noah@vendor.example.com'],
];
const MEETINGS = [
  '1:1', 'Project sync', 'Design review', 'Customer call', 'Pipeline review', 'Interview', 'Lunch', 'Sprint planning', 'Retro', 'Demo',
  'Quarterly business review', 'Onboarding', 'Coffee chat', 'Board prep', 'Vendor negotiation', 'Incident postmortem', 'Roadmap',
];
const SERIES = ['Weekly team meeting', 'Staff meeting', '1:1 with manager', 'Architecture guild', 'Sales forecast', 'Book club', 'Office hours'];
const ALL_DAY = ['Out of office', 'Conference', 'Public holiday', 'Offsite', 'Vacation', 'Training day', 'Company all-hands day'];
const PLACES = ['Room 4.01', 'Zoom', 'Google Meet', 'HQ - Atlas', 'Café Central', 'Client office', 'Berlin office', 'Tokyo office', ''];
const RESPONSES: ResponseStatus[] = ['needsAction', 'declined', 'tentative', 'accepted', 'accepted', 'accepted'];

function generate(store: CalendarStore, cal: Cal, n: number, now: number): void {
  const r = cal.rand;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const one = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const w = utcToWall(cal.timeZone, now);
  const today = Math.floor(Date.UTC(w.y, w.mo - 1, w.d) / DAY_MS);
  const localIso = (day: number, h: number, mi: number, tz: string) => {
    const d = new Date(day * DAY_MS);
    return formatInTz(wallToUtc(tz, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), h, mi), tz);
  };
  const attendees = (k: number, selfOrganizer: boolean, organizer: string[] | undefined): EventInput['attendees'] => {
    const set = new Map<string, { email: string; displayName?: string; responseStatus: ResponseStatus }>();
    if (organizer) set.set(organizer[1]!, { email: organizer[1]!, displayName: organizer[0], responseStatus: 'accepted' });
    set.set(cal.email, { email: cal.email, responseStatus: selfOrganizer ? 'accepted' : one(RESPONSES) });
    for (let i = 0; i < k; i++) {
      const p = one(PEOPLE);
      if (!set.has(p[1]!)) set.set(p[1]!, { email: p[1]!, displayName: p[0], responseStatus: one(RESPONSES) });
    }
    return [...set.values()];
  };
  const history = (startMs: number) => {
    const created = Math.min(now - 60_000, startMs) - int(1, 30) * DAY_MS + int(0, 86_399) * 1000;
    const updated = created + Math.floor(r() * (now - 60_000 - created));
    return { created, updated };
  };

  const masters: Stored[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r();
    const selfOrg = r() < 0.75;
    const organizer = selfOrg ? undefined : one(PEOPLE);
    let input: EventInput;
    let startMs: number;
    if (kind < 0.5 || kind >= 0.9) {
      // one-off timed meeting (sometimes a big one, sometimes in another zone)
      const tz = r() < 0.75 ? cal.timeZone : one(OTHER_ZONES);
      const day = today + int(-60, 120);
      const h = int(8, 17);
      const mi = one([0, 0, 15, 30, 45]);
      const dur = one([15, 30, 30, 45, 60, 60, 90, 120]);
      const s = localIso(day, h, mi, tz);
      startMs = parseRfc3339(s)!;
      input = {
        summary: kind >= 0.9 ? 'All hands' : `${one(MEETINGS)}${r() < 0.4 ? ` — ${one(PEOPLE)[0]}` : ''}`,
        location: one(PLACES) || undefined,
        start: { dateTime: s, timeZone: tz },
        end: { dateTime: formatInTz(startMs + dur * 60_000, tz), timeZone: tz },
        attendees: attendees(kind >= 0.9 ? 12 : int(0, 5), selfOrg, organizer),
      };
    } else if (kind < 0.68) {
      // recurring: weekly (most), weekday standups, monthly
      const tz = r() < 0.85 ? cal.timeZone : one(OTHER_ZONES);
      const day = today + int(-60, 60);
      const h = int(8, 17);
      const mi = one([0, 30]);
      let rule: string;
      let dur = one([30, 45, 60]);
      let summary = one(SERIES);
      if (kind < 0.62) {
        const byDay = r() < 0.25 ? ';BYDAY=MO,TH' : '';
        const interval = r() < 0.2 ? ';INTERVAL=2' : '';
        const end = r() < 0.7 ? `;COUNT=${int(4, 16)}` : `;UNTIL=${dayToDate(day + int(30, 150)).replace(/-/g, '')}T235959Z`;
        rule = `RRULE:FREQ=WEEKLY${interval}${byDay}${end}`;
      } else if (kind < 0.66) {
        rule = `RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=${int(20, 60)}`;
        summary = 'Daily standup';
        dur = 15;
      } else {
        rule = `RRULE:FREQ=MONTHLY;COUNT=${int(3, 6)}`;
        summary = 'Monthly business review';
      }
      // BYDAY series start on a Monday so that DTSTART is one of their occurrences
      const dow = new Date(day * DAY_MS).getUTCDay();
      const startDay = rule.includes('BYDAY=MO,T') ? day - ((dow + 6) % 7) : day;
      const s = localIso(startDay, h, mi, tz);
      startMs = parseRfc3339(s)!;
      input = {
        summary,
        location: one(PLACES) || undefined,
        start: { dateTime: s, timeZone: tz },
        end: { dateTime: formatInTz(startMs + dur * 60_000, tz), timeZone: tz },
        recurrence: [rule],
        attendees: attendees(int(1, 6), selfOrg, organizer),
      };
    } else if (kind < 0.82) {
      // all-day, sometimes multi-day
      const day = today + int(-60, 120);
      const len = one([1, 1, 1, 2, 3, 5]);
      input = { summary: one(ALL_DAY), start: { date: dayToDate(day) }, end: { date: dayToDate(day + len) }, transparency: 'transparent' };
      startMs = wallToUtc(cal.timeZone, ...(dayToDate(day).split('-').map(Number) as [number, number, number]));
    } else {
      // multi-time-zone: a flight or a call across zones (start and end in different zones)
      const from = one(OTHER_ZONES);
      let to = one(OTHER_ZONES);
      if (to === from) to = from === 'UTC' ? 'Asia/Tokyo' : 'UTC';
      const day = today + int(-60, 120);
      const s = localIso(day, int(6, 20), one([0, 15, 30, 45]), from);
      startMs = parseRfc3339(s)!;
      const dur = int(2, 14) * 60;
      input = {
        summary: `Flight ${one(['LH', 'UA', 'JL', 'BA', 'AF'])}${int(10, 999)}`,
        location: `${from.split('/')[1] ?? from} → ${to.split('/')[1] ?? to}`,
        start: { dateTime: s, timeZone: from },
        end: { dateTime: formatInTz(startMs + dur * 60_000, to), timeZone: to },
        transparency: 'opaque',
      };
    }
    if (r() < 0.3) input.description = `Agenda:\n- ${one(MEETINGS)}\n- ${one(MEETINGS)}`;
    const { created, updated } = history(startMs);
    const st = store.insert(cal, input, updated, { created, organizer: organizer && { email: organizer[1]!, displayName: organizer[0] } });
    if (st.ev.recurrence) masters.push(st);
    else if (r() < 0.03) store.cancel(cal, st.ev.id, updated);
  }
  // history on series: a moved instance, a cancelled instance, a few cancelled series
  for (const m of masters) {
    const occ = expand(cal, m.ev, Infinity, now);
    if (occ.length > 3 && r() < 0.35) {
      const o = occ[int(1, occ.length - 2)]!;
      const at = Math.min(now - 1000, m.updatedMs + int(1, 10) * 3_600_000);
      store.patch(cal, o.id, shiftTimes(cal, { ...m.ev, id: o.id, start: o.start, end: o.end }, one([30, 60, -60, 1440])), at, 'patch');
    }
    if (occ.length > 3 && r() < 0.2) {
      const o = occ[int(1, occ.length - 2)]!;
      if (!cal.events.has(o.id)) store.cancel(cal, o.id, Math.min(now - 1000, m.updatedMs + int(1, 10) * 3_600_000));
    }
    if (r() < 0.04) store.cancel(cal, m.ev.id, Math.min(now - 1000, m.updatedMs + DAY_MS));
  }
  store.resequence(cal);
}

// ---------------------------------------------------------------------------------------------------------
// Routes

type Env = { Variables: { account: string } };

export function calendarRoutes(store: CalendarStore): Hono<Env> {
  const app = new Hono<Env>();
  const base = '/calendar/v3/calendars/:calendarId';

  const handle =
    (fn: (c: Context<Env>, account: string) => Response | Promise<Response>) =>
    async (c: Context<Env>): Promise<Response> => {
      try {
        const account = c.get('account');
        store.ensureAccount(account);
        return await fn(c, account);
      } catch (e) {
        if (e instanceof CalendarApiError) return c.json(e.body, e.code as 400);
        throw e;
      }
    };
  const calId = (c: Context<Env>) => c.req.param('calendarId') ?? '';
  const eventId = (c: Context<Env>) => c.req.param('eventId') ?? '';
  const json = async (c: Context<Env>): Promise<EventInput> => {
    try {
      const v = (await c.req.json()) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      return v as EventInput;
    } catch {
      throw new CalendarApiError(400, 'parseError', 'Parse Error');
    }
  };
  const bool = (v: string | undefined) => (v === undefined ? undefined : v === 'true');
  const int = (v: string | undefined) => (v === undefined ? undefined : /^-?\d+$/.test(v) ? Number(v) : NaN);

  app.get(
    `${base}/events`,
    handle((c, account) => {
      const q = c.req.query();
      const many = (k: string) => c.req.queries(k);
      return c.json(
        store.listEvents(account, calId(c), {
          timeMin: q.timeMin,
          timeMax: q.timeMax,
          singleEvents: bool(q.singleEvents),
          orderBy: q.orderBy,
          maxResults: int(q.maxResults),
          pageToken: q.pageToken,
          showDeleted: bool(q.showDeleted),
          updatedMin: q.updatedMin,
          q: q.q,
          syncToken: q.syncToken,
          timeZone: q.timeZone,
          iCalUID: q.iCalUID,
          privateExtendedProperty: many('privateExtendedProperty'),
          sharedExtendedProperty: many('sharedExtendedProperty'),
        }),
      );
    }),
  );
  app.post(
    `${base}/events`,
    handle(async (c, account) => {
      store.checkCalendar(account, calId(c));
      const ev = store.addEvent(account, await json(c));
      return c.json(ev);
    }),
  );
  app.get(
    `${base}/events/:eventId/instances`,
    handle((c, account) => {
      const q = c.req.query();
      return c.json(
        store.listInstances(account, calId(c), eventId(c), {
          timeMin: q.timeMin,
          timeMax: q.timeMax,
          maxResults: int(q.maxResults),
          pageToken: q.pageToken,
          showDeleted: bool(q.showDeleted),
          timeZone: q.timeZone,
        }),
      );
    }),
  );
  app.get(
    `${base}/events/:eventId`,
    handle((c, account) => {
      store.checkCalendar(account, calId(c));
      const ev = store.getEvent(account, eventId(c));
      if (!ev) throw notFound();
      const tz = c.req.query('timeZone');
      return c.json(tz && isValidTimeZone(tz) ? present(ev, tz) : ev);
    }),
  );
  app.patch(
    `${base}/events/:eventId`,
    handle(async (c, account) => {
      store.checkCalendar(account, calId(c));
      return c.json(store.patchEvent(account, eventId(c), await json(c)));
    }),
  );
  app.put(
    `${base}/events/:eventId`,
    handle(async (c, account) => {
      store.checkCalendar(account, calId(c));
      return c.json(store.updateEvent(account, eventId(c), await json(c)));
    }),
  );
  app.delete(
    `${base}/events/:eventId`,
    handle((c, account) => {
      store.checkCalendar(account, calId(c));
      store.cancelEvent(account, eventId(c));
      return c.body(null, 204);
    }),
  );
  app.get(
    base,
    handle((c, account) => {
      store.checkCalendar(account, calId(c));
      return c.json(store.calendarResource(account));
    }),
  );
  app.get(
    '/calendar/v3/users/me/calendarList',
    handle((c, account) => {
      const entry = store.calendarListEntry(account);
      return c.json({ kind: 'calendar#calendarList', etag: entry.etag, nextSyncToken: store.currentSyncToken(account), items: [entry] });
    }),
  );
  app.get(
    '/calendar/v3/users/me/calendarList/:calendarId',
    handle((c, account) => {
      store.checkCalendar(account, calId(c));
      return c.json(store.calendarListEntry(account));
    }),
  );

  return app;
}
