/** What the queue benchmarks ask of each system, so that all are measured the same way. */
export interface QueueSystem {
  name: string;
  /** Creates the system's schema in its own, empty database. */
  setup(databaseUrl: string): Promise<void>;
  /** Enqueues `count` no-op jobs in as few calls as the system allows. */
  bulkEnqueue(count: number): Promise<void>;
  /** Starts `workers` workers, resolves once `count` jobs ran, and stops them. */
  processAll(count: number, workers: number): Promise<void>;
  /**
   * One worker, idle queue; enqueues `count` jobs at `perSecond` the way a producer would, and
   * returns each job's enqueue-to-start latency in ms.
   */
  latency(count: number, perSecond: number): Promise<number[]>;
  teardown(): Promise<void>;
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
