import { and, asc, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../../db/client';
import { emailMessages, emailThreads } from '../../db/schema';
import { DomainError } from '../errors';
import { pageQuerySchema, keysetTime, newestFirst, toPage } from '../pagination';
import { containsPattern, isoInstant } from './query';

export const emailCategories = ['security', 'billing', 'calendar', 'support', 'promotion', 'other'] as const;

/** GET /api/emails: threads, newest message first. `subjectContains` is repeatable. */
export const emailListQuery = pageQuerySchema
  .extend({
    sender: z.email().max(254).transform((address) => address.toLowerCase()).optional(),
    subjectContains: z.array(z.string().min(1).max(100)).max(10).optional(),
    category: z.enum(emailCategories).optional(),
    after: isoInstant.optional(),
    before: isoInstant.optional(),
  })
  .refine((q) => !q.after || !q.before || q.after.at < q.before.at, {
    path: ['before'],
    message: 'must be later than after',
  });
export type EmailListQuery = z.infer<typeof emailListQuery>;

const { userId: _u, deletedAt: _d, historyId: _h, ...threadColumns } = getTableColumns(emailThreads);
export type ThreadView = Omit<typeof emailThreads.$inferSelect, 'userId' | 'deletedAt' | 'historyId'>;

/**
 * The caller's threads (deleted excluded), newest `last_message_at` first. Served by
 * email_threads_user_recent_idx (or _user_category_idx with a category); a selective sender or subject
 * term by the GIN indexes under user_id (_user_senders_idx, _subject_idx), whose matches are sorted. The
 * ORDER BY spells the btree indexes' NULLS LAST so they can deliver the order.
 */
export async function listThreads(db: Db, userId: string, query: EmailListQuery) {
  const keyset = newestFirst(emailThreads.lastMessageAt, emailThreads.id, query);
  const rows = await db
    .select({ ...threadColumns, keysetTime: keysetTime(emailThreads.lastMessageAt) })
    .from(emailThreads)
    .where(
      and(
        eq(emailThreads.userId, userId),
        isNull(emailThreads.deletedAt),
        query.sender ? sql`${emailThreads.senders} @> ARRAY[${query.sender}]::text[]` : undefined,
        query.subjectContains?.length
          ? sql`${emailThreads.subject} ILIKE ANY(${sql.param(query.subjectContains.map(containsPattern))}::text[])`
          : undefined,
        query.category ? eq(emailThreads.category, query.category) : undefined,
        query.after ? sql`${emailThreads.lastMessageAt} >= ${query.after.iso}::timestamptz` : undefined,
        query.before ? sql`${emailThreads.lastMessageAt} < ${query.before.iso}::timestamptz` : undefined,
        keyset.after,
      ),
    )
    .orderBy(...keyset.orderBy)
    .limit(keyset.limit);
  return toPage(rows, query.limit, ({ keysetTime: _k, ...thread }): ThreadView => thread);
}

const { userId: _mu, deletedAt: _md, threadId: _mt, connectionId: _mc, ...messageColumns } = getTableColumns(emailMessages);
export type MessageView = Omit<typeof emailMessages.$inferSelect, 'userId' | 'deletedAt' | 'threadId' | 'connectionId'>;

/** One of the caller's threads with its messages, oldest first (deleted ones excluded); one statement. */
export async function getThread(db: Db, userId: string, id: number): Promise<ThreadView & { messages: MessageView[] }> {
  const rows = await db
    .select({ thread: threadColumns, message: messageColumns })
    .from(emailThreads)
    .leftJoin(emailMessages, and(eq(emailMessages.threadId, emailThreads.id), isNull(emailMessages.deletedAt)))
    .where(and(eq(emailThreads.id, id), eq(emailThreads.userId, userId), isNull(emailThreads.deletedAt)))
    .orderBy(asc(emailMessages.internalDate), asc(emailMessages.id));
  const first = rows[0];
  if (!first) throw new DomainError('not_found', 'no such email thread');
  return { ...first.thread, messages: rows.flatMap((row) => (row.message ? [row.message] : [])) };
}
