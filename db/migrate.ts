import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Applies the committed drizzle-kit migrations; safe to run repeatedly and concurrently. */
export async function runMigrations(connectionString: string): Promise<void> {
  const client = new pg.Client({ connectionString, application_name: 'switchyard-migrate' });
  await client.connect();
  try {
    // Two deploys migrating at once would otherwise race on the migrations table.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['switchyard:migrations']);
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    await client.end();
  }
}
