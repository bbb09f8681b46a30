import { existsSync } from 'node:fs';
import pg from 'pg';
import { config } from '../lib/config';
import { findPgTools, libpqEnv, run } from './pg-tools';

/**
 * `npm run db:restore -- <file> [--yes]`: restores a db:backup archive into DATABASE_URL, in one
 * transaction (all or nothing), replacing the objects it holds (--clean --if-exists). A database that
 * has tables is only overwritten with --yes.
 */
async function main() {
  const settings = config();
  const args = process.argv.slice(2);
  const file = args.find((arg) => !arg.startsWith('--'));
  if (!file || !existsSync(file)) throw new Error('usage: npm run db:restore -- <backup file> [--yes]');
  if (!settings.DATABASE_URL) throw new Error('DATABASE_URL is not set: name the database to restore into');
  const client = new pg.Client({ connectionString: settings.DATABASE_URL });
  await client.connect();
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
  );
  await client.end();
  if (rows[0]!.n > 0 && !args.includes('--yes')) {
    throw new Error(`the database has ${rows[0]!.n} tables: pass --yes to replace them with the backup's`);
  }
  const tools = await findPgTools(settings.DATABASE_URL, settings.PG_BIN_DIR);
  if (!tools) throw new Error('no pg_restore of the server\'s major version or newer was found: install postgresql-client-<major> or set PG_BIN_DIR');
  const started = Date.now();
  await run(
    tools.pgRestore,
    ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', `--dbname=${libpqEnv(settings.DATABASE_URL).PGDATABASE}`, file],
    libpqEnv(settings.DATABASE_URL),
  );
  console.log(`restore: ${file} into ${new URL(settings.DATABASE_URL).pathname.slice(1)} (${Date.now() - started} ms)`);
}

main().catch((error) => {
  console.error(`restore failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
