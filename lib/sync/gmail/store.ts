import { sql } from 'drizzle-orm';
import type { Db } from '../../../db/client';
import { emailMessages, emailThreads, type Connection } from '../../../db/schema';
import { excludedOf } from '../../../db/upsert';
import { emitEvents, upsertInteractions, type EventInput, type InteractionInput, type Tx } from '../records';
import type { Classification } from './classify';
import type { ListingReason } from './cursor';
import type { Address, NormalizedMessage } from './message';

/** A thread as threads.get returned it, normalised and classified; or gone (404, or no message left). */
export type FetchedThread =
  | {
      id: string;
      gone: false;
      historyId: string | null;
      /** Chronological. */
      messages: NormalizedMessage[];
      classification: Classification;
      /** Per message, same order. */
      categories: Classification[];
    }
  | { id: string; gone: true };

export interface StoreResult {
  threads: number;
  /** Messages stored for the first time (each emitted `email.received`). */
  received: number;
  /** Messages marked deleted (no longer in their thread, or the thread is gone). */
  deleted: number;
}

type Owner = Pick<Connection, 'id' | 'userId'>;

export interface Participant {
  name: string | null;
  address: string;
}

/** Postgres text and jsonb refuse NUL; a malformed message must not stop the sync. */
const clean = (value: string): string => (value.includes('\u0000') ? value.replace(/\u0000/g, '') : value);
const cleanOrNull = (value: string | null): string | null => (value === null ? null : clean(value));
const cleanAddress = (a: Address): Participant => ({ name: cleanOrNull(a.name), address: clean(a.address) });
const sortedUnique = (labels: Iterable<string>): string[] => [...new Set([...labels].map(clean))].sort();

/**
 * Everyone on the thread (From, To, Cc of its messages), once per address, sorted by address; the
 * name is the first one a message gave. Must agree with refreshThreads' SQL.
 */
export function threadParticipants(messages: NormalizedMessage[]): Participant[] {
  const byAddress = new Map<string, Participant>();
  for (const m of messages) {
    for (const a of [...(m.from ? [m.from] : []), ...m.to, ...m.cc]) {
      const p = cleanAddress(a);
      const known = byAddress.get(p.address);
      if (!known) byAddress.set(p.address, p);
      else if (known.name === null && p.name !== null) known.name = p.name;
    }
  }
  return [...byAddress.values()].sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
}

function messageParticipants(m: NormalizedMessage): Array<Participant & { role: 'from' | 'to' | 'cc' }> {
  return [
    ...(m.from ? [{ ...cleanAddress(m.from), role: 'from' as const }] : []),
    ...m.to.map((a) => ({ ...cleanAddress(a), role: 'to' as const })),
    ...m.cc.map((a) => ({ ...cleanAddress(a), role: 'cc' as const })),
  ];
}

/** Rows of one INSERT stay far below Postgres' 65,535 bind parameters (22 columns a message). */
const MESSAGE_CHUNK = 500;

/**
 * Stores fetched threads as Gmail has them now, in the caller's transaction: upserts each live thread
 * and its messages, marks deleted the messages Gmail no longer has in them and the threads that are
 * gone, and writes the matching events (`email.received` once per new message, `email.deleted`) and
 * timeline rows.
 */
export async function storeThreads(
  tx: Tx,
  owner: Owner,
  fetched: FetchedThread[],
  options: { syncedBy: ListingReason | 'history' },
): Promise<StoreResult> {
  const live = dedupeById(fetched.filter((t): t is Extract<FetchedThread, { gone: false }> => !t.gone));
  const gone = [...new Set(fetched.filter((t) => t.gone).map((t) => t.id))];
  const result: StoreResult = { threads: live.length, received: 0, deleted: 0 };
  const events: EventInput[] = [];
  const interactions: InteractionInput[] = [];

  if (live.length > 0) {
    // Always written (updated_at moves), unlike messages: a full resync tells listed threads from
    // unlisted ones by it.
    const threadRows = await tx
      .insert(emailThreads)
      .values(
        live.map((t) => {
          const first = t.messages[0]!;
          const last = t.messages[t.messages.length - 1]!;
          return {
            connectionId: owner.id,
            userId: owner.userId,
            providerThreadId: t.id,
            subject: clean(first.subject),
            snippet: clean(last.snippet),
            category: t.classification.category,
            categoryReasons: t.classification.reasons.map(clean),
            senders: sortedUnique(t.messages.flatMap((m) => (m.from ? [m.from.address] : []))),
            participants: threadParticipants(t.messages),
            labelIds: sortedUnique(t.messages.flatMap((m) => m.labelIds)),
            messageCount: t.messages.length,
            lastMessageAt: new Date(Math.max(...t.messages.map((m) => m.internalDate.getTime()))),
            historyId: t.historyId,
            deletedAt: null,
          };
        }),
      )
      .onConflictDoUpdate({
        target: [emailThreads.connectionId, emailThreads.providerThreadId],
        set: {
          ...excludedOf(emailThreads, [
            'subject', 'snippet', 'category', 'categoryReasons', 'senders', 'participants', 'labelIds', 'messageCount',
            'lastMessageAt', 'historyId',
          ]),
          deletedAt: sql`NULL`,
          updatedAt: sql`now()`,
        },
      })
      .returning({ id: emailThreads.id, providerThreadId: emailThreads.providerThreadId });
    const threadIdOf = new Map(threadRows.map((row) => [row.providerThreadId, row.id]));

    const rows = live.flatMap((t) =>
      t.messages.map((m, i) => ({ thread: t, message: m, category: t.categories[i]!.category, threadRowId: threadIdOf.get(t.id)! })),
    );
    const messageById = new Map(rows.map((r) => [r.message.providerMessageId, r]));
    for (let start = 0; start < rows.length; start += MESSAGE_CHUNK) {
      const chunk = dedupeMessages(rows.slice(start, start + MESSAGE_CHUNK));
      const written = await tx
        .insert(emailMessages)
        .values(
          chunk.map(({ message: m, category, threadRowId }) => ({
            threadId: threadRowId,
            connectionId: owner.id,
            userId: owner.userId,
            providerMessageId: m.providerMessageId,
            fromAddress: m.from ? clean(m.from.address) : null,
            fromName: m.from ? cleanOrNull(m.from.name) : null,
            to: m.to.map(cleanAddress),
            cc: m.cc.map(cleanAddress),
            subject: clean(m.subject),
            snippet: clean(m.snippet),
            sentAt: m.sentAt,
            internalDate: m.internalDate,
            bodyText: clean(m.bodyText),
            cleanBody: clean(m.cleanBody),
            quotedText: cleanOrNull(m.quotedText),
            signature: cleanOrNull(m.signature),
            labelIds: sortedUnique(m.labelIds),
            attachments: m.attachments.map((a) => ({
              filename: clean(a.filename),
              mimeType: clean(a.mimeType),
              size: a.size,
              attachmentId: a.attachmentId === null ? null : clean(a.attachmentId),
              partId: clean(a.partId),
            })),
            hasCalendarInvite: m.hasCalendarInvite,
            category,
            deletedAt: null,
          })),
        )
        .onConflictDoUpdate({
          target: [emailMessages.connectionId, emailMessages.providerMessageId],
          set: {
            ...excludedOf(emailMessages, ['threadId', 'labelIds', 'category']),
            deletedAt: sql`NULL`,
            updatedAt: sql`now()`,
          },
          // A Gmail message never changes after it is sent, except for its labels: refetching a thread
          // for one new reply must not rewrite every older message of it.
          setWhere: sql`${emailMessages.labelIds} IS DISTINCT FROM excluded.label_ids
            OR ${emailMessages.deletedAt} IS NOT NULL
            OR ${emailMessages.category} IS DISTINCT FROM excluded.category
            OR ${emailMessages.threadId} IS DISTINCT FROM excluded.thread_id`,
        })
        .returning({ providerMessageId: emailMessages.providerMessageId, inserted: sql<boolean>`(xmax = 0)` });

      for (const row of written) {
        const { thread, message: m, category } = messageById.get(row.providerMessageId)!;
        interactions.push(interactionOf(owner, m));
        if (!row.inserted) continue;
        result.received += 1;
        events.push({
          userId: owner.userId,
          connectionId: owner.id,
          type: 'email.received',
          providerId: m.providerMessageId,
          version: m.providerMessageId,
          payload: {
            threadId: thread.id,
            messageId: m.providerMessageId,
            from: m.from ? cleanAddress(m.from) : null,
            // What automations' conditions read (lib/automations/facts.ts): matching needs no other table.
            to: m.to.map(cleanAddress),
            cc: m.cc.map(cleanAddress),
            subject: clean(m.subject),
            snippet: clean(m.snippet),
            hasAttachment: m.attachments.length > 0,
            category,
            threadCategory: thread.classification.category,
            labelIds: sortedUnique(m.labelIds),
            internalDate: m.internalDate.toISOString(),
            // How it was found: 'history' is mail that arrived; a listing ('backfill', 'full',
            // 'date_range', 'history_expired') mostly stores mail that is not new, for automations to tell.
            syncedBy: options.syncedBy,
          },
        });
      }
    }

    // What Gmail no longer has in these threads was deleted (a delete seen in the thread before its
    // history record is read).
    const keptIds = rows.map((r) => r.message.providerMessageId);
    const removed = await tx.execute<DeletedRow>(sql`
      UPDATE email_messages m SET deleted_at = now(), updated_at = now()
      FROM email_threads t
      WHERE t.id = m.thread_id
        AND m.thread_id = ANY(${pgArray([...threadIdOf.values()])}::bigint[])
        AND m.deleted_at IS NULL
        AND m.provider_message_id <> ALL(${pgArray(keptIds)}::text[])
      RETURNING m.provider_message_id, t.provider_thread_id
    `);
    result.deleted += deletedRows(owner, removed.rows, events);
  }

  if (gone.length > 0) {
    const removed = await tx.execute<DeletedRow>(sql`
      WITH gone AS (
        UPDATE email_threads SET deleted_at = coalesce(deleted_at, now()), message_count = 0, updated_at = now()
        WHERE connection_id = ${owner.id} AND provider_thread_id = ANY(${pgArray(gone)}::text[])
        RETURNING id, provider_thread_id
      )
      UPDATE email_messages m SET deleted_at = now(), updated_at = now()
      FROM gone
      WHERE m.thread_id = gone.id AND m.deleted_at IS NULL
      RETURNING m.provider_message_id, gone.provider_thread_id
    `);
    result.deleted += deletedRows(owner, removed.rows, events);
  }

  await markInteractionsDeleted(tx, owner, events.filter((e) => e.type === 'email.deleted').map((e) => e.providerId));
  await upsertInteractions(tx, interactions);
  await emitEvents(tx, events);
  return result;
}

export interface HistoryChanges {
  /** messagesDeleted, in history order. */
  deletedMessageIds: string[];
  /** labelsAdded / labelsRemoved, in history order. */
  labelChanges: Array<{ historyId: string; messageId: string; added: string[]; removed: string[] }>;
}

/**
 * Applies a history page's deletions and label changes to the messages held, in the caller's
 * transaction, and refreshes the touched threads' counts, labels, senders and last message. New mail
 * is not here: its threads are fetched (storeThreads).
 */
export async function applyHistory(tx: Tx, owner: Owner, changes: HistoryChanges): Promise<{ deleted: number; relabelled: number }> {
  const events: EventInput[] = [];
  const touched = new Set<number>();
  let deleted = 0;

  const deletedIds = [...new Set(changes.deletedMessageIds)];
  if (deletedIds.length > 0) {
    const removed = await tx.execute<DeletedRow & { thread_id: number }>(sql`
      UPDATE email_messages m SET deleted_at = now(), updated_at = now()
      FROM email_threads t
      WHERE t.id = m.thread_id
        AND m.connection_id = ${owner.id}
        AND m.provider_message_id = ANY(${pgArray(deletedIds)}::text[])
        AND m.deleted_at IS NULL
      RETURNING m.provider_message_id, t.provider_thread_id, m.thread_id
    `);
    const rows = removed.rows;
    for (const row of rows) touched.add(Number(row.thread_id));
    deleted = deletedRows(owner, rows, events);
    await markInteractionsDeleted(tx, owner, rows.map((r) => r.provider_message_id));
  }

  // Net effect per message, in history order: for each label, the last change wins.
  const net = new Map<string, { added: Set<string>; removed: Set<string>; historyId: string }>();
  for (const change of changes.labelChanges) {
    const entry = net.get(change.messageId) ?? { added: new Set<string>(), removed: new Set<string>(), historyId: change.historyId };
    for (const label of change.added) {
      entry.added.add(label);
      entry.removed.delete(label);
    }
    for (const label of change.removed) {
      entry.removed.add(label);
      entry.added.delete(label);
    }
    entry.historyId = change.historyId;
    net.set(change.messageId, entry);
  }
  let relabelled = 0;
  if (net.size > 0) {
    const input = [...net].map(([id, e]) => ({ id, added: [...e.added].map(clean), removed: [...e.removed].map(clean) }));
    const updated = await tx.execute<{ provider_message_id: string; thread_id: number; provider_thread_id: string; before: string[]; label_ids: string[] }>(sql`
      WITH change AS (
        SELECT m.id, m.label_ids AS before,
               ARRAY(SELECT DISTINCT l COLLATE "C" FROM unnest(m.label_ids || c.added) AS l WHERE l <> ALL (c.removed) ORDER BY 1) AS labels
        FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS c(id text, added text[], removed text[])
        JOIN email_messages m ON m.connection_id = ${owner.id} AND m.provider_message_id = c.id AND m.deleted_at IS NULL
      )
      UPDATE email_messages m SET label_ids = change.labels, updated_at = now()
      FROM change, email_threads t
      WHERE m.id = change.id AND t.id = m.thread_id AND m.label_ids IS DISTINCT FROM change.labels
      RETURNING m.provider_message_id, m.thread_id, t.provider_thread_id, change.before, m.label_ids
    `);
    relabelled = updated.rows.length;
    for (const row of updated.rows) {
      touched.add(Number(row.thread_id));
      events.push({
        userId: owner.userId,
        connectionId: owner.id,
        type: 'email.labels_changed',
        providerId: row.provider_message_id,
        version: net.get(row.provider_message_id)!.historyId,
        payload: {
          threadId: row.provider_thread_id,
          messageId: row.provider_message_id,
          // What changed on the stored message (a label added then removed again changes nothing).
          added: row.label_ids.filter((l) => !row.before.includes(l)),
          removed: row.before.filter((l) => !row.label_ids.includes(l)),
          labelIds: row.label_ids,
        },
      });
    }
  }

  await refreshThreads(tx, [...touched]);
  await emitEvents(tx, events);
  return { deleted, relabelled };
}

/**
 * Sorted arrays (labels, senders, participants) use the "C" collation: byte order, as JavaScript's
 * sort orders the same ASCII values when a thread is stored whole, whatever the database's locale.
 *
 * Recomputes what a thread row derives from its live messages (count, last message time and snippet,
 * labels, senders, participants) after messages changed without a refetch; a thread left without a
 * live message is marked deleted. Subject and category stay: they come from the classifier, which
 * reads whole messages. One statement.
 */
async function refreshThreads(tx: Tx, threadIds: number[]): Promise<void> {
  if (threadIds.length === 0) return;
  await tx.execute(sql`
    UPDATE email_threads t
    SET message_count = s.n,
        last_message_at = coalesce(s.last_at, t.last_message_at),
        snippet = coalesce(s.snippet, t.snippet),
        label_ids = s.labels,
        senders = s.senders,
        participants = s.participants,
        deleted_at = CASE WHEN s.n = 0 THEN coalesce(t.deleted_at, now()) END,
        updated_at = now()
    FROM (
      SELECT u.id,
             count(m.id)::int AS n,
             max(m.internal_date) AS last_at,
             (array_agg(m.snippet ORDER BY m.internal_date DESC, m.id DESC) FILTER (WHERE m.id IS NOT NULL))[1] AS snippet,
             coalesce(array_agg(DISTINCT m.from_address COLLATE "C" ORDER BY m.from_address COLLATE "C") FILTER (WHERE m.from_address IS NOT NULL), '{}') AS senders,
             ARRAY(
               SELECT DISTINCT l COLLATE "C" FROM email_messages x, unnest(x.label_ids) AS l
               WHERE x.thread_id = u.id AND x.deleted_at IS NULL ORDER BY 1
             ) AS labels,
             (
               SELECT coalesce(jsonb_agg(jsonb_build_object('name', p.name, 'address', p.address) ORDER BY p.address COLLATE "C"), '[]'::jsonb)
               FROM (
                 SELECT DISTINCT ON (a->>'address') a->>'address' AS address, a->>'name' AS name
                 FROM email_messages x
                 CROSS JOIN LATERAL jsonb_array_elements(
                   CASE WHEN x.from_address IS NULL THEN '[]'::jsonb
                        ELSE jsonb_build_array(jsonb_build_object('name', x.from_name, 'address', x.from_address)) END
                   || x."to" || x.cc
                 ) AS a
                 WHERE x.thread_id = u.id AND x.deleted_at IS NULL
                 ORDER BY a->>'address', (a->>'name') IS NULL, x.internal_date, x.id
               ) p
             ) AS participants
      FROM unnest(${pgArray(threadIds)}::bigint[]) AS u(id)
      LEFT JOIN email_messages m ON m.thread_id = u.id AND m.deleted_at IS NULL
      GROUP BY u.id
    ) s
    WHERE t.id = s.id
  `);
}

/**
 * The live threads a full listing did not write since it started (`since`, database time): listed
 * before it started and not since, so possibly deleted; each is checked with threads.get.
 */
export async function unlistedThreads(db: Db, connectionId: number, since: string): Promise<string[]> {
  const result = await db.execute(sql`
    SELECT provider_thread_id FROM email_threads
    WHERE connection_id = ${connectionId} AND deleted_at IS NULL AND updated_at < ${since}::timestamptz
    ORDER BY last_message_at DESC
  `);
  return (result.rows as { provider_thread_id: string }[]).map((r) => r.provider_thread_id);
}

/** The database's clock, as text to keep its microseconds. */
export async function databaseNow(db: Db): Promise<string> {
  const result = await db.execute(sql`SELECT now()::text AS now`);
  return (result.rows as { now: string }[])[0]!.now;
}

type DeletedRow = {
  provider_message_id: string;
  provider_thread_id: string;
};

function deletedRows(owner: Owner, rows: DeletedRow[], events: EventInput[]): number {
  for (const row of rows) {
    events.push({
      userId: owner.userId,
      connectionId: owner.id,
      type: 'email.deleted',
      providerId: row.provider_message_id,
      version: 'deleted',
      payload: { threadId: row.provider_thread_id, messageId: row.provider_message_id },
    });
  }
  return rows.length;
}

async function markInteractionsDeleted(tx: Tx, owner: Owner, messageIds: string[]): Promise<void> {
  if (messageIds.length === 0) return;
  await tx.execute(sql`
    UPDATE interactions SET deleted_at = now(), updated_at = now()
    WHERE user_id = ${owner.userId} AND source = 'email' AND source_id = ANY(${pgArray(messageIds)}::text[]) AND deleted_at IS NULL
  `);
}

function interactionOf(owner: Owner, m: NormalizedMessage): InteractionInput {
  return {
    userId: owner.userId,
    connectionId: owner.id,
    source: 'email',
    sourceId: m.providerMessageId,
    kind: 'email',
    occurredAt: m.internalDate,
    title: clean(m.subject),
    summary: clean(m.snippet) || null,
    participants: messageParticipants(m),
  };
}

function dedupeById<T extends { id: string }>(items: T[]): T[] {
  return [...new Map(items.map((item) => [item.id, item])).values()];
}

/** ON CONFLICT cannot touch a row twice in one statement. */
function dedupeMessages<T extends { message: NormalizedMessage }>(rows: T[]): T[] {
  return [...new Map(rows.map((r) => [r.message.providerMessageId, r])).values()];
}

/** A JS array as one bind parameter (node-postgres sends arrays as Postgres array literals). */
function pgArray(values: Array<string | number>) {
  return sql.param(values);
}
