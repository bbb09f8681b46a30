import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { Cron } from 'croner';
import { HttpError, badRequest, methodNotAllowed, notFound, toHttpError } from '../lib/http/errors';
import { errorResponse, requestIdOf } from '../lib/http/route';

/**
 * Serves api/ as Vercel does: one file per endpoint at its path, `[param]` segments passed as query
 * parameters appended to request.url, one export per HTTP method and 405 with Allow for the rest.
 * Its own answers (no endpoint, 405, a malformed path) are the API's error envelope with a request id.
 * Fires the crons of vercel.json on their schedules with the CRON_SECRET bearer. Outside /api, serves
 * public/ as Vercel serves a project without a framework (the operator console, the API reference).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

type Handler = (request: Request) => Promise<Response> | Response;
type ApiModule = Partial<Record<(typeof METHODS)[number], Handler>>;

interface ApiRoute {
  file: string;
  pattern: RegExp;
  params: string[];
  /** Static routes win over dynamic ones, as on Vercel. */
  dynamic: boolean;
}

export function discoverRoutes(apiDir = join(ROOT, 'api')): ApiRoute[] {
  const routes: ApiRoute[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') && !entry.name.startsWith('_')) {
        const path = relative(ROOT, full).split(sep).join('/').replace(/\.ts$/, '').replace(/\/index$/, '');
        const params: string[] = [];
        const pattern = path
          .split('/')
          .map((segment) => {
            const match = /^\[(\w+)\]$/.exec(segment);
            if (!match) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
            params.push(match[1]!);
            return '([^/]+)';
          })
          .join('/');
        routes.push({ file: full, pattern: new RegExp(`^/${pattern}/?$`), params, dynamic: params.length > 0 });
      }
    }
  };
  walk(apiDir);
  return routes.sort((a, b) => Number(a.dynamic) - Number(b.dynamic) || b.file.length - a.file.length);
}

export function createApiHandler(
  routes: ApiRoute[] = discoverRoutes(),
): (request: Request, clientAddress?: string) => Promise<Response> {
  const modules = new Map<string, Promise<ApiModule>>();
  const load = (file: string) => {
    let module = modules.get(file);
    if (!module) {
      module = import(pathToFileURL(file).href) as Promise<ApiModule>;
      modules.set(file, module);
    }
    return module;
  };

  return async (request, clientAddress = '127.0.0.1') => {
    const url = new URL(request.url);
    if (!url.pathname.startsWith('/api/') && (request.method === 'GET' || request.method === 'HEAD')) {
      const file = await staticFile(url.pathname, request.method);
      if (file) return file;
    }
    for (const route of routes) {
      const match = route.pattern.exec(url.pathname);
      if (!match) continue;
      const module = await load(route.file);
      const allowed = METHODS.filter((method) => typeof module[method] === 'function');
      const handler = module[request.method as (typeof METHODS)[number]];
      if (!handler) return localError(request, methodNotAllowed(allowed));
      // As Vercel does: each [param] segment, decoded, appended to the query after the client's own
      // parameters (an api/ handler refuses a name that then appears twice).
      for (const [index, name] of route.params.entries()) {
        let value: string;
        try {
          value = decodeURIComponent(match[index + 1]!);
        } catch {
          return localError(request, badRequest(`the path segment for ${name} is not valid percent-encoding`));
        }
        url.searchParams.append(name, value);
      }
      // The client's address as Vercel reports it: what a client sends in these headers itself is
      // overwritten, so it cannot pick its own rate-limit budget.
      if (route.params.length === 0 && setClientAddress(request.headers, clientAddress)) {
        // The request as it came (a second Request would copy the headers and pipe the body through
        // another stream: a tenth of the local server's CPU per webhook).
        return handler(request);
      }
      const hasBody = request.method !== 'GET' && request.method !== 'HEAD';
      const headers = new Headers(request.headers);
      setClientAddress(headers, clientAddress);
      const forwarded = new Request(url, {
        method: request.method,
        headers,
        body: hasBody ? request.body : undefined,
        signal: request.signal,
        ...(hasBody ? { duplex: 'half' } : {}),
      } as RequestInit);
      return handler(forwarded);
    }
    return localError(request, notFound(`no endpoint at ${url.pathname}`));
  };
}

/** Sets x-real-ip and x-forwarded-for to the client's address; false when these headers are immutable. */
function setClientAddress(headers: Headers, clientAddress: string): boolean {
  try {
    headers.set('x-real-ip', clientAddress);
    headers.set('x-forwarded-for', clientAddress);
    return true;
  } catch {
    return false;
  }
}

const PUBLIC_DIR = join(ROOT, 'public');
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'application/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * A file of public/ at its path, as Vercel serves the output directory: `/a/b.js` is public/a/b.js, and
 * a folder (`/console` or `/console/`) is its index.html. Undefined when there is none, so the API's 404
 * answers. Nothing outside public/ is reachable (the path is normalised before it is joined).
 */
async function staticFile(pathname: string, method: string): Promise<Response | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const path = join(PUBLIC_DIR, normalize(decoded));
  if (path !== PUBLIC_DIR && !path.startsWith(PUBLIC_DIR + sep)) return undefined;
  for (const candidate of [path, join(path, 'index.html')]) {
    const info = await stat(candidate).catch(() => undefined);
    if (!info?.isFile()) continue;
    const body = method === 'HEAD' ? null : await readFile(candidate);
    return new Response(body, {
      headers: {
        'content-type': CONTENT_TYPES[extname(candidate)] ?? 'application/octet-stream',
        'content-length': String(info.size),
        // Vercel's default for static files: cached, but revalidated on every use.
        'cache-control': 'public, max-age=0, must-revalidate',
      },
    });
  }
  return undefined;
}

/** An answer of the server itself (no endpoint, method not exported, bad path): the API's error envelope. */
function localError(request: Request, error: HttpError): Response {
  return errorResponse(requestIdOf(request), error);
}

export interface CronEntry {
  path: string;
  schedule: string;
}

export function vercelCrons(): CronEntry[] {
  const vercel = JSON.parse(readFileSync(join(ROOT, 'vercel.json'), 'utf8')) as { crons?: CronEntry[] };
  return vercel.crons ?? [];
}

/**
 * Calls vercel.json's crons on their schedules at `baseUrl` with the CRON_SECRET bearer, as Vercel
 * Cron does (one call at a time per cron). Returns what stops them.
 */
export function fireCrons(
  baseUrl: string,
  cronSecret: string,
  onResult?: (path: string, status: number, body: string) => void,
): () => void {
  const jobs = vercelCrons().map(
    (cron) =>
      new Cron(cron.schedule, { protect: true }, async () => {
        try {
          const response = await fetch(baseUrl + cron.path, { headers: { authorization: `Bearer ${cronSecret}` } });
          onResult?.(cron.path, response.status, await response.text());
        } catch (error) {
          onResult?.(cron.path, 0, String(error));
        }
      }),
  );
  return () => {
    for (const job of jobs) job.stop();
  };
}

export interface LocalServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

export interface ServerOptions {
  port?: number;
  /** Fire vercel.json's crons with this secret (off when undefined). */
  cronSecret?: string;
  onCronResult?: (path: string, status: number, body: string) => void;
}

export async function startServer(options: ServerOptions = {}): Promise<LocalServer> {
  const handler = createApiHandler();
  const server = createServer(
    getRequestListener(
      (request, env) => handler(request, env.incoming.socket.remoteAddress?.replace(/^::ffff:/, '') ?? 'unknown'),
      { errorHandler: () => errorResponse(randomUUID(), toHttpError(new Error('unhandled'))) },
    ),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://127.0.0.1:${port}`;

  const stopCrons = options.cronSecret ? fireCrons(url, options.cronSecret, options.onCronResult) : () => {};
  return {
    url,
    server,
    close: async () => {
      stopCrons();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
