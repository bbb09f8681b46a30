import type { Logger } from 'pino';
import type { Db } from '../../db/client';
import type { Connection } from '../../db/schema';
import type { JobContext } from '../jobs/runner';
import { ConnectionCredentials } from '../providers/credentials';
import { ProviderError } from '../providers/errors';
import { QuotaPacer } from '../providers/quota';
import { callProvider } from '../providers/resilience';
import type { SyncPayload } from './streams';

/** Everything one sync run of one stream needs; built by lib/sync/handlers.ts. */
export interface SyncContext {
  db: Db;
  connection: Connection;
  stream: string;
  payload: SyncPayload;
  job: JobContext;
  logger: Logger;
  credentials: ConnectionCredentials;
  pacer: QuotaPacer;
  /** Epoch ms after which the sync must checkpoint and return (a margin before the runner's deadline). */
  deadline: number;
  /**
   * One provider request: paced (`units` of quota), under the provider's timeout/retry/breaker policy,
   * and re-authenticated once on a 401 with a fresh token from Nango.
   */
  request<T>(units: number, call: (accessToken: string, signal: AbortSignal) => Promise<T>): Promise<T>;
  /** Replaces the job's progress document. */
  progress(progress: SyncProgress): Promise<void>;
}

export interface SyncProgress {
  phase: 'backfill' | 'incremental' | 'full_resync' | 'done';
  pages: number;
  records: number;
  /** Where the provider gives one. */
  estimatedTotal?: number | null;
  detail?: string;
}

/** What a provider's sync returns: finished, or checkpointed (the cursor saved) to continue later. */
export type SyncOutcome = { status: 'done'; records: number } | { status: 'checkpoint'; records: number };

export type ProviderSync = (context: SyncContext) => Promise<SyncOutcome>;

export function buildRequest(
  provider: string,
  credentials: ConnectionCredentials,
  pacer: QuotaPacer,
  deadline: () => number,
  signal: AbortSignal,
) {
  return async <T>(units: number, call: (accessToken: string, signal: AbortSignal) => Promise<T>): Promise<T> => {
    let refreshed = false;
    while (true) {
      const { accessToken } = await credentials.get();
      try {
        return await callProvider(
          provider,
          (requestSignal) => call(accessToken, requestSignal),
          signal,
          () => pacer.take(units, deadline(), signal),
        );
      } catch (error) {
        if (error instanceof ProviderError && error.isUnauthorized && !refreshed) {
          refreshed = true;
          await credentials.refresh(accessToken);
          continue;
        }
        throw error;
      }
    }
  };
}
