import { cpus } from 'node:os';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../dev/embedded-postgres';

/** One embedded Postgres (default durability settings) for a benchmark run, a database per system. */
export interface BenchServer {
  freshDatabase(name: string): Promise<string>;
  postgresVersion(): Promise<string>;
  /**
   * CPU time (ms) the server's processes have used so far: the live ones' and the exited backends'
   * (reaped by the postmaster). The difference across a phase is that phase's Postgres CPU, a count
   * other load on the machine distorts far less than wall-clock time.
   */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchServer(settings?: Record<string, string>): Promise<BenchServer> {
  const embedded: EmbeddedDatabase = await startEmbeddedPostgres({ settings });
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: embedded.adminUrl });
    await client.connect();
    try {
      return await client.query(statement);
    } finally {
      await client.end();
    }
  };
  let postmaster: number | undefined;
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
    async cpuMs() {
      postmaster ??= Number(
        readFileSync(`${(await admin('SHOW data_directory')).rows[0].data_directory}/postmaster.pid`, 'utf8').split('\n')[0],
      );
      return processTreeCpuMs(postmaster);
    },
    stop: () => embedded.stop(),
  };
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on Linux). */
const TICKS_PER_S = 100;

/** CPU ms of a process, its exited (waited-for) children, and its live children. */
function processTreeCpuMs(pid: number): number {
  const fields = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  const own = fields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  let ms = ((Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])) * 1000) / TICKS_PER_S;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const child = fields(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (Number(child[1]) === pid) ms += Number(readFileSync(`/proc/${entry}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      // exited meanwhile: counted in the parent's cutime once reaped
    }
  }
  return ms;
}

export function machine() {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
}

export function saveResult(file: string, data: unknown) {
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${file}`, JSON.stringify(data, null, 2) + '\n');
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
