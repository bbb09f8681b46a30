import type { CompiledUnit } from './compile';
import { evaluator, foldFacts, matchEnvironment } from './conditions';

/** The facts of one event as the trigger's variable sees them (built by lib/automations/facts.ts). */
export type Facts = Record<string, unknown>;

/** Facts folded for comparison (once per event, whatever the number of units). */
class FoldedFacts {
  constructor(readonly folded: unknown) {}
}
export type MatchFacts = FoldedFacts;

export function matchFacts(facts: Facts): MatchFacts {
  return new FoldedFacts(foldFacts(facts));
}

/** Parsed conditions per compiled unit object: a batch evaluates the same units for many events. */
const parsedByUnit = new WeakMap<CompiledUnit, Map<string, (context: Record<string, unknown>) => unknown>>();

function run(unit: CompiledUnit, cel: string, facts: MatchFacts): boolean {
  let fns = parsedByUnit.get(unit);
  if (!fns) {
    fns = new Map();
    parsedByUnit.set(unit, fns);
  }
  let fn = fns.get(cel);
  if (!fn) {
    fn = evaluator(matchEnvironment, 'match', cel);
    fns.set(cel, fn);
  }
  return fn({ [unit.trigger.variable]: facts.folded }) === true;
}

const asMatchFacts = (facts: Facts | MatchFacts): MatchFacts => (facts instanceof FoldedFacts ? facts : matchFacts(facts as Facts));

/** Whether an event of one of the trigger's types matches the unit's conditions. */
export function matchesUnit(unit: CompiledUnit, eventType: string, facts: Facts | MatchFacts): boolean {
  if (!unit.trigger.eventTypes.includes(eventType)) return false;
  return unit.condition === null || run(unit, unit.condition.cel, asMatchFacts(facts));
}

export type Explanation = { matches: true } | { matches: false; reason: string };

/** Why a unit would or would not run for an event: the trigger, else the first condition that failed. */
export function explainMatch(unit: CompiledUnit, eventType: string, raw: Facts | MatchFacts): Explanation {
  const facts = asMatchFacts(raw);
  if (!unit.trigger.eventTypes.includes(eventType)) {
    return { matches: false, reason: `the trigger listens to ${unit.trigger.eventTypes.join(', ')}, not ${eventType}` };
  }
  if (unit.condition === null || run(unit, unit.condition.cel, facts)) return { matches: true };
  const failed = unit.conjuncts.find((conjunct) => !run(unit, conjunct.cel, facts));
  return { matches: false, reason: `condition failed: ${failed?.text ?? unit.condition.text}` };
}

const TEMPLATE = /\{\{([a-z]+)\.([A-Za-z0-9_]+)\}\}/g;

/**
 * Fills a compiled step's templates from the facts. Paths were checked at compile time; a fact that is
 * absent for this event renders empty. A list renders comma-separated.
 */
export function renderTemplates<T>(value: T, variable: string, facts: Facts): T {
  if (typeof value === 'string') {
    return value.replace(TEMPLATE, (_whole, name: string, path: string) => {
      if (name !== variable) return '';
      const fields = facts.fields as Record<string, unknown> | undefined;
      const raw = Object.hasOwn(facts, path) ? facts[path] : fields && Object.hasOwn(fields, path) ? fields[path] : undefined;
      if (raw === null || raw === undefined) return '';
      return Array.isArray(raw) ? raw.join(', ') : String(raw);
    }) as T;
  }
  if (Array.isArray(value)) return value.map((item) => renderTemplates(item, variable, facts)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderTemplates(item, variable, facts)])) as T;
  }
  return value;
}
