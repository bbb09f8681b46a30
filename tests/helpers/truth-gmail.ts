import type { Sandbox } from '../../dev/sandbox/index';

type Query = <T = any>(text: string, values?: unknown[]) => Promise<T[]>;

/** The sandbox mailbox's threads, newest first, as Gmail lists them (spam and trash included). */
export function sandboxThreadIds(sandbox: Sandbox, userId: string, limit = Infinity): string[] {
  const ids: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = sandbox.gmail.listThreads(userId, { maxResults: 500, includeSpamTrash: true, ...(pageToken ? { pageToken } : {}) });
    ids.push(...(page.threads ?? []).map((t) => t.id));
    pageToken = page.nextPageToken;
  } while (pageToken && ids.length < limit);
  return ids.slice(0, limit);
}

/** "thread|message|labels" for every live message of those threads, as the sandbox has them now. */
export function sandboxSnapshot(sandbox: Sandbox, userId: string, threadIds: string[]): string[] {
  return threadIds
    .flatMap((id) => {
      try {
        return sandbox.gmail.getThread(userId, id, 'minimal').messages.map((m) => `${id}|${m.id}|${[...m.labelIds].sort().join(',')}`);
      } catch {
        return []; // gone
      }
    })
    .sort();
}

/** The same, from what the sync stored (live rows only). */
export async function storedSnapshot(query: Query, connectionId: number): Promise<string[]> {
  const rows = await query<{ line: string }>(
    `SELECT t.provider_thread_id || '|' || m.provider_message_id || '|' || array_to_string(m.label_ids, ',') AS line
     FROM email_messages m JOIN email_threads t ON t.id = m.thread_id
     WHERE m.connection_id = $1 AND m.deleted_at IS NULL AND t.deleted_at IS NULL`,
    [connectionId],
  );
  return rows.map((r) => r.line).sort();
}

/** "thread|messages|labels|newest" for every live thread of the mailbox: what a thread row sums up. */
export function sandboxThreadSummaries(sandbox: Sandbox, userId: string): string[] {
  return sandboxThreadIds(sandbox, userId)
    .map((id) => {
      const messages = sandbox.gmail.getThread(userId, id, 'minimal').messages;
      const labels = [...new Set(messages.flatMap((m) => m.labelIds))].sort();
      return `${id}|${messages.length}|${labels.join(',')}|${Math.max(...messages.map((m) => Number(m.internalDate)))}`;
    })
    .sort();
}

/** The same, from the live thread rows. */
export async function storedThreadSummaries(query: Query, connectionId: number): Promise<string[]> {
  const rows = await query<{ line: string }>(
    `SELECT provider_thread_id || '|' || message_count || '|' || array_to_string(label_ids, ',') || '|' ||
            (extract(epoch FROM last_message_at) * 1000)::bigint AS line
     FROM email_threads WHERE connection_id = $1 AND deleted_at IS NULL`,
    [connectionId],
  );
  return rows.map((r) => r.line).sort();
}
