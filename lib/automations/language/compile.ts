import {
  CRM_OBJECT_API_NAMES,
  CRM_REQUIRED_ON_CREATE,
  TOOLS,
  crmFieldName,
  templatePaths,
  triggerEventTypes,
  triggerProvider,
  triggerVariable,
  type CrmObjectName,
  type ProviderName,
  type ToolName,
  type TriggerSource,
} from './catalog';
import { celString, conditionEnvironment, foldText } from './conditions';
import { parse, SyntaxError as GrammarSyntaxError } from './parser.js';

/**
 * The compiler of unit prompts: parse (grammar.peggy) → check (fields, templates, tools) → a compiled
 * unit that matching and running use. Nothing at run time reads the prompt again.
 */

export interface Position {
  line: number;
  column: number;
}

/** A prompt that does not compile; `message` is what the API answers. */
export class CompileError extends Error {
  readonly code = 'invalid_compilation';
  constructor(
    readonly reason: string,
    readonly position: Position,
  ) {
    super(`Invalid compilation: ${reason} at ${position.line}:${position.column}`);
    this.name = 'CompileError';
  }
}

export interface CompiledCondition {
  /** The CEL expression over the trigger's variable. */
  cel: string;
  /** The prompt's words for it, to explain a miss. */
  text: string;
}

export interface CompiledStep {
  tool: ToolName;
  /** The tool's input; strings may hold checked templates (`{{email.from}}`). */
  args: Record<string, unknown>;
  text: string;
}

export interface CompiledUnit {
  version: 1;
  trigger: {
    source: TriggerSource;
    object?: CrmObjectName;
    change: string;
    eventTypes: string[];
    variable: string;
    provider: ProviderName;
  };
  /** All conditions as one expression; null when the trigger alone decides. */
  condition: CompiledCondition | null;
  /** The top-level conditions in order, so a miss can name the first that failed. */
  conjuncts: CompiledCondition[];
  steps: CompiledStep[];
  /** Every provider the trigger and the steps need a connection to. */
  providers: ProviderName[];
}

export interface CompileOptions {
  maxPromptLength: number;
  maxSteps: number;
}

const DEFAULT_OPTIONS: CompileOptions = { maxPromptLength: 2_000, maxSteps: 10 };

interface Located {
  location: { start: Position };
}
type ConditionNode =
  | ({ type: 'term'; field: string | null; value: string; text: string } & Located)
  | ({ type: 'and' | 'or'; items: ConditionNode[]; text: string } & Located)
  | ({ type: 'not'; item: ConditionNode; text: string } & Located);

interface TriggerNode extends Located {
  source: TriggerSource;
  object?: CrmObjectName;
  change: string;
  condition: ConditionNode | null;
}

type ActionNode = Located & { text: string } & (
    | { verb: 'nothing' }
    | { verb: 'label'; label: string }
    | { verb: 'reply'; body: string }
    | { verb: 'send'; to: string; parts: ({ name: 'subject' | 'body' | 'cc' | 'bcc'; value: string } & Located)[] }
    | { verb: 'create' | 'update'; object: CrmObjectName; fields: ({ name: string; value: string } & Located)[] }
  );

export function compilePrompt(prompt: string, options: CompileOptions = DEFAULT_OPTIONS): CompiledUnit {
  if (prompt.length > options.maxPromptLength) {
    throw new CompileError(`the prompt is ${prompt.length} characters; at most ${options.maxPromptLength} are allowed`, { line: 1, column: 1 });
  }
  let tree: { trigger: TriggerNode; actions: ActionNode[] };
  try {
    tree = parse(prompt) as typeof tree;
  } catch (error) {
    if (error instanceof GrammarSyntaxError) {
      throw new CompileError(describeSyntaxError(error), error.location.start);
    }
    throw error;
  }
  const { trigger } = tree;
  const variable = triggerVariable(trigger.source, trigger.object);
  const compiler = new ConditionCompiler(trigger, variable);
  const condition = trigger.condition ? { cel: compiler.compile(trigger.condition), text: trigger.condition.text } : null;
  const conjuncts = !trigger.condition
    ? []
    : trigger.condition.type === 'and'
      ? trigger.condition.items.map((item) => ({ cel: compiler.compile(item), text: item.text }))
      : [condition!];
  if (condition) checkCel(trigger, variable, condition.cel);

  if (tree.actions.length > options.maxSteps) {
    throw new CompileError(`a unit has at most ${options.maxSteps} actions; this one has ${tree.actions.length}`, tree.actions[options.maxSteps]!.location.start);
  }
  const steps = tree.actions.map((action) => compileAction(action, trigger, variable));
  const providers = new Set<ProviderName>([triggerProvider(trigger.source)]);
  for (const step of steps) {
    const provider = TOOLS[step.tool];
    if (provider) providers.add(provider);
  }
  return {
    version: 1,
    trigger: {
      source: trigger.source,
      ...(trigger.object ? { object: trigger.object } : {}),
      change: trigger.change,
      eventTypes: triggerEventTypes(trigger.source, trigger.change, trigger.object),
      variable,
      provider: triggerProvider(trigger.source),
    },
    condition,
    conjuncts,
    steps,
    providers: [...providers],
  };
}

function describeSyntaxError(error: InstanceType<typeof GrammarSyntaxError>): string {
  // peggy's own message for a failed expectation lists every token it could take; say it plainly.
  if (!error.expected) return error.message;
  const found = error.found === null ? 'the end of the prompt' : JSON.stringify(error.found);
  const wanted = [...new Set(error.expected.map((e) => ('text' in e ? `"${e.text}"` : e.type === 'end' ? 'the end' : e.type === 'class' ? null : (e as { description?: string }).description ?? null)).filter((e): e is string => e !== null))];
  return wanted.length > 0 ? `expected ${wanted.slice(0, 6).join(', ')} but found ${found}` : `unexpected ${found}`;
}

const EMAIL_FIELDS = ['from', 'to', 'cc', 'subject', 'label', 'category', 'has', 'is'];
const EVENT_FIELDS = ['organizer', 'attendee', 'summary', 'title', 'location', 'status'];

class ConditionCompiler {
  constructor(
    private readonly trigger: TriggerNode,
    private readonly variable: string,
  ) {}

  compile(node: ConditionNode): string {
    switch (node.type) {
      case 'and':
        return node.items.map((item) => `(${this.compile(item)})`).join(' && ');
      case 'or':
        return node.items.map((item) => `(${this.compile(item)})`).join(' || ');
      case 'not':
        return `!(${this.compile(node.item)})`;
      case 'term':
        return this.term(node);
    }
  }

  private term(node: Extract<ConditionNode, { type: 'term' }>): string {
    const v = this.variable;
    if (node.value === '') throw new CompileError(`the condition ${node.text} has no value`, node.location.start);
    // Compared folded (NFKC, lower case): the facts are folded once per event at match time. CEL's own
    // string methods and `in` evaluate several times faster than custom functions.
    const folded = foldText(node.value);
    const value = celString(folded);
    const contains = (fact: string) => `${v}.${fact}.contains(${value})`;
    const address = (fact: string) =>
      folded.startsWith('@')
        ? `(${v}.${fact}.endsWith(${value}) || ${v}.${fact}.endsWith(${celString(`.${folded.slice(1)}`)}))`
        : `${v}.${fact}.contains(${value})`;
    const anyAddress = (fact: string) =>
      folded.startsWith('@')
        ? `${v}.${fact}.exists(a, a.endsWith(${value}) || a.endsWith(${celString(`.${folded.slice(1)}`)}))`
        : `${v}.${fact}.exists(a, a.contains(${value}))`;
    if (this.trigger.source === 'email') {
      switch (node.field) {
        case null:
          return `${contains('subject')} || ${contains('snippet')}`;
        case 'from':
          // An address (or a domain) is matched on the address; a name on either, as Gmail does.
          return folded.includes('@') ? address('from') : `${address('from')} || ${contains('fromName')}`;
        case 'to':
        case 'cc':
          return anyAddress(node.field);
        case 'subject':
          return contains('subject');
        case 'label':
          return `${value} in ${v}.labels`;
        case 'category': {
          const singular = folded.replace(/s$/, '');
          const label = GMAIL_CATEGORY_LABELS[folded];
          const ours = [...new Set([folded, singular])].map((c) => `${v}.category == ${celString(c)}`);
          return [...ours, ...(label ? [`${celString(label)} in ${v}.labels`] : [])].join(' || ');
        }
        case 'has':
          if (folded === 'attachment') return `${v}.hasAttachment`;
          throw new CompileError(`has: takes "attachment", not ${JSON.stringify(node.value)}`, node.location.start);
        case 'is': {
          const label = { unread: 'unread', starred: 'starred', important: 'important' }[folded];
          if (label) return `${celString(label)} in ${v}.labels`;
          throw new CompileError(`is: takes unread, starred or important, not ${JSON.stringify(node.value)}`, node.location.start);
        }
        default:
          throw new CompileError(`unknown condition ${node.field}: for email (use ${EMAIL_FIELDS.map((f) => `${f}:`).join(', ')})`, node.location.start);
      }
    }
    if (this.trigger.source === 'calendar') {
      switch (node.field) {
        case null:
          return `${contains('summary')} || ${contains('location')}`;
        case 'organizer':
          return address('organizer');
        case 'attendee':
          return anyAddress('attendees');
        case 'summary':
        case 'title':
          return contains('summary');
        case 'location':
        case 'status':
          return contains(node.field);
        default:
          throw new CompileError(`unknown condition ${node.field}: for calendar events (use ${EVENT_FIELDS.map((f) => `${f}:`).join(', ')})`, node.location.start);
      }
    }
    const object = this.trigger.object!;
    if (node.field === null) return contains('name');
    const field = crmFieldName(object, node.field);
    if (!field) {
      throw new CompileError(`unknown field ${node.field} of ${object} (known: ${templatePaths('crm', object).join(', ')}, or a custom field ending in __c)`, node.location.start);
    }
    const name = celString(field);
    return `(${name} in ${v}.fields && ${v}.fields[${name}].contains(${value}))`;
  }
}

/** Gmail's category names (singular or plural), folded, to its CATEGORY_* labels, folded. */
const GMAIL_CATEGORY_LABELS: Record<string, string> = {
  primary: 'category_personal',
  personal: 'category_personal',
  social: 'category_social',
  promotion: 'category_promotions',
  promotions: 'category_promotions',
  update: 'category_updates',
  updates: 'category_updates',
  forum: 'category_forums',
  forums: 'category_forums',
};

function checkCel(trigger: TriggerNode, variable: string, cel: string): void {
  const result = conditionEnvironment(trigger.source, variable).check(cel) as { valid: boolean; error?: Error };
  // The compiler writes only well-typed expressions; a failure here is a compiler defect, said plainly.
  if (!result.valid) throw new Error(`the condition compiled to an ill-typed expression: ${result.error?.message.split('\n')[0]}`);
}

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** Checks every `{{path}}` in a value against the trigger's facts and writes it in canonical case. */
function checkTemplates(value: string, trigger: TriggerNode, variable: string, at: Position): string {
  return value.replace(TEMPLATE, (_whole, path: string) => {
    const [name, field, ...rest] = path.split('.');
    const offered = templatePaths(trigger.source, trigger.object);
    if (name?.toLowerCase() !== variable || !field || rest.length > 0) {
      throw new CompileError(`unknown template {{${path}}}: this trigger offers ${offered.map((p) => `{{${variable}.${p}}}`).join(', ')}`, at);
    }
    const canonical = offered.find((p) => p.toLowerCase() === field.toLowerCase());
    if (!canonical) {
      throw new CompileError(`unknown template {{${path}}}: this trigger offers ${offered.map((p) => `{{${variable}.${p}}}`).join(', ')}`, at);
    }
    return `{{${variable}.${canonical}}}`;
  });
}

const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

function checkAddress(value: string, what: string, at: Position): void {
  if (value.includes('{{')) return;
  for (const address of value.split(',').map((a) => a.trim())) {
    if (!ADDRESS.test(address)) throw new CompileError(`${what} ${JSON.stringify(address)} is not an email address`, at);
  }
}

function compileAction(action: ActionNode, trigger: TriggerNode, variable: string): CompiledStep {
  const at = action.location.start;
  const tmpl = (value: string, where: Position = at) => checkTemplates(value, trigger, variable, where);
  const needsEmailTrigger = (verb: string) => {
    if (trigger.source !== 'email') throw new CompileError(`${verb} needs an email trigger`, at);
  };
  switch (action.verb) {
    case 'nothing':
      return { tool: 'noop', args: {}, text: action.text };
    case 'label':
      needsEmailTrigger('label');
      return { tool: 'email.label', args: { threadId: `{{email.threadId}}`, label: tmpl(action.label) }, text: action.text };
    case 'reply':
      needsEmailTrigger('reply');
      return {
        tool: 'email.send',
        args: { to: ['{{email.from}}'], subject: 'Re: {{email.subject}}', text: tmpl(action.body), threadId: '{{email.threadId}}' },
        text: action.text,
      };
    case 'send': {
      const to = tmpl(action.to);
      checkAddress(to, 'send email to', at);
      const part = (name: string) => action.parts.find((p) => p.name === name);
      const subject = part('subject');
      if (!subject) throw new CompileError('send email needs a subject ("subject \\"...\\"")', at);
      const args: Record<string, unknown> = { to: [to], subject: tmpl(subject.value, subject.location.start), text: tmpl(part('body')?.value ?? '') };
      for (const name of ['cc', 'bcc'] as const) {
        const value = part(name);
        if (value) {
          const rendered = tmpl(value.value, value.location.start);
          checkAddress(rendered, name, value.location.start);
          args[name] = [rendered];
        }
      }
      return { tool: 'email.send', args, text: action.text };
    }
    case 'create':
    case 'update': {
      const fields: Record<string, string> = {};
      for (const assignment of action.fields) {
        const name = crmFieldName(action.object, assignment.name);
        if (!name || name === 'Id') {
          throw new CompileError(`unknown field ${assignment.name} of ${action.object}`, assignment.location.start);
        }
        fields[name] = tmpl(assignment.value, assignment.location.start);
      }
      const sobject = CRM_OBJECT_API_NAMES[action.object];
      if (action.verb === 'update') {
        if (trigger.source !== 'crm' || trigger.object !== action.object) {
          throw new CompileError(`update ${action.object} needs a ${action.object} trigger (it updates the record that triggered the unit)`, at);
        }
        return { tool: 'crm.update', args: { object: sobject, id: `{{${variable}.id}}`, fields }, text: action.text };
      }
      if (trigger.source === 'email' && (action.object === 'lead' || action.object === 'contact')) {
        fields.LastName ??= '{{email.fromName}}';
        fields.Email ??= '{{email.from}}';
        if (action.object === 'lead') fields.Company ??= '{{email.fromDomain}}';
      }
      const missing = CRM_REQUIRED_ON_CREATE[action.object].filter((field) => fields[field] === undefined);
      if (missing.length > 0) {
        throw new CompileError(`create ${action.object} needs ${missing.join(', ')} (add ${missing.map((f) => `${f}:"..."`).join(' ')})`, at);
      }
      return { tool: 'crm.create', args: { object: sobject, fields }, text: action.text };
    }
  }
}
