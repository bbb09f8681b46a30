import pg from 'pg';

/** The channel every enqueue of a runnable job notifies (in the enqueue statement, so on commit). */
export const JOBS_CHANNEL = 'switchyard_jobs';

export interface JobListenerOptions {
  connectionString: string;
  /** Called on each notification: start a pass or nudge the one under way (`runner.kick`). */
  onJobs: () => void;
  onError?: (error: unknown) => void;
  applicationName?: string;
  /** Wait before reconnecting after the connection dropped (default 1,000 ms). */
  reconnectMs?: number;
}

export interface JobListener {
  /** Resolves once the first LISTEN is in place: enqueues from then on wake the runner. */
  listening: Promise<void>;
  close(): Promise<void>;
}

/**
 * Wakes a long-lived runner the moment a job is enqueued by any process (another instance, a webhook
 * function): one dedicated connection LISTENs on JOBS_CHANNEL, reconnecting after a drop (the runner's
 * own polling covers the gap). An in-process `kick()` only reaches the runner of the same process.
 *
 * For long-lived processes only (the local server, a worker on a VM or container): a Vercel function
 * holds a connection only while an invocation runs, so there the cron pass and `kick()` remain the
 * wake-ups. Needs a session connection: not through PgBouncer in transaction mode.
 */
export function listenForJobs(options: JobListenerOptions): JobListener {
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  let markListening!: () => void;
  const listening = new Promise<void>((resolve) => (markListening = resolve));

  const connect = async () => {
    if (closed) return;
    const next = new pg.Client({
      connectionString: options.connectionString,
      application_name: options.applicationName ?? 'switchyard-listener',
    });
    const reconnect = (error?: unknown) => {
      if (error) options.onError?.(error);
      if (client === next) client = null;
      next.removeAllListeners();
      void next.end().catch(() => {});
      if (!closed && !retry) retry = setTimeout(() => ((retry = null), void connect()), options.reconnectMs ?? 1_000);
    };
    next.on('notification', (message) => {
      if (message.channel === JOBS_CHANNEL) options.onJobs();
    });
    next.on('error', reconnect);
    next.on('end', () => reconnect());
    try {
      await next.connect();
      await next.query(`LISTEN ${JOBS_CHANNEL}`);
      if (closed) return void next.end().catch(() => {});
      client = next;
      markListening();
      // Jobs enqueued while no connection listened: look now.
      options.onJobs();
    } catch (error) {
      reconnect(error);
    }
  };
  void connect();

  return {
    listening,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const current = client;
      client = null;
      current?.removeAllListeners();
      await current?.end().catch(() => {});
    },
  };
}
