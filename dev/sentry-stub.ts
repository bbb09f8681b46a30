import { createServer, type Server } from 'node:http';
import { gunzipSync, inflateSync } from 'node:zlib';

/**
 * A local stand-in for Sentry's ingest endpoint (`POST /api/<project>/envelope/`): it answers as Sentry
 * does and keeps every envelope it receives, parsed, so a test can read what would have left the
 * process. Point SENTRY_DSN at `dsn` (any public key, project 1).
 */
export interface SentryEnvelope {
  header: Record<string, unknown>;
  items: { header: Record<string, unknown>; payload: unknown }[];
  /** The bytes as received (decompressed), for searching. */
  raw: string;
}

export interface SentryStub {
  url: string;
  dsn: string;
  envelopes: SentryEnvelope[];
  /** Every event item (type "event"), in arrival order. */
  events(): Record<string, any>[];
  /** Resolves when `count` events have arrived, or rejects after `timeoutMs`. */
  waitForEvents(count: number, timeoutMs?: number): Promise<Record<string, any>[]>;
  close(): Promise<void>;
}

export function parseEnvelope(raw: string): SentryEnvelope {
  const lines = raw.split('\n');
  const header = JSON.parse(lines[0] || '{}') as Record<string, unknown>;
  const items: SentryEnvelope['items'] = [];
  for (let i = 1; i < lines.length; i += 2) {
    if (!lines[i]) continue;
    const itemHeader = JSON.parse(lines[i]!) as Record<string, unknown>;
    const body = lines[i + 1] ?? '';
    let payload: unknown = body;
    try {
      payload = JSON.parse(body);
    } catch {
      // attachments are not JSON
    }
    items.push({ header: itemHeader, payload });
  }
  return { header, items, raw };
}

export async function startSentryStub(port = 0): Promise<SentryStub> {
  const envelopes: SentryEnvelope[] = [];
  const waiters: (() => void)[] = [];
  const events = () =>
    envelopes.flatMap((e) => e.items.filter((item) => item.header.type === 'event').map((item) => item.payload as Record<string, any>));
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || !/^\/api\/\d+\/envelope\/?/.test(request.url ?? '')) {
        response.writeHead(404).end();
        return;
      }
      let body = Buffer.concat(chunks);
      const encoding = request.headers['content-encoding'];
      if (encoding === 'gzip') body = gunzipSync(body);
      else if (encoding === 'deflate') body = inflateSync(body);
      envelopes.push(parseEnvelope(body.toString('utf8')));
      for (const wake of waiters.splice(0)) wake();
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    url,
    dsn: `${url.replace('://', '://0123456789abcdef0123456789abcdef@')}/1`,
    envelopes,
    events,
    waitForEvents: async (count, timeoutMs = 5_000) => {
      const end = Date.now() + timeoutMs;
      while (events().length < count) {
        if (Date.now() > end) throw new Error(`expected ${count} Sentry events, got ${events().length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return events();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
