/** What the queue benchmarks ask of each system, so that all are measured the same way. */
export interface QueueSystem {
  name: string;
  /** Jobs each worker holds at most (running, or fetched and waiting in the worker), as configured. */
  jobsInFlight: string;
  /** How this system is configured for the benchmark (printed and saved with the results). */
  configuration?: Record<string, unknown>;
  /** Creates the system's schema in its own, empty database. */
  setup(databaseUrl: string): Promise<void>;
  /** Enqueues `count` no-op jobs in as few calls as the system allows. */
  bulkEnqueue(count: number): Promise<void>;
  /**
   * Starts `workers` workers, resolves once `count` jobs ran and were recorded as finished, and stops
   * them. Resolves with the milliseconds from the start of processing until the database showed every
   * job finished (see `startClock`; worker start-up before processing and shut-down are not counted).
   */
  processAll(count: number, workers: number): Promise<number>;
  /**
   * One worker, idle queue; enqueues `count` jobs at `perSecond` the way a producer in another
   * process would (no in-process nudge), and returns each job's enqueue-to-start latency in ms.
   */
  latency(count: number, perSecond: number): Promise<number[]>;
  /**
   * Crash recovery: a worker in a child process takes `held` jobs whose handler never returns and
   * is killed with SIGKILL; a surviving worker in this process, in the system's default
   * configuration, runs them. Measured from the kill until all `held` jobs ran again, up to `capMs`.
   */
  recovery?(held: number, capMs: number): Promise<RecoveryResult>;
  teardown(): Promise<void>;
}

export interface RecoveryResult {
  /** Jobs the killed worker held when it was killed. */
  held: number;
  /** Of those, how many the survivor ran before the cap. */
  recovered: number;
  /** Seconds from SIGKILL until the last of them started again; null when not all did within the cap. */
  seconds: number | null;
  capSeconds: number;
  /** What the system does with a dead worker's jobs in this configuration. */
  mechanism: string;
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/**
 * The processing clock, the same for every system: it starts when the workers start processing
 * (`begin()`, or the first handler start if the system gives no earlier point), counts handler
 * starts, and stops once the database shows every job finished (settled, completed or deleted),
 * polled every 5 ms from the moment the last handler started.
 */
export function startClock(count: number) {
  let seen = 0;
  let began = 0;
  let resolveStarted!: () => void;
  const started = new Promise<void>((resolve) => (resolveStarted = resolve));
  return {
    begin() {
      if (began === 0) began = performance.now();
    },
    tick(n = 1) {
      if (began === 0) began = performance.now();
      seen += n;
      if (seen >= count) resolveStarted();
    },
    get seen() {
      return seen;
    },
    /** Resolves with the milliseconds from the start until `unfinished()` reports 0. */
    async finished(unfinished: () => Promise<number>): Promise<number> {
      await started;
      while ((await unfinished()) > 0) await sleep(5);
      return performance.now() - began;
    },
  };
}

export type Clock = ReturnType<typeof startClock>;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Wall-clock milliseconds with sub-millisecond precision, comparable across the producer and the handler. */
export const epochMs = () => performance.timeOrigin + performance.now();

/** Latency samples left out at the start of each trickle (see `latencyProbe`). */
export const WARM_UP_SAMPLES = 100;

/**
 * The latency phase, the same for every system: the handler calls `started(enqueuedAt)` with the
 * time the producer stamped into the job; `trickle` enqueues `count` jobs at `perSecond` through
 * `send` (fired without waiting, as independent producers would) and resolves with every job's
 * enqueue-to-start latency once all have started.
 */
export function latencyProbe() {
  const samples: number[] = [];
  return {
    started(enqueuedAt: number) {
      samples.push(epochMs() - enqueuedAt);
    },
    async trickle(count: number, perSecond: number, send: (enqueuedAt: number, index: number) => Promise<unknown>): Promise<number[]> {
      const interval = 1_000 / perSecond;
      const begin = performance.now();
      let failed = 0;
      for (let i = 0; i < count; i++) {
        const wait = begin + i * interval - performance.now();
        if (wait > 0) await sleep(wait);
        void send(epochMs(), i).catch((error) => {
          failed += 1;
          if (failed === 1) console.error(`enqueue failed: ${String(error).slice(0, 300)}`);
        });
      }
      // Every job started, or failed to be enqueued; at most a minute more (then what started counts).
      await waitFor(() => samples.length + failed >= count, 60_000, 10);
      if (samples.length < count) console.error(`latency: ${samples.length} of ${count} jobs started (${failed} enqueues failed)`);
      // The first jobs measure the worker's and the producer's cold start (pool connections opened,
      // statements prepared, code compiled), not the queue: every system's are left out alike.
      return samples.slice(Math.min(WARM_UP_SAMPLES, Math.floor(samples.length / 10)));
    },
  };
}

/**
 * The recovery phase's bookkeeping: which of the killed worker's jobs the survivor ran, and when
 * the last of them started.
 */
export function recoveryTracker() {
  const done = new Set<string>();
  let lastAt = 0;
  return {
    ran(id: string | number) {
      const key = String(id);
      if (!done.has(key)) (done.add(key), (lastAt = performance.now()));
    },
    get count() {
      return done.size;
    },
    /** Waits until `held` jobs ran or the cap passes, and reports it. */
    async result(held: number, killedAt: number, capMs: number, mechanism: string): Promise<RecoveryResult> {
      const all = await waitFor(() => done.size >= held, capMs - (performance.now() - killedAt), 100);
      return {
        held,
        recovered: done.size,
        seconds: all ? (lastAt - killedAt) / 1000 : null,
        capSeconds: capMs / 1000,
        mechanism,
      };
    },
  };
}

/** Polls `condition` every `everyMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(condition: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
  return true;
}
