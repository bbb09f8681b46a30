import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMigrations } from '../db/migrate';
import { createTestDatabase } from './helpers/db';

describe('migrations', () => {
  it('agree with the Drizzle schema: generating from the schema adds nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-drift-'));
    try {
      cpSync('db/migrations', join(dir, 'migrations'), { recursive: true });
      const before = readdirSync(join(dir, 'migrations')).length;
      const configFile = join(dir, 'drizzle.config.ts');
      writeFileSync(
        configFile,
        // drizzle-kit wants paths relative to the working directory.
        `export default { dialect: 'postgresql', schema: './db/schema.ts', out: '${relative(process.cwd(), dir)}/migrations' };\n`,
      );
      const result = spawnSync('npx', ['drizzle-kit', 'generate', '--config', configFile], { encoding: 'utf8', timeout: 60_000 });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/No schema changes/);
      expect(readdirSync(join(dir, 'migrations')).length).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('apply again and concurrently without harm', async () => {
    const database = await createTestDatabase();
    try {
      await Promise.all([runMigrations(database.url), runMigrations(database.url)]);
      const { rows } = await database.pool.query(`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
      expect(rows[0].n).toBe(readdirSync('db/migrations').filter((f) => f.endsWith('.sql')).length);
    } finally {
      await database.destroy();
    }
  });
});
