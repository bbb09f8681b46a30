import pg from 'pg';

/**
 * Runs one statement as the server's admin role on a connection of its own (CREATE and DROP DATABASE run
 * outside a transaction). The global setup imports it too, so nothing of vitest here.
 */
export async function adminQuery(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
