/**
 * npm run test:fidelity [-- --runs N] [--seed S] [--faults a,b] [gmail|calendar|salesforce ...]
 *
 * The fidelity property suites (tests/fidelity-*.property.test.ts) with N random histories per
 * provider (npm test runs 100). --seed replays a failure fast-check reported; --faults keeps only those
 * faults (5xx, 429, timeout, expiredToken, staleCursor, leaseLapse, sigkill); names pick providers.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: { runs: { type: 'string', default: '1000' }, seed: { type: 'string' }, faults: { type: 'string' } },
  allowPositionals: true,
});
const integer = (name: string, value: string | undefined) => {
  if (value !== undefined && !/^-?\d+$/.test(value)) {
    console.error(`--${name} takes an integer, not ${value}`);
    process.exit(2);
  }
  return value;
};
const providers = ['gmail', 'calendar', 'salesforce'];
const unknown = positionals.filter((p) => !providers.includes(p));
if (unknown.length > 0) {
  console.error(`unknown provider ${unknown.join(', ')}: one of ${providers.join(', ')}`);
  process.exit(2);
}
const files = (positionals.length > 0 ? positionals : providers).map((p) => `tests/fidelity-${p}.property.test.ts`);
const env: NodeJS.ProcessEnv = { ...process.env, FIDELITY_RUNS: integer('runs', values.runs) };
if (values.seed !== undefined) env.FIDELITY_SEED = integer('seed', values.seed);
if (values.faults !== undefined) env.FIDELITY_FAULTS = values.faults;
const result = spawnSync('npx', ['vitest', 'run', ...files], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
