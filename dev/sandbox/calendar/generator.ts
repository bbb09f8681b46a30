/**
 * Deterministic calendars: a primary calendar per account (zone, owner) and its history of events (one-offs,
 * weekly/daily/monthly series with moved and cancelled instances, all-day and multi-time-zone events), a pure
 * function of (seed, account).
 */
import {
  displayNameFromEmail,
  expand,
  hashKey,
  shiftTimes,
  type Cal,
  type EventInput,
  type EventPerson,
  type ResponseStatus,
  type Stored,
} from './events';
import { DAY_MS, dayToDate, formatInTz, parseRfc3339, utcToWall, wallToUtc } from './time';

export interface CalendarAccountOptions {
  /** number of generated base events (one-offs, series, all-day); default 120 */
  events?: number;
  email?: string;
  timeZone?: string;
}

/** The store's writes the generator replays history through (the store implements them). */
export interface EventWriter {
  insert(cal: Cal, input: EventInput, now: number, opts?: { order?: number; created?: number; organizer?: EventPerson }): Stored;
  patch(cal: Cal, eventId: string, body: EventInput, now: number, mode: 'patch' | 'update'): Stored;
  cancel(cal: Cal, eventId: string, now: number): Stored;
  resequence(cal: Cal): void;
}

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

/** An account's empty primary calendar: its address, zone and random stream follow from (seed, account). */
export function newCalendar(seed: number, account: string, opts: CalendarAccountOptions): Cal {
  const rand = seededRandom(`cal|${seed}|${account}`);
  const email = opts.email ?? (account.includes('@') ? account.toLowerCase() : `${account.toLowerCase().replace(/[^a-z0-9._-]+/g, '.')}@example.com`);
  const timeZone = opts.timeZone ?? CAL_ZONES[Math.floor(rand() * CAL_ZONES.length)]!;
  return {
    account,
    accountKey: hashKey(`${seed}|${account}`),
    email,
    displayName: displayNameFromEmail(email),
    timeZone,
    events: new Map(),
    seq: 0,
    epoch: 1,
    order: 0,
    rand,
  };
}

/** Writes `n` base events and their later history (moved and cancelled instances, cancelled series) through `store`. */
export function generateEvents(store: EventWriter, cal: Cal, n: number, now: number): void {
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
