import { fork, type ChildProcess } from 'node:child_process';
import fc from 'fast-check';
import { afterAll, expect } from 'vitest';
import { enqueueSyncs } from '../../lib/connections';
import { db } from '../../lib/database';
import { resetProviderPoliciesForTests } from '../../lib/providers/resilience';
import { runner } from '../../lib/worker/runner';
import { handlers } from '../../lib/worker/registry';
import { testRunner } from './runner';
import { useSyncTestApp, type SyncedProvider } from './sync';

/**
 * The model-based fidelity suites (tests/fidelity-*.property.test.ts): fast-check generates a history
 * of provider-side changes interleaved with sync runs, each run under a fault; the history is played
 * against the sandbox and the real sync; afterwards (and after every fault-free run) switchyard's
 * tables must equal the sandbox's truth. Each history starts from an empty account and creates its own
 * data, so a history replays the same way when fast-check shrinks it.
 *
 * FIDELITY_RUNS (default 100) histories per provider, FIDELITY_SEED to replay a run (npm run
 * test:fidelity -- --runs N --seed S).
 */
export const FIDELITY_RUNS = Number(process.env.FIDELITY_RUNS ?? 100);
const FIDELITY_SEED = process.env.FIDELITY_SEED === undefined ? undefined : Number(process.env.FIDELITY_SEED);

/** What a sync run suffers. `after` counts the provider requests served before the fault strikes. */
export type Fault =
  | { kind: 'none' }
  | { kind: '5xx' }
  | { kind: '429' }
  | { kind: 'timeout' }
  | { kind: 'expiredToken'; after: number }
  | { kind: 'staleCursor' }
  | { kind: 'leaseLapse'; after: number }
  | { kind: 'sigkill'; after: number };

export type FaultKind = Fault['kind'];

/**
 * Faults, weighted. A SIGKILLed runner is a child process (a second or more of CPU to start, the next
 * kept warm), so it is rare: about one run in 150, two histories in a hundred; the in-process kill
 * is the lapsed lease (the runner frozen past its lease while another takes the job over, then waking
 * up and carrying on until it learns it lost the job).
 */
export function faultArb(options: { staleCursor: boolean }): fc.Arbitrary<Fault> {
  const after = fc.integer({ min: 0, max: 6 });
  const only = process.env.FIDELITY_FAULTS?.split(',');
  const weighted = <T extends Fault>(arbitrary: fc.Arbitrary<T>, kind: FaultKind, weight: number) => ({
    arbitrary,
    // FIDELITY_FAULTS=a,b (debugging): only those faults, as often as fault-free runs.
    weight: !only || weight === 0 ? weight : kind === 'none' || only.includes(kind) ? 10 : 0,
  });
  return fc.oneof(
    weighted(fc.constant({ kind: 'none' as const }), 'none', 48),
    weighted(fc.constant({ kind: '5xx' as const }), '5xx', 24),
    weighted(fc.constant({ kind: '429' as const }), '429', 20),
    weighted(fc.constant({ kind: 'timeout' as const }), 'timeout', 12),
    weighted(after.map((n) => ({ kind: 'expiredToken' as const, after: n })), 'expiredToken', 20),
    weighted(fc.constant({ kind: 'staleCursor' as const }), 'staleCursor', options.staleCursor ? 16 : 0),
    weighted(after.map((n) => ({ kind: 'leaseLapse' as const, after: n })), 'leaseLapse', 16),
    weighted(after.map((n) => ({ kind: 'sigkill' as const, after: n })), 'sigkill', 1),
  );
}

export type Step<Change> = { sync: Fault } | { change: Change };

/** A history: the data made before the first sync, then changes and sync runs in any order. */
export function historyArb<Change>(setup: fc.Arbitrary<Change[]>, change: fc.Arbitrary<Change>, options: { staleCursor: boolean }) {
  const fault = faultArb(options);
  return fc.record({
    setup,
    backfill: fault,
    steps: fc.array(fc.oneof({ arbitrary: change.map((c) => ({ change: c })), weight: 3 }, { arbitrary: fault.map((f) => ({ sync: f })), weight: 2 }), {
      maxLength: 5,
    }),
  });
}

/**
 * The n-th of the targets a change may pick (modulo their number), or undefined when there are none: a
 * change names its target by position among targets listed in a stable order, so it replays.
 */
export const pickNth = <T>(items: T[], n: number): T | undefined => (items.length === 0 ? undefined : items[n % items.length]);

export interface History<Change> {
  setup: Change[];
  backfill: Fault;
  steps: Step<Change>[];
}

/** One provider's part: its changes made in the sandbox, its stale cursor, its truth against its tables. */
export interface FidelityModel<Change> {
  provider: SyncedProvider;
  /** Makes the change in the sandbox account (a change whose target is gone does nothing). */
  apply(userId: string, change: Change): void;
  /** The provider forgets the position the sync holds (Gmail's history expires, Calendar's sync token 410s). */
  staleCursor?(userId: string): void;
  /** The sandbox's truth and switchyard's tables, projected the same way: equal when the sync is faithful. */
  truth(userId: string): Promise<unknown> | unknown;
  stored(connectionId: number): Promise<unknown>;
}

const EMPTY = { gmailThreads: 0, calendarEvents: 0, leads: 0, contacts: 0, accounts: 0, opportunities: 0 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The file's sandboxed app, set for histories: a request times out after 150 ms (the hangs), the
 * provider clients do not retry in-process (a fault fails the job's attempt, which resumes from its
 * checkpoint), and the pacers do not slow anything down.
 */
export function useFidelityApp(provider: SyncedProvider) {
  const sync = useSyncTestApp(provider, {
    env: {
      PROVIDER_TIMEOUT_MS: '150',
      PROVIDER_MAX_RETRIES: '0',
      JOBS_BACKOFF_BASE_MS: '10',
      JOBS_LEASE_S: '5',
      GMAIL_QUOTA_UNITS_PER_MINUTE: '10000000',
      CALENDAR_REQUESTS_PER_MINUTE: '1000000',
      SALESFORCE_REQUESTS_PER_MINUTE: '1000000',
    },
  });
  afterAll(stopWarmChild);
  return sync;
}

type FidelityApp = ReturnType<typeof useFidelityApp>;

/**
 * Runs the property: every history played against a fresh sandbox user. Counts the faults the runs
 * contained and prints them (the README's figures come from `npm run test:fidelity`).
 */
export async function checkHistories<Change>(
  sync: FidelityApp,
  model: FidelityModel<Change>,
  arb: fc.Arbitrary<History<Change>>,
): Promise<void> {
  const tally = { histories: 0, syncRuns: 0, changes: 0, faults: {} as Partial<Record<FaultKind, number>> };
  const started = { at: Date.now(), cpu: process.cpuUsage() };
  let n = 0;
  const play = async (history: History<Change>) => {
    n += 1;
    const userId = `fid-${model.provider}-${n}`;
    tally.histories += 1;
    await playHistory(sync, model, userId, history, tally);
  };
  try {
    // A failure names the seed and the shrunk history; the error carries the diff and what was played.
    await fc.assert(fc.asyncProperty(arb, play), { numRuns: FIDELITY_RUNS, ...(FIDELITY_SEED === undefined ? {} : { seed: FIDELITY_SEED }) });
  } finally {
    const cpu = process.cpuUsage(started.cpu);
    const spent = { seconds: (Date.now() - started.at) / 1000, testProcessCpuSeconds: (cpu.user + cpu.system) / 1e6 };
    console.log(`fidelity ${model.provider}: ${JSON.stringify({ ...tally, ...spent })}`);
  }
}

async function playHistory<Change>(
  sync: FidelityApp,
  model: FidelityModel<Change>,
  userId: string,
  history: History<Change>,
  tally: { syncRuns: number; changes: number; faults: Partial<Record<FaultKind, number>> },
): Promise<void> {
  const { app, query } = sync;
  await query('DELETE FROM jobs; DELETE FROM job_users');
  app.sandbox.ensureUser(userId, EMPTY);
  for (const change of history.setup) model.apply(userId, change);
  // The connection as Nango's auth webhook records it: its backfill is queued, and runs under the first fault.
  const id = await sync.connectByWebhook(model.provider, userId, EMPTY);
  const connection = { id, userId, provider: model.provider };
  const played: string[] = [`connect (backfill queued) after ${history.setup.length} setup changes`];

  const check = async (when: string) => {
    const [truth, stored] = await Promise.all([model.truth(userId), model.stored(id)]);
    try {
      expect(stored).toEqual(truth);
    } catch (error) {
      const open = await query(`SELECT id, status, attempts, last_error FROM jobs ORDER BY id`);
      const cursors = await query(`SELECT stream, cursor FROM sync_states WHERE connection_id = $1`, [id]);
      throw new Error(
        `${when}: switchyard's tables differ from the sandbox's truth (user ${userId})\n` +
          `played:\n  ${played.join('\n  ')}\njobs: ${JSON.stringify(open)}\ncursors: ${JSON.stringify(cursors)}\n` +
          `differences (- the sandbox's truth, + switchyard's rows):\n${rowDiff(truth, stored).join('\n')}`,
        { cause: error },
      );
    }
  };

  const run = async (fault: Fault, queue: boolean) => {
    tally.syncRuns += 1;
    tally.faults[fault.kind] = (tally.faults[fault.kind] ?? 0) + 1;
    if (queue) await enqueueSyncs(app.database.db, connection, 'incremental');
    await syncUnder(sync, model, userId, fault);
    played.push(`sync under ${JSON.stringify(fault)}`);
    if (fault.kind === 'none') await check(`after the fault-free run at step ${played.length}`);
  };

  await run(history.backfill, false);
  for (const step of history.steps) {
    if ('change' in step) {
      tally.changes += 1;
      model.apply(userId, step.change);
      played.push(`change ${JSON.stringify(step.change)}`);
    } else await run(step.sync, true);
  }
  const last = history.steps.at(-1) ?? { sync: history.backfill };
  if ('sync' in last && last.sync.kind === 'none') return; // checked after it
  // Whatever the faults left, one fault-free incremental run brings the tables to the truth.
  await enqueueSyncs(app.database.db, connection, 'incremental');
  await settle(sync);
  played.push('final fault-free sync');
  await check('at the end');
}

/** JSON with object keys sorted (jsonb hands them back in its own order). */
const show = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );

/**
 * The rows that differ, one line each: missing, extra, or the fields that differ. Rows are found by
 * their provider id (a projection's string row is its own key); tables are the projection's top keys.
 */
export function rowDiff(truth: unknown, stored: unknown, table = ''): string[] {
  if (!Array.isArray(truth) || !Array.isArray(stored)) {
    if (truth && stored && typeof truth === 'object' && typeof stored === 'object') {
      return Object.keys({ ...truth, ...stored }).flatMap((key) =>
        rowDiff((truth as Record<string, unknown>)[key], (stored as Record<string, unknown>)[key], `${table}${key}: `),
      );
    }
    return show(truth) === show(stored) ? [] : [`${table}- ${show(truth)}`, `${table}+ ${show(stored)}`];
  }
  const keyOf = (row: unknown) =>
    typeof row === 'object' && row ? String((row as Record<string, unknown>).provider_id ?? (row as Record<string, unknown>).provider_event_id) : show(row);
  const want = new Map(truth.map((row) => [keyOf(row), row]));
  const have = new Map(stored.map((row) => [keyOf(row), row]));
  const lines: string[] = [];
  for (const [key, row] of want) {
    const got = have.get(key);
    if (got === undefined) lines.push(`${table}- ${show(row)}`);
    else if (show(got) !== show(row)) {
      const fields = Object.keys({ ...(row as object), ...(got as object) }).filter(
        (f) => show((row as Record<string, unknown>)[f]) !== show((got as Record<string, unknown>)[f]),
      );
      for (const f of fields) {
        lines.push(`${table}${key}.${f}: - ${show((row as Record<string, unknown>)[f])} + ${show((got as Record<string, unknown>)[f])}`);
      }
    }
  }
  for (const [key, row] of have) if (!want.has(key)) lines.push(`${table}+ ${show(row)}`);
  return lines;
}

/** One sync run under the fault, then whatever is left run to the end without faults. */
async function syncUnder<Change>(sync: FidelityApp, model: FidelityModel<Change>, userId: string, fault: Fault): Promise<void> {
  const { app } = sync;
  const provider = model.provider;
  const requests = () => app.sandbox.faultStats(provider).requests;
  const afterRequests = async (n: number, done: () => boolean) => {
    const start = requests();
    while (requests() - start < n && !done()) await sleep(1);
  };
  try {
    switch (fault.kind) {
      case 'none':
        break;
      case '5xx':
        app.sandbox.setFaults(provider, { errorRate: 0.3 });
        await pass();
        break;
      case '429':
        app.sandbox.setFaults(provider, { rateLimitRate: 0.3, retryAfterSeconds: 1 });
        await pass();
        break;
      case 'timeout':
        app.sandbox.setFaults(provider, { hangRate: 0.3, hangMs: 1_000 });
        await pass();
        break;
      case 'expiredToken': {
        let finished = false;
        const running = pass().finally(() => (finished = true));
        await afterRequests(fault.after, () => finished);
        app.sandbox.expireTokens(provider);
        await running;
        break;
      }
      case 'staleCursor':
        model.staleCursor!(userId);
        break;
      case 'leaseLapse': {
        // A runner frozen past its lease (a GC pause, a stalled VM): its lease lapses, another runner
        // takes the job over, and the first one wakes up and carries on until it learns its lease is lost.
        let finished = false;
        const frozen = testRunner(db(), handlers, { runnerId: 'frozen', leaseSeconds: 5, backoffBaseMs: 10, backoffMaxMs: 1_000 })
          .run({ deadline: Date.now() + 30_000 })
          .finally(() => (finished = true));
        await afterRequests(fault.after, () => finished);
        await sync.query(`UPDATE jobs SET locked_until = now() - interval '1 second' WHERE status = 'running' AND locked_by = 'frozen'`);
        await Promise.all([frozen, pass()]);
        break;
      }
      case 'sigkill': {
        const child = await warmChild(provider);
        const exited = new Promise((resolve) => child.once('exit', resolve));
        let gone = false;
        void exited.then(() => (gone = true));
        child.send('go');
        // Until the child has claimed the job, then until it has made `after` requests (or finished).
        const start = requests();
        const claimed = async () => (await sync.query(`SELECT 1 FROM jobs WHERE locked_by = 'doomed' OR status NOT IN ('queued', 'running')`)).length > 0;
        while (!gone && requests() === start && !(await claimed())) await sleep(2);
        await afterRequests(fault.after, () => gone);
        child.kill('SIGKILL');
        await exited;
        break;
      }
    }
  } finally {
    app.sandbox.setFaults(provider, {});
  }
  await settle(sync);
}

/**
 * A runner in a child process, loaded and waiting for 'go' (tests/fixtures/runner-child.ts), to be
 * SIGKILLed mid-run. Once one has been used, the next is kept warm: starting one takes a second or more.
 */
let spare: { provider: SyncedProvider; child: Promise<ChildProcess> } | undefined;

function startChild(provider: SyncedProvider): Promise<ChildProcess> {
  const child = fork(new URL('../fixtures/runner-child.ts', import.meta.url).pathname, [provider, '5'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...process.env, RUNNER_CHILD_ON_GO: '1' },
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`the runner child exited (${code}) before it was ready`)));
  });
}

async function warmChild(provider: SyncedProvider): Promise<ChildProcess> {
  const ready = spare?.provider === provider ? spare.child : startChild(provider);
  const next = startChild(provider);
  next.catch(() => undefined);
  spare = { provider, child: next };
  return ready;
}

/** Kills the warm child (after the file's histories). */
async function stopWarmChild(): Promise<void> {
  const left = spare;
  spare = undefined;
  if (left) (await left.child.catch(() => undefined))?.kill('SIGKILL');
}

/** One pass of the app's runner, as the cron runs it. */
const pass = () => runner().run({ deadline: Date.now() + 30_000 });

/**
 * Runs passes until no job is open. Time the queue would wait for (a backoff, a deferral, a lease a
 * dead runner left, an open circuit breaker) is skipped: the model is about what is stored, not when.
 */
async function settle(sync: FidelityApp): Promise<void> {
  for (let passes = 0; ; passes++) {
    const [state] = await sync.query<{ open: number }>(`
      WITH due AS (UPDATE jobs SET run_at = now() WHERE status = 'queued' AND run_at > now()),
           lapsed AS (UPDATE jobs SET locked_until = now() - interval '1 second' WHERE status = 'running')
      SELECT count(*)::int AS open FROM jobs WHERE status IN ('queued', 'running')`);
    if (state!.open === 0) return;
    if (passes > 50) {
      const open = await sync.query(`SELECT id, status, attempts, run_at, locked_until, last_error FROM jobs WHERE status IN ('queued', 'running')`);
      throw new Error(`jobs still open after 50 passes: ${JSON.stringify(open)}`);
    }
    resetProviderPoliciesForTests();
    await pass();
  }
}
