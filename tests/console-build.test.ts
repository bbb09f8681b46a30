import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildConsole, CONSOLE_OUT } from '../console/build';
import { useTestApp } from './helpers/server';

/** The XML namespaces preact names; they are identifiers, never fetched. */
const NAMESPACES = new Set(['http://www.w3.org/1998/Math/MathML', 'http://www.w3.org/1999/xhtml', 'http://www.w3.org/2000/svg']);

describe('the operator console build', () => {
  it('public/console is the build of console/ (run npm run build:console after changing it)', async () => {
    const built = await buildConsole();
    expect(readdirSync(CONSOLE_OUT).sort()).toEqual([...built.keys()].sort());
    for (const [name, content] of built) {
      expect(readFileSync(join(CONSOLE_OUT, name)).equals(content), `public/console/${name} differs from its build`).toBe(true);
    }
  });

  it('names no other origin (it loads nothing from a CDN) and stays under 40 KB gzipped', async () => {
    let gzipped = 0;
    for (const [name, content] of await buildConsole()) {
      const urls = content.toString('utf8').match(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi) ?? [];
      expect(urls.filter((url) => !NAMESPACES.has(url)), name).toEqual([]);
      gzipped += gzipSync(content, { level: 9 }).length;
    }
    expect(gzipped).toBeLessThan(40 * 1024);
  });
});

describe('static files under the local server', () => {
  const app = useTestApp();

  it('serves the console at /console/ and /console, and its assets with their types', async () => {
    for (const path of ['/console/', '/console', '/console/index.html']) {
      const response = await fetch(app.url + path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await response.text()).toContain('<script type="module" src="/console/app.js">');
    }
    const script = await fetch(`${app.url}/console/app.js`);
    expect(script.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    expect((await script.arrayBuffer()).byteLength).toBe(readFileSync(join(CONSOLE_OUT, 'app.js')).length);
    const head = await fetch(`${app.url}/console/app.css`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('reaches nothing outside public/, and a missing file is the API 404 envelope', async () => {
    for (const path of ['/..%2fpackage.json', '/console/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/console/%00', '/console/missing.js', '/%E0%A4%A']) {
      const response = await fetch(app.url + path);
      expect(response.status, path).toBe(404);
      const body = await response.json();
      expect(body.error.code, path).toBe('not_found');
    }
    // api/ stays the API's: a POST to a static path is not a file.
    const post = await fetch(`${app.url}/console/`, { method: 'POST' });
    expect(post.status).toBe(404);
  });
});
