import { config, ConfigError } from '../lib/config';
import { runMigrations } from '../db/migrate';

/** `npm run db:migrate`: applies db/migrations to DATABASE_URL (run it before deploying a new version). */
try {
  const url = config().DATABASE_URL;
  if (!url) throw new ConfigError(['DATABASE_URL: required for db:migrate (postgres://user:password@host:5432/db)']);
  await runMigrations(url);
  console.log('migrations applied');
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
