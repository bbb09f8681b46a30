import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../lib/config';

describe('config', () => {
  it('applies defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ DATABASE_POOL_MAX: 10, JOBS_LEASE_S: 30, NODE_ENV: 'development' });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('names every bad variable and what it expects, in one message', () => {
    let error: unknown;
    try {
      parseConfig({ DATABASE_URL: 'not a url', DATABASE_POOL_MAX: 'lots', CRON_SECRET: 'short', LOG_LEVEL: 'loud' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/DATABASE_URL: expected a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(message).toMatch(/DATABASE_POOL_MAX: /);
    expect(message).toMatch(/CRON_SECRET: expected at least 16 characters/);
    expect(message).toMatch(/LOG_LEVEL: /);
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('treats empty strings as unset', () => {
    const config = parseConfig({ DATABASE_URL: '', PORT: '' });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.PORT).toBe(3000);
  });

  it('stops npm start on a malformed DATABASE_URL with a message, not a stack trace', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'dev/start.ts'], {
      env: { ...process.env, DATABASE_URL: 'mysql://nope', PORT: '0' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid configuration:');
    expect(result.stderr).toContain('DATABASE_URL: expected a postgres://');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
