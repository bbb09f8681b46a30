import { mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config } from '../lib/config';
import { findPgTools, libpqEnv, run } from './pg-tools';

/**
 * `npm run db:backup [-- file]`: a pg_dump of DATABASE_URL in the custom format (compressed, restored
 * selectively and in parallel by pg_restore), by default into .data/backups/switchyard-<time>.dump.
 */
async function main() {
  const settings = config();
  if (!settings.DATABASE_URL) throw new Error('DATABASE_URL is not set: name the database to back up');
  const tools = await findPgTools(settings.DATABASE_URL, settings.PG_BIN_DIR);
  if (!tools) throw new Error('no pg_dump of the server\'s major version or newer was found: install postgresql-client-<major> or set PG_BIN_DIR');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const file = resolve(process.argv[2] ?? join(root, '.data', 'backups', `switchyard-${new Date().toISOString().replace(/[:.]/g, '-')}.dump`));
  mkdirSync(dirname(file), { recursive: true });
  const started = Date.now();
  await run(tools.pgDump, ['--format=custom', '--compress=6', '--no-owner', '--no-privileges', `--file=${file}`], libpqEnv(settings.DATABASE_URL));
  const size = statSync(file).size;
  console.log(`backup: ${file} (${(size / 1024).toFixed(0)} KiB, pg_dump ${tools.major} of a Postgres ${tools.serverMajor} server, ${Date.now() - started} ms)`);
}

main().catch((error) => {
  console.error(`backup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
