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

/**
 * Facts as conditions compare them: every string value folded (keys kept: a CRM field is looked up by
 * its API name). Templates still read the facts as they were.
 */
export function foldFacts(value: unknown): unknown {
  if (typeof value === 'string') return foldText(value);
  if (Array.isArray(value)) return value.map(foldFacts);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, foldFacts(item)]));
  }
  return value;
}

function environment(options: { dynamic: boolean }): Environment {
  return new Environment({
    unlistedVariablesAreDyn: options.dynamic,
    limits: { maxAstNodes: 4_000, maxDepth: 64, maxListElements: 100, maxMapEntries: 100, maxCallArguments: 4 },
  });
}

const factTypes = {
  email: Object.fromEntries(
    EMAIL_FACTS.map((fact) => [fact, fact === 'to' || fact === 'cc' || fact === 'labels' ? 'list<string>' : fact === 'hasAttachment' ? 'bool' : 'string']),
  ),
  event: Object.fromEntries(EVENT_FACTS.map((fact) => [fact, fact === 'attendees' ? 'list<string>' : 'string'])),
  record: { id: 'string', name: 'string', fields: 'map<string, string>' },
};

const environments = new Map<string, Environment>();

/**
 * The typed environment of a trigger, its facts bound to `email`, `event` or the CRM object's name: the
 * compiler checks every condition against it, so a wrong field is refused when the unit is saved.
 */
export function conditionEnvironment(source: TriggerSource, variable: string): Environment {
  const key = `${source}:${variable}`;
  let env = environments.get(key);
  if (!env) {
    const schema = source === 'email' ? factTypes.email : source === 'calendar' ? factTypes.event : factTypes.record;
    env = environment({ dynamic: false }).registerVariable({ name: variable, schema });
    environments.set(key, env);
  }
  return env;
}

/**
 * Where checked conditions are evaluated: the same functions, the facts passed as they are. The types
 * were proved at compile time and facts always have them (lib/automations/facts.ts), so converting
 * each event into typed objects for every unit would only cost time.
 */
export const matchEnvironment = environment({ dynamic: true });

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
