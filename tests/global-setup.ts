import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { runMigrations } from '../db/migrate';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../dev/embedded-postgres';
import { adminQuery } from './helpers/postgres-admin';

/**
 * One Postgres per test run: the machine's when DATABASE_URL is set, an embedded one otherwise.
 * A migrated template database is made once; each test file clones it (milliseconds).
 */
declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { adminUrl: string; template: string };
  }
}

let embedded: EmbeddedDatabase | undefined;
let adminUrl: string;
const template = `switchyard_template_${process.pid}`;

export async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = '/postgres';
    adminUrl = url.toString();
  } else {
    embedded = await startEmbeddedPostgres({ fast: true });
    adminUrl = embedded.adminUrl;
  }
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${template}`);
  await adminQuery(adminUrl, `CREATE DATABASE ${template}`);
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  await runMigrations(templateUrl.toString());
  project.provide('postgres', { adminUrl, template });
}

export async function teardown() {
  try {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname = $2`,
      [`${template}_%`, template],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await client.end();
  } finally {
    await embedded?.stop();
  }
}
