import { Hono } from 'hono';

/**
 * A stand-in for an OpenAI-compatible chat completions endpoint (Groq, OpenAI), so that automations'
 * prose-to-unit path runs offline. Its "model" is a few deterministic rules over the user's words
 * (an address, a subject word, an action), enough to exercise the path: switchyard compiles and checks
 * whatever it answers, as it would a real model's answer. A request mentioning "gibberish" is answered
 * with a unit that does not compile, to show that a model's bad proposal is refused.
 */
export const LLM_PATH = '/llm/v1';

export function proposeUnit(prose: string): string {
  const text = prose.toLowerCase();
  if (text.includes('gibberish')) return 'when: weather is sunny then: go outside';
  const conditions: string[] = [];
  const address = prose.match(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/);
  const domain = prose.match(/(?:^|\s)@([\w-]+(?:\.[\w-]+)+)/);
  if (address) conditions.push(`from:${address[0]}`);
  else if (domain) conditions.push(`from:@${domain[1]}`);
  const about = text.match(/about (?:an? |the )?([a-z]+)/);
  if (about) conditions.push(`subject:${about[1]}`);
  const actions: string[] = [];
  const label = prose.match(/label (?:it )?(?:as )?"?([A-Za-z][\w-]*)"?/i);
  if (label) actions.push(`label ${label[1]}`);
  if (/create (?:a )?lead/.test(text)) actions.push('create lead');
  return `when: email ${conditions.join(' ')} then: ${actions.length > 0 ? actions.join(', ') : 'do nothing'}`.replace(/\s+/g, ' ');
}

export function llmRoutes(): Hono {
  const app = new Hono();
  app.post(`${LLM_PATH}/chat/completions`, async (c) => {
    if (!c.req.header('authorization')?.startsWith('Bearer ')) {
      return c.json({ error: { message: 'Invalid API Key', type: 'invalid_request_error', code: 'invalid_api_key' } }, 401);
    }
    const body = (await c.req.json().catch(() => null)) as { model?: string; messages?: { role: string; content: string }[] } | null;
    const user = body?.messages?.filter((m) => m.role === 'user').at(-1)?.content;
    if (!body?.model || typeof user !== 'string') {
      return c.json({ error: { message: "'messages' must contain a user message", type: 'invalid_request_error' } }, 400);
    }
    return c.json({
      id: `chatcmpl-sandbox-${Date.now()}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [{ index: 0, message: { role: 'assistant', content: proposeUnit(user) }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  });
  return app;
}
