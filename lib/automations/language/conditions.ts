import { Environment } from '@marcbachmann/cel-js';
import { EMAIL_FACTS, EVENT_FACTS, type TriggerSource } from './catalog';

/**
 * Conditions run as Common Expression Language: a unit's search terms compile to one typed CEL
 * expression per unit (and one per top-level term, to say which failed). CEL cannot loop, call out or
 * touch anything but the facts it is given, so evaluating a user's condition is safe; the typed
 * environment rejects a wrong field at compile time, never at match time.
 */

/** Case- and compatibility-insensitive text (NFKC folds typographic lookalikes, full-width forms). */
export function foldText(value: string): string {
  return value.normalize('NFKC').toLowerCase();
}

function textContains(haystack: string, needle: string): boolean {
  return foldText(haystack).includes(foldText(needle));
}

/** `@acme.com` matches the domain and its subdomains; anything else matches part of the address. */
function addressMatches(address: string, pattern: string): boolean {
  const value = foldText(address);
  const wanted = foldText(pattern);
  if (wanted.startsWith('@')) return value.endsWith(wanted) || value.endsWith(`.${wanted.slice(1)}`);
  return value.includes(wanted);
}

/** Gmail's category names (singular or plural) map to its CATEGORY_* labels; others are ours. */
const GMAIL_CATEGORIES: Record<string, string> = {
  primary: 'CATEGORY_PERSONAL',
  personal: 'CATEGORY_PERSONAL',
  social: 'CATEGORY_SOCIAL',
  promotion: 'CATEGORY_PROMOTIONS',
  promotions: 'CATEGORY_PROMOTIONS',
  update: 'CATEGORY_UPDATES',
  updates: 'CATEGORY_UPDATES',
  forum: 'CATEGORY_FORUMS',
  forums: 'CATEGORY_FORUMS',
};

function inCategory(category: string, labels: readonly string[], wanted: string): boolean {
  const name = foldText(wanted).replace(/s$/, '');
  if (foldText(category) === name || foldText(category) === foldText(wanted)) return true;
  const label = GMAIL_CATEGORIES[foldText(wanted)];
  return label !== undefined && labels.includes(label);
}

function hasLabel(labels: readonly string[], wanted: string): boolean {
  const name = foldText(wanted);
  return labels.some((label) => foldText(label) === name);
}

function fieldValue(fields: unknown, name: string): string {
  const value = fields instanceof Map ? fields.get(name) : (fields as Record<string, unknown> | null)?.[name];
  return value === null || value === undefined ? '' : String(value);
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);

function environment(): Environment {
  return new Environment({ limits: { maxAstNodes: 4_000, maxDepth: 64, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 4 } })
    .registerFunction('textContains(string, string): bool', textContains)
    .registerFunction('addressMatches(string, string): bool', addressMatches)
    .registerFunction('anyAddressMatches(list<string>, string): bool', (addresses: unknown, pattern: string) =>
      list(addresses).some((address) => addressMatches(address, pattern)),
    )
    .registerFunction('inCategory(string, list<string>, string): bool', (category: string, labels: unknown, wanted: string) =>
      inCategory(category, list(labels), wanted),
    )
    .registerFunction('hasLabel(list<string>, string): bool', (labels: unknown, wanted: string) => hasLabel(list(labels), wanted))
    .registerFunction('fieldContains(map<string, string>, string, string): bool', (fields: unknown, name: string, wanted: string) =>
      textContains(fieldValue(fields, name), wanted),
    );
}

const factTypes = {
  email: Object.fromEntries(
    EMAIL_FACTS.map((fact) => [fact, fact === 'to' || fact === 'cc' || fact === 'labels' ? 'list<string>' : fact === 'hasAttachment' ? 'bool' : 'string']),
  ),
  event: Object.fromEntries(EVENT_FACTS.map((fact) => [fact, fact === 'attendees' ? 'list<string>' : 'string'])),
  record: { id: 'string', name: 'string', fields: 'map<string, string>' },
};

const environments = new Map<string, Environment>();

/** The typed environment of a trigger: its facts bound to `email`, `event` or the CRM object's name. */
export function conditionEnvironment(source: TriggerSource, variable: string): Environment {
  const key = `${source}:${variable}`;
  let env = environments.get(key);
  if (!env) {
    const schema = source === 'email' ? factTypes.email : source === 'calendar' ? factTypes.event : factTypes.record;
    env = environment().registerVariable({ name: variable, schema });
    environments.set(key, env);
  }
  return env;
}

type Evaluator = (context: Record<string, unknown>) => unknown;
const parsed = new Map<string, Evaluator>();
const MAX_PARSED = 20_000;

/** A CEL expression parsed once per process (the same unit matches many events). */
export function evaluator(env: Environment, envKey: string, cel: string): Evaluator {
  const key = `${envKey}\u0000${cel}`;
  let fn = parsed.get(key);
  if (!fn) {
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
    fn = env.parse(cel) as unknown as Evaluator;
    parsed.set(key, fn);
  }
  return fn;
}

/** A CEL string literal: JSON's escapes are CEL's. */
export const celString = (value: string): string => JSON.stringify(value);
