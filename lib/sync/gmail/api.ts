import type { gmail_v1 } from '@googleapis/gmail';
import { gmailApi, googleError, googleRequestOptions } from '../../providers/google';
import type { SyncContext } from '../engine/types';

/**
 * The Gmail calls the sync makes, each through `context.request` (paced under the user's quota,
 * timeout/retry/breaker, one token refresh on 401) at Gmail's quota cost in units
 * (developers.google.com/gmail/api/reference/quota).
 */
export const GMAIL_UNITS = {
  getProfile: 1,
  threadsList: 10,
  threadsGet: 10,
  historyList: 2,
} as const;

/** Gmail's largest threads.list and history.list page: a page costs the same units whatever its size. */
export const GMAIL_MAX_PAGE = 500;

function call<T>(context: SyncContext, units: number, run: (options: ReturnType<typeof googleRequestOptions>) => Promise<{ data: T }>): Promise<T> {
  return context.request(units, async (accessToken, signal) => {
    try {
      return (await run(googleRequestOptions(accessToken, signal))).data;
    } catch (error) {
      throw googleError('gmail', error);
    }
  });
}

export function getProfile(context: SyncContext): Promise<gmail_v1.Schema$Profile> {
  return call(context, GMAIL_UNITS.getProfile, (options) => gmailApi().users.getProfile({ userId: 'me' }, options));
}

export function listThreads(
  context: SyncContext,
  params: { pageToken?: string; maxResults: number; q?: string },
): Promise<gmail_v1.Schema$ListThreadsResponse> {
  return call(context, GMAIL_UNITS.threadsList, (options) =>
    gmailApi().users.threads.list(
      {
        userId: 'me',
        maxResults: params.maxResults,
        // Spam and trash too: an incremental sync sees a thread moved to the trash as a label change and
        // keeps it (labelled TRASH), so a listing must hold the same threads or the two would disagree.
        includeSpamTrash: true,
        ...(params.pageToken ? { pageToken: params.pageToken } : {}),
        ...(params.q ? { q: params.q } : {}),
      },
      options,
    ),
  );
}

export function getThread(context: SyncContext, id: string): Promise<gmail_v1.Schema$Thread> {
  return call(context, GMAIL_UNITS.threadsGet, (options) => gmailApi().users.threads.get({ userId: 'me', id, format: 'full' }, options));
}

export function listHistory(
  context: SyncContext,
  params: { startHistoryId: string; maxResults: number },
): Promise<gmail_v1.Schema$ListHistoryResponse> {
  return call(context, GMAIL_UNITS.historyList, (options) =>
    gmailApi().users.history.list({ userId: 'me', startHistoryId: params.startHistoryId, maxResults: params.maxResults }, options),
  );
}
