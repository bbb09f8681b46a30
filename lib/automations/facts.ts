import type { Facts } from './language/evaluate';

/**
 * The facts of an event as a unit's conditions and templates see them (lib/automations/language/
 * catalog.ts names them). Built from the event's payload alone, as the sync wrote it, so matching and
 * preview read no other table; a fact the payload lacks is empty, never an error.
 */

const text = (value: unknown): string => (typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value));
const lower = (value: unknown): string => text(value).toLowerCase();

interface Party {
  name?: unknown;
  address?: unknown;
  email?: unknown;
}

const addressOf = (party: unknown): string => {
  if (typeof party === 'string') return party.toLowerCase();
  const p = (party ?? {}) as Party;
  return lower(p.address ?? p.email);
};

const addresses = (value: unknown): string[] => (Array.isArray(value) ? value.map(addressOf).filter((a) => a !== '') : []);

function emailFacts(payload: Record<string, unknown>): Facts {
  const from = (payload.from ?? null) as Party | string | null;
  const address = addressOf(from);
  const name = typeof from === 'object' && from !== null ? text(from.name) : '';
  const at = address.lastIndexOf('@');
  return {
    from: address,
    // A lead needs a last name: the display name, else what comes before the @.
    fromName: name !== '' ? name : at > 0 ? address.slice(0, at) : address,
    fromDomain: at >= 0 ? address.slice(at + 1) : '',
    to: addresses(payload.to),
    cc: addresses(payload.cc),
    subject: text(payload.subject),
    snippet: text(payload.snippet),
    labels: Array.isArray(payload.labelIds) ? payload.labelIds.map(text) : [],
    category: text(payload.category),
    hasAttachment: payload.hasAttachment === true,
    threadId: text(payload.threadId),
    messageId: text(payload.messageId),
    date: text(payload.internalDate),
  };
}

function calendarFacts(payload: Record<string, unknown>): Facts {
  return {
    eventId: text(payload.eventId),
    calendarId: text(payload.calendarId),
    summary: text(payload.summary),
    organizer: addressOf(payload.organizer),
    attendees: addresses(payload.attendees),
    location: text(payload.location),
    status: text(payload.status),
    start: text(payload.startAt ?? payload.startDate),
    end: text(payload.endAt ?? payload.endDate),
    htmlLink: text(payload.htmlLink),
  };
}

function crmFacts(payload: Record<string, unknown>): Facts {
  const raw = (payload.fields ?? {}) as Record<string, unknown>;
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value !== null && value !== undefined && typeof value !== 'object') fields[key] = String(value);
  }
  return { id: text(payload.id), name: text(payload.name ?? raw.Name), fields };
}

/** The facts of an event of `type` (email.*, calendar.event.*, crm.<object>.*). */
export function factsOf(type: string, payload: unknown): Facts {
  const body = (payload && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
  if (type.startsWith('email.')) return emailFacts(body);
  if (type.startsWith('calendar.')) return calendarFacts(body);
  return crmFacts(body);
}
