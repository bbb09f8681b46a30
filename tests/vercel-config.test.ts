import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { discoverRoutes } from '../dev/server';
import { parseConfig } from '../lib/config';

const vercel = JSON.parse(readFileSync('vercel.json', 'utf8')) as {
  functions: Record<string, { maxDuration: number }>;
  crons: { path: string; schedule: string }[];
};
const apiFiles = discoverRoutes().map((route) => route.file.slice(process.cwd().length + 1));

describe('vercel.json', () => {
  it('gives every api/ file a maxDuration, and names no file that does not exist', () => {
    expect(apiFiles.filter((file) => !vercel.functions[file])).toEqual([]);
    expect(Object.keys(vercel.functions).filter((file) => !existsSync(file))).toEqual([]);
    for (const { maxDuration } of Object.values(vercel.functions)) expect(maxDuration).toBeGreaterThan(0);
  });

  it('points every cron at an endpoint, and the runner stops before the cron function must', () => {
    for (const cron of vercel.crons) expect(apiFiles).toContain(`${cron.path.slice(1)}.ts`);
    const settings = parseConfig({});
    expect(settings.JOBS_RUNNER_MAX_DURATION_S).toBeLessThanOrEqual(vercel.functions['api/cron/run-jobs.ts']!.maxDuration);
    expect(settings.JOBS_RUNNER_MAX_DURATION_S).toBeLessThanOrEqual(vercel.functions['api/webhooks/nango.ts']!.maxDuration);
  });
});
