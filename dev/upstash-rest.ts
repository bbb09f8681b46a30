import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createClient } from 'redis';

/**
 * A local stand-in for Upstash's REST endpoint over a real Redis, so that @upstash/redis and
 * @upstash/ratelimit run unchanged in tests and CI. It speaks what those clients use: POST / with one
 * command as a JSON array, /pipeline and /multi-exec with arrays of commands, Bearer token, and
 * `Upstash-Encoding: base64` (strings in results base64-encoded, "OK" as is).
 * Upstash's Lua scripts declare `#!lua flags=allow-key-locking`, a flag of Upstash's own that Redis
 * refuses: the shim drops it and maps the script's hash to that of the script Redis actually holds.
 */
const UPSTASH_ONLY_FLAGS = /^#!lua flags=allow-key-locking\n/;
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex');
export interface UpstashRest {
  url: string;
  token: string;
  close(): Promise<void>;
}

type Reply = string | number | null | Reply[] | Buffer;

export async function startUpstashRest(redisUrl: string, token = 'local-upstash-token'): Promise<UpstashRest> {
  const redis = createClient({ url: redisUrl, RESP: 2 });
  redis.on('error', () => {});
  await redis.connect();

  const encode = (reply: Reply, base64: boolean): unknown => {
    if (reply === null || typeof reply === 'number') return reply;
    if (Array.isArray(reply)) return reply.map((r) => encode(r, base64));
    const text = Buffer.isBuffer(reply) ? reply.toString('utf8') : reply;
    return base64 && text !== 'OK' ? Buffer.from(text, 'utf8').toString('base64') : text;
  };
  const hashes = new Map<string, string>();
  const translate = (command: string[]): string[] => {
    const name = command[0]!.toUpperCase();
    const scriptAt = name === 'EVAL' ? 1 : name === 'SCRIPT' && command[1]?.toUpperCase() === 'LOAD' ? 2 : -1;
    if (scriptAt > 0 && UPSTASH_ONLY_FLAGS.test(command[scriptAt] ?? '')) {
      const original = command[scriptAt]!;
      const rewritten = original.replace(UPSTASH_ONLY_FLAGS, '');
      hashes.set(sha1(original), sha1(rewritten));
      return command.map((part, i) => (i === scriptAt ? rewritten : part));
    }
    if (name === 'EVALSHA' && hashes.has(command[1]!)) return command.map((part, i) => (i === 1 ? hashes.get(part)! : part));
    return command;
  };
  const run = async (command: unknown, base64: boolean) => {
    if (!Array.isArray(command) || command.length === 0) return { error: 'ERR malformed command' };
    try {
      const reply = (await redis.sendCommand(translate(command.map(String)))) as Reply;
      return { result: encode(reply, base64) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  };

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { error: 'Unauthorized' });
    const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(400, { error: 'ERR body is not JSON' });
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/multi-exec') {
      if (!Array.isArray(body) || !body.every(Array.isArray)) return reply(400, { error: 'ERR expected an array of commands' });
      try {
        const multi = redis.multi();
        for (const command of body as unknown[][]) multi.addCommand(translate(command.map(String)));
        const replies = (await multi.exec()) as unknown as Reply[];
        return reply(200, replies.map((r) => ({ result: encode(r, base64) })));
      } catch (error) {
        return reply(400, { error: error instanceof Error ? error.message : String(error) });
      }
    }
    if (path === '/pipeline') {
      if (!Array.isArray(body)) return reply(400, { error: 'ERR expected an array of commands' });
      const results = [];
      for (const command of body) results.push(await run(command, base64));
      return reply(200, results);
    }
    const result = await run(body, base64);
    return reply('error' in result ? 400 : 200, result);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await redis.quit().catch(() => undefined);
    },
  };
}
