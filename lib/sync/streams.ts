import type { Provider } from '../../db/schema';

/**
 * What each provider's sync keeps, stream by stream. A stream has its own cursor (sync_states) and
 * at most one sync job queued or running at a time (dedupe key).
 */
export const STREAMS: Record<Provider, readonly string[]> = {
  gmail: ['threads'],
  calendar: ['events'],
  salesforce: ['Lead', 'Contact', 'Account', 'Opportunity'],
};

export type SyncMode = 'initial' | 'incremental' | 'full' | 'date_range';

export interface SyncPayload {
  connectionId: number;
  stream: string;
  /**
   * 'initial' backfills when the stream has no cursor yet and continues incrementally otherwise, so a
   * rerun of an initial job never repeats a finished backfill; 'full' discards the cursor first.
   */
  mode: SyncMode;
  startDate?: string;
  endDate?: string;
}

export const syncJobKind = (provider: Provider) => `sync.${provider}`;
export const syncDedupeKey = (connectionId: number, stream: string) => `sync:${connectionId}:${stream}`;

/** Maps a Nango sync model name (`GmailThread`, `SalesforceLead`, `Lead`, `leads`…) to streams. */
export function streamsForModel(provider: Provider, model: string | undefined): readonly string[] {
  if (provider !== 'salesforce' || !model) return STREAMS[provider];
  const lowered = model.toLowerCase();
  const match = STREAMS.salesforce.find((object) => lowered.includes(object.toLowerCase()));
  return match ? [match] : STREAMS.salesforce;
}
