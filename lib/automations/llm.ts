import { z } from 'zod';
import { config } from '../config';
import { DomainError } from '../errors';

/**
 * Free prose to the unit language, through an OpenAI-compatible chat endpoint (Groq, OpenAI, a local
 * server) when AUTOMATIONS_LLM_BASE_URL is set. The model only proposes: its answer is compiled and
 * checked like a prompt a person wrote, and nothing runs that the compiler did not accept.
 */

export const LANGUAGE_GUIDE = `You translate a user's automation request into switchyard's unit language. Answer with ONE line, the unit, nothing else.
Grammar: when: <trigger> <conditions> then: <action>[, <action>...]
Triggers: "email" | "calendar event [created|updated|cancelled]" | "<lead|contact|account|opportunity> <created|updated|deleted>".
Email conditions (Gmail search operators): from:<address or @domain> to: cc: subject:<word or "phrase"> label:<name> category:<primary|social|promotions|updates|forums|billing|support|security> has:attachment is:unread, negation with -, OR, parentheses; a bare word matches subject or snippet.
Calendar conditions: organizer: attendee: summary: location: status:. CRM conditions: <FieldName>:<value> (Status:Open Company:Acme).
Actions: do nothing | label <name> | reply "<text>" | send email to <address or {{template}}> subject "<text>" [body "<text>"] | create <lead|contact|account|opportunity> [Field:"value" ...] | update <object> Field:"value".
Templates: {{email.from}} {{email.fromName}} {{email.subject}} {{event.organizer}} {{event.summary}} {{lead.Email}} {{lead.FirstName}} ...
Example: when: email from:billing@acme.com subject:invoice -category:promotions then: label Invoices, create lead`;

const completionSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable().optional() }) })).min(1),
});

/** The unit the configured model proposes for `prose`, or null when no model is configured. */
export async function proposePrompt(prose: string): Promise<string | null> {
  const settings = config();
  if (!settings.AUTOMATIONS_LLM_BASE_URL) return null;
  const url = new URL('chat/completions', settings.AUTOMATIONS_LLM_BASE_URL.endsWith('/') ? settings.AUTOMATIONS_LLM_BASE_URL : `${settings.AUTOMATIONS_LLM_BASE_URL}/`);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(settings.AUTOMATIONS_LLM_API_KEY ? { authorization: `Bearer ${settings.AUTOMATIONS_LLM_API_KEY}` } : {}),
      },
      body: JSON.stringify({
        model: settings.AUTOMATIONS_LLM_MODEL,
        temperature: 0,
        messages: [
          { role: 'system', content: LANGUAGE_GUIDE },
          { role: 'user', content: prose },
        ],
      }),
      signal: AbortSignal.timeout(settings.AUTOMATIONS_LLM_TIMEOUT_MS),
    });
  } catch {
    throw new DomainError('dependency_unavailable', 'the configured LLM did not answer; write the unit in the language instead');
  }
  const body = completionSchema.safeParse(await response.json().catch(() => null));
  if (!response.ok || !body.success) {
    throw new DomainError('dependency_unavailable', `the configured LLM answered ${response.status} without a proposal; write the unit in the language instead`);
  }
  const content = body.data.choices[0]!.message.content ?? '';
  // Models like to wrap answers in code fences or add a sentence: keep the unit line.
  const line = content
    .replace(/```[a-z]*\n?/gi, '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /^when\b/i.test(l));
  return line ?? content.trim();
}
