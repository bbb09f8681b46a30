/**
 * Builds the operator console: console/src bundled and minified by esbuild into public/console (app.js,
 * app.css, index.html), which Vercel serves as static files and dev/server.ts serves under `npm start`.
 * The output is committed, so a deployment needs no build step; tests/console-build.test.ts fails when
 * it is not the build of the source.
 *
 *   npm run build:console            writes public/console and prints the sizes (raw and gzipped)
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CONSOLE_OUT = join(ROOT, 'public', 'console');

/** The files of public/console, name to content, built in memory. */
export async function buildConsole(): Promise<Map<string, Buffer>> {
  const result = await build({
    entryPoints: { app: join(ROOT, 'console', 'src', 'main.tsx') },
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'none',
    outdir: CONSOLE_OUT,
    write: false,
    logLevel: 'silent',
  });
  const files = new Map<string, Buffer>();
  for (const file of result.outputFiles) files.set(file.path.slice(CONSOLE_OUT.length + 1), Buffer.from(file.contents));
  // The page on one line: whitespace between tags is all the template's indentation and newlines.
  const html = readFileSync(join(ROOT, 'console', 'index.html'), 'utf8');
  files.set('index.html', Buffer.from(`${html.replace(/>\s+</g, '><').trim()}\n`));
  return files;
}

async function main() {
  const files = await buildConsole();
  mkdirSync(CONSOLE_OUT, { recursive: true });
  let raw = 0;
  let gzipped = 0;
  for (const [name, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
    writeFileSync(join(CONSOLE_OUT, name), content);
    const gz = gzipSync(content, { level: 9 }).length;
    raw += content.length;
    gzipped += gz;
    console.log(`public/console/${name.padEnd(12)} ${String(content.length).padStart(7)} B  ${String(gz).padStart(6)} B gzipped`);
  }
  console.log(`${'total'.padEnd(27)} ${String(raw).padStart(7)} B  ${String(gzipped).padStart(6)} B gzipped`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
