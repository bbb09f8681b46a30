import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run build:docs`: copies Swagger UI's standalone bundle (swagger-ui-dist, from the npm registry)
 * into public/docs, beside the page that loads it, so /docs works offline and from the deployment
 * alone, with no CDN. The copies are committed (a deployment needs no build step); tests/docs-page.test.ts
 * fails when they are not the installed package's.
 */
export const DOCS_ASSETS = ['swagger-ui-bundle.js', 'swagger-ui.css'] as const;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DOCS_DIR = join(ROOT, 'public', 'docs');

export function swaggerUiDir(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(DOCS_DIR, { recursive: true });
  for (const asset of DOCS_ASSETS) copyFileSync(join(swaggerUiDir(), asset), join(DOCS_DIR, asset));
  console.log(`public/docs: ${DOCS_ASSETS.join(', ')} from swagger-ui-dist`);
}
