import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../dev/embedded-postgres';

/** One embedded Postgres (default durability settings) for a benchmark run, a database per system. */
export interface BenchServer {
  freshDatabase(name: string): Promise<string>;
  postgresVersion(): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchServer(): Promise<BenchServer> {
  const embedded: EmbeddedDatabase = await startEmbeddedPostgres();
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: embedded.adminUrl });
    await client.connect();
    try {
      return await client.query(statement);
    } finally {
      await client.end();
    }
  };
  return {
    async freshDatabase(name) {
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin(`CREATE DATABASE "${name}"`);
      return embedded.urlFor(name);
    },
    async postgresVersion() {
      const result = await admin('SHOW server_version');
      return result.rows[0].server_version as string;
    },
    stop: () => embedded.stop(),
  };
}

export function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
}

export function saveResult(file: string, data: unknown) {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${file}`, JSON.stringify(data, null, 2) + '\n');
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
