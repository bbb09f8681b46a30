import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { discoverRoutes } from '../dev/server';
import { parseConfig } from '../lib/config';

const vercel = JSON.parse(readFileSync('vercel.json', 'utf8')) as {
  functions: Record<string, { maxDuration: number }>;
  crons: { path: string; schedule: string }[];
};
const apiFiles = discoverRoutes().map((route) => route.file.slice(process.cwd().length + 1));

/** A `functions` key as Vercel reads it: a file, or a glob (`*` within a segment, `**\/` any folders). */
function globPattern(key: string): RegExp {
  const source = key
    .split(/(\*\*\/|\*)/)
    .map((part) => (part === '**/' ? '(?:[^/]+/)*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}
const configured = (file: string) => Object.keys(vercel.functions).some((key) => globPattern(key).test(file));

describe('vercel.json', () => {
  it('gives every api/ file a maxDuration, and names no file that does not exist', () => {
    expect(apiFiles.filter((file) => !configured(file))).toEqual([]);
    expect(Object.keys(vercel.functions).filter((key) => (key.includes('*') ? !apiFiles.some((file) => globPattern(key).test(file)) : !existsSync(key)))).toEqual([]);
    // vercel (CLI 60) refuses a vercel.json with more: a folder of routes takes one glob.
    expect(Object.keys(vercel.functions).length).toBeLessThanOrEqual(50);
    for (const { maxDuration } of Object.values(vercel.functions)) expect(maxDuration).toBeGreaterThan(0);
  });

  it('points every cron at an endpoint, and the runner stops before the cron function must', () => {
    for (const cron of vercel.crons) expect(apiFiles).toContain(`${cron.path.slice(1)}.ts`);
    const settings = parseConfig({});
    expect(settings.JOBS_RUNNER_MAX_DURATION_S).toBeLessThanOrEqual(vercel.functions['api/cron/run-jobs.ts']!.maxDuration);
    expect(settings.JOBS_RUNNER_MAX_DURATION_S).toBeLessThanOrEqual(vercel.functions['api/webhooks/nango.ts']!.maxDuration);
  });
});
