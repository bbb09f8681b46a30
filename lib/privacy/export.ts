import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import * as schema from '../../db/schema';
import { userJobsForExport } from '../jobs';
import { userTables, type UserTable } from './tables';

/**
 * GET /api/me/export: everything switchyard holds for a user, as one JSON document written while it
 * is read. One read-only REPEATABLE READ transaction gives every table the same snapshot; each table
 * is read `batchSize` rows at a time (a server-side cursor; the queue's jobs by lib/jobs' keyset), so memory stays flat however
 * much mail a user has. The stream pulls the next batch only when the client has taken the last.
 *
 * Shape: `{ "format": "switchyard-export/1", "userId", "exportedAt", "tables": { "<table>": [rows] } }`,
 * rows as Postgres' row_to_json writes them (column names as in the database).
 */
export const EXPORT_FORMAT = 'switchyard-export/1';

/** A table of the export: its rows as JSON text, a batch at a time, all read in the export's snapshot. */
interface Source {
  name: string;
  batches: (client: pg.PoolClient, userId: string, batchSize: number) => AsyncIterable<string[]>;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A source read through a server-side cursor over `FROM ... WHERE ... ORDER BY` (the user id bound as a literal). */
function cursorSource(name: string, query: (user: string) => string): Source {
  return {
    name,
    async *batches(client, userId, batchSize) {
      const user = client.escapeLiteral(userId);
      await client.query(`DECLARE export_rows NO SCROLL CURSOR FOR SELECT row_to_json(t)::text AS row ${query(user)}`);
      while (true) {
        const { rows } = await client.query<{ row: string }>(`FETCH ${batchSize} FROM export_rows`);
        if (rows.length > 0) yield rows.map((r) => r.row);
        if (rows.length < batchSize) break;
      }
      await client.query('CLOSE export_rows');
    },
  };
}

function sourceOf(table: UserTable): Source {
  const order = table.key.length > 0 ? ` ORDER BY ${table.key.map((k) => `t.${quoteIdent(k)}`).join(', ')}` : '';
  const from = `FROM ${quoteIdent(table.name)} t`;
  return cursorSource(
    table.name,
    table.via === 'user_id'
      ? (user) => `${from} WHERE t.user_id = ${user}${order}`
      : (user) => `${from} WHERE t.connection_id IN (SELECT id FROM connections WHERE user_id = ${user})${order}`,
  );
}

/** The queue's jobs, read through lib/jobs (which alone names its tables), a page at a time by id. */
const jobsSource: Source = {
  name: 'jobs',
  async *batches(client, userId, batchSize) {
    const db = drizzle(client, { schema });
    for (let after = 0; ; ) {
      const page = await userJobsForExport(db, userId, after, batchSize);
      if (page.length > 0) yield page.map((job) => job.row);
      if (page.length < batchSize) break;
      after = page.at(-1)!.id;
    }
  },
};

/** The tables the catalog does not find by user_id but that hold the user's records all the same. */
const EXTRA_SOURCES: Source[] = [
  jobsSource,
  cursorSource('audit_log', (user) => `FROM audit_log t WHERE t.user_id = ${user} ORDER BY t.id`),
  cursorSource(
    'webhook_events',
    (user) =>
      `FROM webhook_events t WHERE (t.provider_config_key, t.nango_connection_id) IN ` +
      `(SELECT provider_config_key, nango_connection_id FROM connections WHERE user_id = ${user}) ORDER BY t.id`,
  ),
];

export function exportUserData(pool: pg.Pool, userId: string, options: { batchSize?: number } = {}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const chunks = documentChunks(pool, userId, options.batchSize ?? 500);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(next.value));
      } catch (error) {
        controller.error(error);
      }
    },
    async cancel() {
      // The client went away: the generator's finally rolls back and releases the connection.
      await chunks.return(undefined);
    },
  });
}

async function* documentChunks(pool: pg.Pool, userId: string, batchSize: number): AsyncGenerator<string> {
  const client = await pool.connect();
  let open = false;
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    open = true;
    const tables = await userTables(drizzle(client));
    const sources = [...tables.map(sourceOf), ...EXTRA_SOURCES.filter((s) => !tables.some((t) => t.name === s.name))];
    const header = { format: EXPORT_FORMAT, userId, exportedAt: new Date().toISOString() };
    yield `${JSON.stringify(header).slice(0, -1)},"tables":{`;
    for (const [index, source] of sources.entries()) {
      yield `${index === 0 ? '' : ','}${JSON.stringify(source.name)}:[`;
      let first = true;
      for await (const rows of source.batches(client, userId, batchSize)) {
        yield (first ? '' : ',') + rows.join(',');
        first = false;
      }
      yield ']';
    }
    yield '}}\n';
    await client.query('COMMIT');
    open = false;
  } finally {
    let broken = false;
    if (open) await client.query('ROLLBACK').catch(() => (broken = true));
    // A connection that could not roll back is closed, not handed to the next caller.
    client.release(broken);
  }
}
