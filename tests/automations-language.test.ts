import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompileError, compilePrompt } from '../lib/automations/language/compile';
import { explainMatch, matchesUnit, renderTemplates } from '../lib/automations/language/evaluate';

const email = (overrides: Record<string, unknown> = {}) => ({
  from: 'billing@acme.com',
  fromName: 'Acme Billing',
  fromDomain: 'acme.com',
  to: ['me@example.com'],
  cc: [],
  subject: 'Your invoice #1234',
  snippet: 'Please find attached',
  labels: ['INBOX', 'UNREAD'],
  category: 'billing',
  hasAttachment: true,
  threadId: 't1',
  messageId: 'm1',
  date: '2026-12-01T10:00:00.000Z',
  ...overrides,
});

function compileError(prompt: string): CompileError {
  try {
    compilePrompt(prompt);
  } catch (error) {
    expect(error).toBeInstanceOf(CompileError);
    return error as CompileError;
  }
  throw new Error(`expected ${JSON.stringify(prompt)} not to compile`);
}

describe('automation language: the issue’s prompts compile', () => {
  it('seed 002’s first flow: an email from an address, then nothing', () => {
    const unit = compilePrompt('when: email from test@test.com then: do nothing');
    expect(unit.trigger).toMatchObject({ source: 'email', eventTypes: ['email.received'], variable: 'email', provider: 'gmail' });
    expect(unit.steps).toEqual([{ tool: 'noop', args: {}, text: 'do nothing' }]);
    expect(unit.providers).toEqual(['gmail']);
    expect(matchesUnit(unit, 'email.received', email({ from: 'test@test.com' }))).toBe(true);
    expect(matchesUnit(unit, 'email.received', email({ from: 'other@test.org', fromName: 'Other' }))).toBe(false);
  });

  it('Gmail operators with negation; label and create lead derive their fields from the email', () => {
    const unit = compilePrompt('when: email from:billing@acme.com subject:invoice -category:promotion then: label Invoices, create lead');
    expect(unit.conjuncts.map((c) => c.text)).toEqual(['from:billing@acme.com', 'subject:invoice', '-category:promotion']);
    expect(unit.steps.map((s) => s.tool)).toEqual(['email.label', 'crm.create']);
    expect(unit.steps[1]!.args).toEqual({
      object: 'Lead',
      fields: { LastName: '{{email.fromName}}', Email: '{{email.from}}', Company: '{{email.fromDomain}}' },
    });
    expect(unit.providers.sort()).toEqual(['gmail', 'salesforce']);
    expect(matchesUnit(unit, 'email.received', email())).toBe(true);
    // Gmail's own category label counts, as does switchyard's classification.
    expect(matchesUnit(unit, 'email.received', email({ labels: ['CATEGORY_PROMOTIONS'] }))).toBe(false);
    expect(matchesUnit(unit, 'email.received', email({ category: 'promotion' }))).toBe(false);
    expect(explainMatch(unit, 'email.received', email({ subject: 'Hello' }))).toEqual({ matches: false, reason: 'condition failed: subject:invoice' });
  });

  it('a calendar cancellation by a domain’s organizer sends a templated email', () => {
    const unit = compilePrompt('when: calendar event cancelled organizer:@acme.com then: send email to {{event.organizer}} subject "Sorry to miss it"');
    expect(unit.trigger.eventTypes).toEqual(['calendar.event.cancelled']);
    expect(unit.steps[0]).toMatchObject({ tool: 'email.send', args: { to: ['{{event.organizer}}'], subject: 'Sorry to miss it' } });
    expect(unit.providers.sort()).toEqual(['calendar', 'gmail']);
    const event = { organizer: 'ceo@sales.acme.com', summary: 'Sync', attendees: [], location: '', status: 'cancelled' };
    expect(matchesUnit(unit, 'calendar.event.cancelled', event)).toBe(true);
    expect(matchesUnit(unit, 'calendar.event.cancelled', { ...event, organizer: 'ceo@notacme.com' })).toBe(false);
    expect(matchesUnit(unit, 'calendar.event.updated', event)).toBe(false);
    expect(renderTemplates(unit.steps[0]!.args, 'event', event)).toMatchObject({ to: ['ceo@sales.acme.com'] });
  });

  it('a CRM trigger takes field conditions and its templates name the object’s fields', () => {
    const unit = compilePrompt('when: lead created status:Open company:Acme then: send email to {{lead.email}} subject "Welcome" body "Hi {{lead.firstname}}"');
    expect(unit.trigger).toMatchObject({ source: 'crm', object: 'lead', eventTypes: ['crm.lead.created'], provider: 'salesforce' });
    expect(unit.steps[0]!.args).toMatchObject({ to: ['{{lead.Email}}'], text: 'Hi {{lead.FirstName}}' });
    const lead = { id: '00Q1', name: 'Ada Lovelace', fields: { Status: 'Open - Not Contacted', Company: 'Acme Corp', Email: 'ada@acme.com', FirstName: 'Ada' } };
    expect(matchesUnit(unit, 'crm.lead.created', lead)).toBe(true);
    expect(matchesUnit(unit, 'crm.lead.created', { ...lead, fields: { ...lead.fields, Status: 'Closed' } })).toBe(false);
    expect(renderTemplates(unit.steps[0]!.args, 'lead', lead)).toMatchObject({ to: ['ada@acme.com'], text: 'Hi Ada' });
  });
});

describe('automation language: conditions', () => {
  it('OR, parentheses and typographic text are matched as a person reads them', () => {
    const unit = compilePrompt('when: email (from:@a.com OR from:@b.com) subject:"don’t miss" has:attachment then: do nothing');
    expect(matchesUnit(unit, 'email.received', email({ from: 'x@b.com', subject: "Don't MISS this" }))).toBe(false);
    expect(matchesUnit(unit, 'email.received', email({ from: 'x@b.com', subject: 'Don’t MISS this' }))).toBe(true);
    expect(matchesUnit(unit, 'email.received', email({ from: 'x@c.com', subject: 'Don’t miss' }))).toBe(false);
    expect(matchesUnit(unit, 'email.received', email({ from: 'x@a.com', subject: 'Don’t miss', hasAttachment: false }))).toBe(false);
  });

  it('a free word matches the subject or the snippet; is:unread reads the labels', () => {
    const unit = compilePrompt('when: email urgent is:unread then: do nothing');
    expect(matchesUnit(unit, 'email.received', email({ snippet: 'this is URGENT' }))).toBe(true);
    expect(matchesUnit(unit, 'email.received', email({ snippet: 'this is URGENT', labels: ['INBOX'] }))).toBe(false);
  });

  it('keywords are case-insensitive, and a prompt may span lines', () => {
    const unit = compilePrompt('WHEN: Email\n  From: x@y.com\nTHEN:\n  Do Nothing');
    expect(matchesUnit(unit, 'email.received', email({ from: 'x@y.com' }))).toBe(true);
  });

  it('matching is total: any facts give true or false, never an exception', () => {
    const unit = compilePrompt('when: email from:a subject:b -label:c (to:d OR cc:e) then: do nothing');
    fc.assert(
      fc.property(
        fc.record({ from: fc.string(), fromName: fc.string(), subject: fc.string(), snippet: fc.string(), labels: fc.array(fc.string()), to: fc.array(fc.string()), cc: fc.array(fc.string()), category: fc.string(), hasAttachment: fc.boolean() }),
        (facts) => typeof matchesUnit(unit, 'email.received', email(facts)) === 'boolean',
      ),
      { numRuns: 300 },
    );
  });
});

describe('automation language: errors say what and where', () => {
  it.each([
    ['when: something', /^Invalid compilation: unknown trigger "something".* at 1:7$/],
    ['when: email from:a@b.com', /^Invalid compilation: expected .*"then".* but found the end of the prompt at 1:25$/],
    ['when: email nope:1 then: do nothing', /^Invalid compilation: unknown condition nope: for email .* at 1:13$/],
    ['when: lead created colour:red then: do nothing', /^Invalid compilation: unknown field colour of lead .* at 1:20$/],
    ['when: email from:a then: dance', /^Invalid compilation: unknown action "dance".* at 1:26$/],
    ['when: email then: send email to {{email.nope}} subject "x"', /^Invalid compilation: unknown template \{\{email.nope\}\}.* at 1:19$/],
    ['when: email then: send email to {{lead.email}} subject "x"', /^Invalid compilation: unknown template \{\{lead.email\}\}.* at 1:19$/],
    ['when: email then: send email to not-an-address subject "x"', /not an email address at 1:19$/],
    ['when: email then: send email to a@b.com', /^Invalid compilation: send email needs a subject .* at 1:19$/],
    ['when: calendar event then: label X', /^Invalid compilation: label needs an email trigger at 1:28$/],
    ['when: calendar event then: create lead', /^Invalid compilation: create lead needs LastName, Company .* at 1:28$/],
    ['when: email then: update lead Status:Working', /update lead needs a lead trigger .* at 1:19$/],
    ['when: email has:nothing then: do nothing', /has: takes "attachment"/],
    ['when: email\nfrom:a\n  then: create account Colour__x:1', /unknown field Colour__x of account at 3:24$/],
  ])('%j', (prompt, expected) => {
    expect(compileError(prompt).message).toMatch(expected);
  });

  it('bounds the prompt length and the number of actions', () => {
    expect(compileError(`when: email ${'x '.repeat(1_000)} then: do nothing`).message).toMatch(/at most 2000 are allowed at 1:1$/);
    expect(compileError(`when: email then: ${Array(11).fill('do nothing').join(', ')}`).message).toMatch(/at most 10 actions/);
  });

  it('never throws anything but a CompileError on arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `when: email ${s} then: do nothing`), fc.string().map((s) => `when: email then: ${s}`)), (prompt) => {
        try {
          compilePrompt(prompt);
        } catch (error) {
          return error instanceof CompileError && /at \d+:\d+$/.test(error.message);
        }
        return true;
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('automation language: the committed parser', () => {
  it('is what grammar.peggy generates (npm run build:grammar)', () => {
    const generated = execFileSync(
      process.execPath,
      ['node_modules/peggy/bin/peggy.js', '--format', 'es', '--allowed-start-rules', 'Prompt', '-o', '-', 'lib/automations/language/grammar.peggy'],
      { encoding: 'utf8' },
    );
    expect(generated).toBe(readFileSync('lib/automations/language/parser.js', 'utf8'));
  });
});
