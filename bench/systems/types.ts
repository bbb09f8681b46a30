/** What the queue benchmarks ask of each system, so that all are measured the same way. */
export interface QueueSystem {
  name: string;
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
   * One worker, idle queue; enqueues `count` jobs at `perSecond` the way a producer would, and
   * returns each job's enqueue-to-start latency in ms.
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

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every `everyMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitFor(condition: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= end) return false;
    await sleep(everyMs);
  }
  return true;
}
