/**
 * What a unit can name: the triggers, the facts each trigger exposes to conditions and templates, and
 * the action tools with the provider each needs. The compiler checks prompts against this; the matcher
 * builds facts of exactly these shapes (lib/automations/facts.ts).
 */

export type TriggerSource = 'email' | 'calendar' | 'crm';
export type CrmObjectName = 'lead' | 'contact' | 'account' | 'opportunity';
export type ProviderName = 'gmail' | 'calendar' | 'salesforce';

/** Salesforce's API name of each object the language names. */
export const CRM_OBJECT_API_NAMES: Record<CrmObjectName, string> = {
  lead: 'Lead',
  contact: 'Contact',
  account: 'Account',
  opportunity: 'Opportunity',
};

/** Fields of each object the sync keeps (lib/sync/salesforce), by their API names. */
export const CRM_FIELDS: Record<CrmObjectName, readonly string[]> = {
  lead: ['Id', 'Name', 'FirstName', 'LastName', 'Title', 'Email', 'Phone', 'Company', 'Status', 'LeadSource', 'IsConverted', 'OwnerId'],
  contact: ['Id', 'Name', 'FirstName', 'LastName', 'Title', 'Email', 'Phone', 'AccountId', 'OwnerId'],
  account: ['Id', 'Name', 'Type', 'Industry', 'Website', 'Phone', 'OwnerId'],
  opportunity: ['Id', 'Name', 'StageName', 'Amount', 'CloseDate', 'Probability', 'IsClosed', 'IsWon', 'AccountId', 'OwnerId'],
};

/** The fields Salesforce requires to create each object (a `create` must set them or derive them). */
export const CRM_REQUIRED_ON_CREATE: Record<CrmObjectName, readonly string[]> = {
  lead: ['LastName', 'Company'],
  contact: ['LastName'],
  account: ['Name'],
  opportunity: ['Name', 'StageName', 'CloseDate'],
};

/** A custom field's API name: letters, digits and single underscores, ending in __c. */
const CUSTOM_FIELD = /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__c$/;

/** The canonical API name of a field of `object` named case-insensitively, or null when unknown. */
export function crmFieldName(object: CrmObjectName, name: string): string | null {
  const known = CRM_FIELDS[object].find((field) => field.toLowerCase() === name.toLowerCase());
  if (known) return known;
  return CUSTOM_FIELD.test(name) ? name : null;
}

/** Facts of an email, as conditions and templates see them. Addresses are lower case. */
export const EMAIL_FACTS = [
  'from',
  'fromName',
  'fromDomain',
  'to',
  'cc',
  'subject',
  'snippet',
  'labels',
  'category',
  'hasAttachment',
  'threadId',
  'messageId',
  'date',
] as const;

/** Facts of a calendar event. */
export const EVENT_FACTS = [
  'eventId',
  'calendarId',
  'summary',
  'organizer',
  'attendees',
  'location',
  'status',
  'start',
  'end',
  'htmlLink',
] as const;

/** The variable a trigger's facts are bound to in conditions and templates (`{{email.from}}`). */
export function triggerVariable(source: TriggerSource, object?: CrmObjectName): string {
  if (source === 'email') return 'email';
  if (source === 'calendar') return 'event';
  return object!;
}

export function triggerProvider(source: TriggerSource): ProviderName {
  return source === 'email' ? 'gmail' : source === 'calendar' ? 'calendar' : 'salesforce';
}

/** The event types (lib/sync's `events.type`) a trigger listens to. */
export function triggerEventTypes(source: TriggerSource, change: string, object?: CrmObjectName): string[] {
  if (source === 'email') return ['email.received'];
  if (source === 'calendar') {
    const changes = change === 'any' ? ['created', 'updated', 'cancelled'] : [change];
    return changes.map((c) => `calendar.event.${c}`);
  }
  return [`crm.${object}.${change}`];
}

/** The tools a step can call, with the provider each needs (null: none). */
export const TOOLS = {
  noop: null,
  'email.send': 'gmail',
  'email.label': 'gmail',
  'calendar.create_event': 'calendar',
  'calendar.update_event': 'calendar',
  'calendar.cancel_event': 'calendar',
  'crm.create': 'salesforce',
  'crm.update': 'salesforce',
  'crm.batch_create': 'salesforce',
} as const satisfies Record<string, ProviderName | null>;

export type ToolName = keyof typeof TOOLS;

/**
 * Template paths a trigger offers (`{{email.from}}`, `{{lead.Email}}`), by their canonical spelling;
 * a path is matched case-insensitively. CRM paths are the object's fields plus `id` and `name`.
 */
export function templatePaths(source: TriggerSource, object?: CrmObjectName): readonly string[] {
  if (source === 'email') return EMAIL_FACTS;
  if (source === 'calendar') return EVENT_FACTS;
  return ['id', 'name', ...CRM_FIELDS[object!].filter((field) => field !== 'Id' && field !== 'Name')];
}
