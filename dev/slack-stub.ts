import { createServer, type Server } from 'node:http';

/**
 * A local Slack for the alerts: an incoming webhook (`POST /webhook`) and the Web API's
 * `POST /api/chat.postMessage` (bearer token and channel checked as Slack checks them). It keeps every
 * message; `failNext(n)` makes the next n posts fail as Slack does when it is down.
 */
export interface SlackMessage {
  via: 'webhook' | 'chat.postMessage';
  channel: string | null;
  text: string;
}

export interface SlackStub {
  url: string;
  webhookUrl: string;
  /** For SLACK_API_URL. */
  apiUrl: string;
  messages: SlackMessage[];
  failNext(count: number): void;
  close(): Promise<void>;
}

export async function startSlackStub(options: { botToken?: string } = {}): Promise<SlackStub> {
  const messages: SlackMessage[] = [];
  let failures = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: { text?: string; channel?: string } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        // answered below as Slack answers a malformed payload
      }
      if (request.method === 'POST' && request.url === '/webhook') {
        if (failures > 0) {
          failures -= 1;
          response.writeHead(500, { 'content-type': 'text/plain' }).end('internal_error');
          return;
        }
        if (!body.text) {
          response.writeHead(400, { 'content-type': 'text/plain' }).end('no_text');
          return;
        }
        messages.push({ via: 'webhook', channel: null, text: body.text });
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
        return;
      }
      if (request.method === 'POST' && request.url === '/api/chat.postMessage') {
        const reply = (payload: object) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
        if (request.headers.authorization !== `Bearer ${options.botToken ?? 'xoxb-test'}`) return reply({ ok: false, error: 'invalid_auth' });
        if (failures > 0) {
          failures -= 1;
          return reply({ ok: false, error: 'service_unavailable' });
        }
        if (!body.channel) return reply({ ok: false, error: 'channel_not_found' });
        if (!body.text) return reply({ ok: false, error: 'no_text' });
        messages.push({ via: 'chat.postMessage', channel: body.channel, text: body.text });
        return reply({ ok: true, channel: body.channel, ts: `${Date.now() / 1000}` });
      }
      response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    url,
    webhookUrl: `${url}/webhook`,
    apiUrl: `${url}/api`,
    messages,
    failNext: (count) => {
      failures = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
